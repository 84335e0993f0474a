//! The outcome of checking a command: a decision, the rule that produced it, and one entry per
//! simple command for compound scripts.

use serde::Serialize;

/// What cadre does with a command: one definition, in `cadre_protocol`, for the policy, the
/// gate and every front end.
pub use cadre_protocol::PolicyDecision as Decision;

/// The decision for a whole command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// Id of the rule behind the decision (`builtin:forbid:rm-root`, `project:allow-tests`,
    /// `unparseable`, `unknown`...).
    pub rule: String,
    /// Why, in words a user can act on.
    pub reason: String,
    /// No rule covers the command: the decision is the default `ask` (as opposed to a rule
    /// that says `ask`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
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
    /// No rule covers this command.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
}
