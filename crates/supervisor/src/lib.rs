//! The supervisor: turns a goal into a plan of tasks, runs each task as a real agent session of
//! the core under the run's limits and profile ceiling, and merges the results with facts taken
//! from the sessions themselves.
//!
//! It uses the core only through its public interface (`spawn`, ops in, events out, `Config`)
//! and the model client for the planning and judging calls. It knows nothing of terminals or
//! output formats: progress leaves as [`SupervisorEvent`]s and the outcome as a [`RunReport`].
//! Role definitions come from `cadre-roles`; where they are loaded from is the caller's concern.
//!
//! The modules, in the order a run uses them: [`plan`] (the plan and its rules), [`planner`]
//! (the `submit_plan` call), [`run`] (scheduling), [`agent`] (one watched session), [`worktree`]
//! (git isolation and change accounting), [`proof`] (checking claims against facts), [`merge`]
//! (voting and judging), [`report`] (results). [`spawn_tool`] gives `cadre exec` delegation.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod agent;
pub mod events;
pub mod limits;
pub mod merge;
pub mod plan;
pub mod planner;
pub mod proof;
pub mod report;
pub mod run;
pub mod spawn_tool;
pub mod worktree;

pub use agent::SessionParts;
pub use cadre_tools::ToolRegistry;
pub use events::{EventSink, SupervisorEvent};
pub use limits::{Limits, RunControl};
pub use merge::MergeStrategy;
pub use plan::{Plan, Strategy, TaskSpec};
pub use report::{RunReport, TaskResult, TaskStatus};
pub use run::{SupervisorOptions, make_plan, run};
pub use spawn_tool::{DelegationLimits, SpawnAgentTool, exec_tools};

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("{0}")]
    Planner(String),
    #[error("the plan is invalid:\n- {}\nthe plan was:\n{plan}", problems.join("\n- "))]
    InvalidPlan { problems: Vec<String>, plan: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
