//! The command policy: decides, for a shell command chosen by a model, whether cadre runs it
//! (`allow`), asks the user first (`ask`) or refuses (`forbid`), and names the rule behind the
//! decision. It owns a parser for the bash that models write ([`shell`]), the built-in rules, and
//! the loading of user and project rule files (format in [`rule_file`]'s docs).
//!
//! It is a layer of judgement, not enforcement: the kernel sandbox confines whatever runs. This
//! crate runs nothing, prints nothing and knows nothing of the sandbox, the agent or the UI.
//!
//! ```
//! use cadre_policy::{Decision, Policy};
//! let policy = Policy::builtin();
//! let verdict = policy.check_script("rm -rf / && echo done");
//! assert_eq!(verdict.decision, Decision::Forbid);
//! assert_eq!(verdict.rule, "builtin:forbid:rm-root");
//! assert_eq!(verdict.parts.len(), 2);
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod assignments;
mod builtin_rules;
mod error;
mod evaluation;
mod policy;
mod rule;
pub mod rule_file;
pub mod shell;

pub use error::PolicyError;
pub use evaluation::{Decision, Evaluation, PartEvaluation};
pub use policy::{POLICY_FILE_NAME, Policy, RuleSource, RuleSummary};
