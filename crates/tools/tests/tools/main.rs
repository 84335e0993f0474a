//! Integration tests: the real tools against a temporary workspace, a real sandbox and a gate
//! that records what it was asked.

mod apply_patch;
mod files;
mod shell;
mod support;
