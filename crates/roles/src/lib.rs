//! What an agent role is and where role definitions come from.
//!
//! A role is a name, a description, a system prompt, the tools it may use, and optionally a model,
//! a default security profile and limits. Eight roles are built in (Markdown files embedded in the
//! binary); users add their own as Markdown files with YAML front matter, and files written for
//! Claude Code, Gemini CLI and Codex load unchanged. This crate only reads and validates
//! definitions: it knows nothing of sessions, models or scheduling.
//!
//! Where role files are found, each directory read in file-name order, a later role replacing an
//! earlier one of the same name (names compare without regard to case):
//!
//! | level | format | directory |
//! |-------|--------|-----------|
//! | user | Codex (TOML) | `$CODEX_HOME/agents/*.toml`, else `~/.codex/agents` |
//! | user | Claude Code | `~/.claude/agents/*.md` |
//! | user | Gemini CLI | `~/.gemini/agents/*.md` |
//! | user | cadre | `$CADRE_HOME/agents/*.md` |
//! | project | Claude Code, Gemini CLI, cadre | the nearest `.claude/agents`, `.gemini/agents`, `.cadre/agents` from the working directory up to the repository root, only files the user trusted (`cadre_trust`) |
//!
//! ```
//! use cadre_roles::RoleCatalog;
//!
//! let catalog = RoleCatalog::builtin();
//! let security = catalog.get("security").expect("a built-in role");
//! assert_eq!(security.name, "Security");
//! let team = catalog.restrict(&["Backend,Tester".to_string()]).unwrap();
//! assert_eq!(team.roles().len(), 2);
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod builtin;
mod catalog;
mod fields;
mod formats;
mod front_matter;
mod parse;
mod tool_names;

pub use cadre_protocol::duration::format_duration;
pub use catalog::{RoleCatalog, RoleError};
pub use parse::parse_role_file;
pub use tool_names::CADRE_TOOLS;

use cadre_protocol::SecurityProfile;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// One role, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDefinition {
    pub name: String,
    pub description: String,
    /// cadre tool names the role may use; `None` means every tool.
    pub tools: Option<Vec<String>>,
    pub model: Option<String>,
    /// The role's default profile (a run's `--profile` caps it).
    pub profile: Option<SecurityProfile>,
    pub max_turns: Option<u32>,
    pub timeout: Option<Duration>,
    /// The body of the definition: instructions for the agent.
    pub system_prompt: String,
    pub source: RoleSource,
}

/// Where a definition came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSource {
    Builtin,
    File { path: PathBuf, format: RoleFormat },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleFormat {
    Cadre,
    ClaudeCode,
    GeminiCli,
    Codex,
}

/// A file that could not be loaded (the others still load), or a field that was ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleLoadProblem {
    pub path: PathBuf,
    /// The field concerned, when one is.
    pub field: Option<String>,
    pub message: String,
    /// True when the file was skipped; false for a notice (an ignored field).
    pub fatal: bool,
}

impl RoleFormat {
    /// The name shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleFormat::Cadre => "cadre",
            RoleFormat::ClaudeCode => "claude-code",
            RoleFormat::GeminiCli => "gemini-cli",
            RoleFormat::Codex => "codex",
        }
    }
}

impl fmt::Display for RoleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `built-in`, or the file's path.
impl fmt::Display for RoleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleSource::Builtin => f.write_str("built-in"),
            RoleSource::File { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// `file: field: message`.
impl fmt::Display for RoleLoadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path.display())?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}
