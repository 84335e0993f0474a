//! The supervisor: turns a goal into a plan of tasks, runs each task as a real agent session of
//! the core under the run's limits and profile ceiling, and merges the results with facts taken
//! from the sessions themselves.
#![deny(clippy::print_stdout, clippy::print_stderr)]
