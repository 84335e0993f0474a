//! The command policy: decides, for a shell command chosen by a model, whether cadre runs it
//! (`allow`), asks the user first (`ask`) or refuses (`forbid`), and names the rule behind the
//! decision. It owns a parser for the bash that models write ([`shell`]), the built-in rules, and
//! the loading of user and project rule files (format below).
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
//!
//! # Rule files
//!
//! cadre reads `$CADRE_HOME/policy.toml` (by default `~/.cadre/policy.toml`) and the project's
//! `.cadre/policy.toml`, which the caller finds and hands over only once the user has trusted
//! its content (`cadre_trust`); this crate reads no project directory itself. Project rules take
//! precedence over user rules, which take precedence over the built-in ones; within a file the
//! first matching rule wins; a matching `forbid` rule from any source always wins, so no file can
//! lift a built-in `forbid`.
//!
//! A rule file holds any number of `[[rule]]` tables, tried in order:
//!
//! ```toml
//! [[rule]]
//! id = "allow-cargo-test"         # optional; defaults to "rule-N" (N counts from 1 in the file)
//! decision = "allow"              # "allow", "ask" or "forbid"
//! command = ["cargo", "test"]     # program, then a prefix of the arguments;
//!                                 # "*" matches any one word
//! reason = "tests are safe here"  # optional; shown with the decision
//! writes_file = true              # optional; match only commands that do (true) or do not
//!                                 # (false) redirect output into a file. Without `true`, an
//!                                 # allowed command that writes a file is asked about.
//! piped_from_downloader = false   # optional; match only commands that are (true) or are not
//!                                 # (false) fed by curl, wget and the like
//! ```
//!
//! The program is compared with the command's base name (`/usr/bin/git` matches `"git"`) unless
//! it contains a `/`. Extra arguments after the prefix are allowed: `["cargo", "test"]` matches
//! `cargo test -p cadre-policy`. Shown ids are prefixed with the file's layer: `user:` or
//! `project:`. Unknown keys and wrong types are errors ([`PolicyError::Invalid`] names the
//! file, the line and the key).

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod assignments;
mod builtin_rules;
mod error;
mod evaluation;
mod policy;
mod rule;
mod rule_file;
pub mod shell;

pub use error::PolicyError;
pub use evaluation::{Decision, Evaluation, PartEvaluation};
pub use policy::{POLICY_FILE_NAME, Policy, RuleSource, RuleSummary};
