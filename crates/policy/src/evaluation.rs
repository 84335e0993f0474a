//! The outcome of checking a command: a decision, the rule that produced it, and one entry per
//! simple command for compound scripts.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What cadre does with a command. Ordered from least to most restrictive, so the decision for a
/// compound command is the maximum of its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Run without asking.
    Allow,
    /// Ask the user first.
    Ask,
    /// Never run.
    Forbid,
}

impl Decision {
    /// The lowercase name used in rule files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Ask => "ask",
            Decision::Forbid => "forbid",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision for a whole command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// Id of the rule behind the decision (`builtin:forbid:rm-root`, `project:allow-tests`,
    /// `unparseable`, `unknown`...).
    pub rule: String,
    /// Why, in words a user can act on.
    pub reason: String,
    /// One entry per simple command found in the script, in the parser's order.
    pub parts: Vec<PartEvaluation>,
}

/// The decision for one simple command of a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartEvaluation {
    /// The command as it would be written (quotes normalised).
    pub command: String,
    pub decision: Decision,
    pub rule: String,
    pub reason: String,
}
