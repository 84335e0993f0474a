//! The tools an agent can call, each behind the [`Tool`] trait.
//!
//! A tool receives the model's JSON arguments and a [`ToolContext`] (working directory, sandbox,
//! event sink, cancellation, and the [`ActionGate`] that approves commands and file changes), and
//! returns the text the model will read. This crate knows nothing of models, transcripts or
//! configuration files; the core decides which tools a session offers and wires the gate to its
//! command policy, approvals and audit log.
//!
//! ```
//! let registry = cadre_tools::default_registry();
//! let names: Vec<String> = registry.specs().into_iter().map(|s| s.name).collect();
//! assert!(names.contains(&"apply_patch".to_string()));
//! assert!(registry.is_read_only("grep"));
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod apply_patch;
mod arguments;
mod call_events;
mod context;
mod grep;
mod list_dir;
pub mod output_cap;
mod paths;
mod read_file;
mod registry;
pub mod schema;
mod shell;
mod update_plan;

pub use apply_patch::{
    ApplyPatchTool, Hunk, HunkLine, Patch, PatchOperation, PatchParseError, affected_paths,
    parse_patch,
};
pub use context::{ActionGate, AllowAll, CommandAction, GateVerdict, ToolContext};
pub use grep::GrepTool;
pub use list_dir::ListDirTool;
pub use read_file::ReadFileTool;
pub use registry::{Tool, ToolCall, ToolRegistry, ToolResult};
pub use shell::ShellTool;
pub use update_plan::UpdatePlanTool;

use std::sync::Arc;

/// Every built-in tool: shell, apply_patch, read_file, list_dir, grep and update_plan.
pub fn default_registry() -> ToolRegistry {
    let mut registry = ToolRegistry::new();
    registry.register(Arc::new(ShellTool));
    registry.register(Arc::new(ApplyPatchTool));
    registry.register(Arc::new(ReadFileTool));
    registry.register(Arc::new(ListDirTool));
    registry.register(Arc::new(GrepTool));
    registry.register(Arc::new(UpdatePlanTool));
    registry
}
