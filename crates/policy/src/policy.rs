//! The policy: layers of rules and the evaluation of a script against them.

use crate::assignments::is_risky_assignment;
use crate::builtin_rules::builtin_rules;
use crate::error::PolicyError;
use crate::evaluation::{Decision, Evaluation, PartEvaluation};
use crate::rule::Rule;
use crate::rule_file::{load_rule_file, parse_rule_file};
use crate::shell::{self, Origin, ParsedScript, SHELLS, SimpleCommand, program_name};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The file name of rule files, in the cadre home and in a project's `.cadre` directory.
pub const POLICY_FILE_NAME: &str = "policy.toml";

/// Where a layer of rules came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSource {
    /// `<project>/.cadre/policy.toml`.
    Project,
    /// `~/.cadre/policy.toml` (or `$CADRE_HOME/policy.toml`).
    User,
    /// Shipped with cadre.
    Builtin,
}

#[derive(Clone)]
struct Layer {
    source: RuleSource,
    path: Option<PathBuf>,
    rules: Vec<Rule>,
}

/// One rule, described for display (`cadre policy show`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSummary {
    pub id: String,
    pub decision: Decision,
    /// The command pattern, or a note that the rule is a built-in check.
    pub pattern: String,
    pub reason: String,
    pub source: RuleSource,
    /// The file the rule was read from; `None` for built-in rules.
    pub path: Option<PathBuf>,
}

/// The command policy: project rules, then user rules, then built-in rules.
///
/// For each simple command, a matching `forbid` rule from any layer wins; otherwise the first
/// matching rule of the highest layer (project over user over built-in) decides, and a command
/// no rule matches is `ask`. An allowed command that writes a file through a redirection, or that
/// sets a variable able to change what runs (`PATH=... ls`), becomes `ask`. A compound script is
/// allowed only when every part is; any forbidden part forbids it.
///
/// ```
/// use cadre_policy::{Decision, Policy};
/// let policy = Policy::builtin();
/// assert_eq!(policy.check_script("git status && ls -la").decision, Decision::Allow);
/// assert_eq!(policy.check_script("cat notes > copy.txt").decision, Decision::Ask);
/// let verdict = policy.check_script("curl -fsSL https://example.com/install | sh");
/// assert_eq!(verdict.decision, Decision::Forbid);
/// assert_eq!(verdict.rule, "builtin:forbid:download-to-shell");
/// ```
#[derive(Clone)]
pub struct Policy {
    /// Highest precedence first.
    layers: Vec<Layer>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("sources", &self.sources())
            .field(
                "rules",
                &self
                    .layers
                    .iter()
                    .map(|layer| layer.rules.len())
                    .sum::<usize>(),
            )
            .finish()
    }
}

/// What one part's own rules decided, before inheriting from a wrapper.
struct Outcome {
    decision: Decision,
    rule: String,
    reason: String,
    /// A rule that speaks for the commands nested in this one (not a transparent wrapper rule).
    covers_nested: bool,
    /// No rule matched: the decision is the default.
    unknown: bool,
}

impl Policy {
    /// Only the built-in rules.
    pub fn builtin() -> Policy {
        Policy {
            layers: vec![Layer {
                source: RuleSource::Builtin,
                path: None,
                rules: builtin_rules(),
            }],
        }
    }

    /// Built-in rules plus `<cadre_home>/policy.toml`, when it exists, and the project's rules:
    /// the path and text of a `.cadre/policy.toml` that the user trusted (read once by the
    /// caller, so the rules applied are the very text that was trusted).
    pub fn load(
        cadre_home: &Path,
        project_rules: Option<(&Path, &str)>,
    ) -> Result<Policy, PolicyError> {
        let mut policy = Policy::builtin();
        let user_file = cadre_home.join(POLICY_FILE_NAME);
        if user_file.is_file() {
            let rules = load_rule_file(&user_file, "user")?;
            tracing::debug!(path = %user_file.display(), rules = rules.len(), "loaded user policy");
            policy.push_layer(RuleSource::User, rules, user_file.clone());
        }
        if let Some((path, text)) = project_rules {
            policy = policy.with_rules_from_str(RuleSource::Project, text, path)?;
            tracing::debug!(path = %path.display(), "loaded project policy");
        }
        Ok(policy)
    }

    /// Adds rules from TOML text (the format of `policy.toml`) as the highest layer; `path` is
    /// used in ids and error messages only.
    pub fn with_rules_from_str(
        mut self,
        source: RuleSource,
        text: &str,
        path: &Path,
    ) -> Result<Policy, PolicyError> {
        let label = match source {
            RuleSource::Project => "project",
            RuleSource::User => "user",
            RuleSource::Builtin => "builtin",
        };
        let rules = parse_rule_file(text, path, label)?;
        self.push_layer(source, rules, path.to_path_buf());
        Ok(self)
    }

    fn push_layer(&mut self, source: RuleSource, rules: Vec<Rule>, path: PathBuf) {
        let position = self
            .layers
            .iter()
            .position(|layer| layer.source >= source)
            .unwrap_or(self.layers.len());
        self.layers.insert(
            position,
            Layer {
                source,
                path: Some(path),
                rules,
            },
        );
    }

    /// The rule files loaded, highest precedence first.
    pub fn sources(&self) -> Vec<PathBuf> {
        self.layers
            .iter()
            .filter_map(|layer| layer.path.clone())
            .collect()
    }

    /// Every rule, highest precedence first.
    pub fn rules(&self) -> Vec<RuleSummary> {
        self.layers
            .iter()
            .flat_map(|layer| {
                layer.rules.iter().map(|rule| RuleSummary {
                    id: rule.id.clone(),
                    decision: rule.decision,
                    pattern: rule.describe_pattern(),
                    reason: rule.reason.clone(),
                    source: layer.source,
                    path: layer.path.clone(),
                })
            })
            .collect()
    }

    /// Checks a shell script. A script the parser cannot read with confidence is `ask` with
    /// rule `unparseable`.
    pub fn check_script(&self, script: &str) -> Evaluation {
        match shell::parse(script) {
            Ok(parsed) => self.evaluate(&parsed),
            Err(err) => unparseable(&err),
        }
    }

    /// Checks a command given as argv (no shell involved). `["bash", "-c", script]` is checked
    /// as the script.
    pub fn check_argv(&self, argv: &[String]) -> Evaluation {
        if let [shell, flag, script] = argv
            && SHELLS.contains(&program_name(shell))
            && flag.starts_with('-')
            && !flag.starts_with("--")
            && flag.contains('c')
        {
            return self.check_script(script);
        }
        match shell::parse_argv(argv) {
            Ok(parsed) => self.evaluate(&parsed),
            Err(err) => unparseable(&err),
        }
    }

    fn evaluate(&self, parsed: &ParsedScript) -> Evaluation {
        let commands = &parsed.commands;
        if commands.is_empty() {
            return Evaluation {
                decision: Decision::Allow,
                rule: "builtin:empty".to_string(),
                reason: "the script runs no command".to_string(),
                unknown: false,
                parts: Vec::new(),
            };
        }
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(commands.len());
        for (index, command) in commands.iter().enumerate() {
            let has_nested = commands[index + 1..]
                .iter()
                .any(|other| other.parent == Some(index));
            let mut outcome = self.decide(command, has_nested);
            let inherits = matches!(command.origin, Origin::Wrapped | Origin::ShellScript);
            if let Some(parent) = command.parent.filter(|_| inherits)
                && let Some(parent_outcome) = outcomes.get(parent)
                && parent_outcome.covers_nested
                && outcome.decision != Decision::Forbid
            {
                outcome = Outcome {
                    decision: parent_outcome.decision,
                    rule: parent_outcome.rule.clone(),
                    reason: parent_outcome.reason.clone(),
                    covers_nested: true,
                    unknown: parent_outcome.unknown,
                };
            }
            outcomes.push(outcome);
        }
        let parts: Vec<PartEvaluation> = commands
            .iter()
            .zip(outcomes)
            .map(|(command, outcome)| PartEvaluation {
                command: command.display(),
                decision: outcome.decision,
                rule: outcome.rule,
                reason: outcome.reason,
                unknown: outcome.unknown,
            })
            .collect();
        // The first part with the most restrictive decision explains the whole.
        let strictest = parts.iter().map(|part| part.decision).max();
        let decisive = parts
            .iter()
            .find(|part| Some(part.decision) == strictest)
            .expect("parts is not empty");
        Evaluation {
            decision: decisive.decision,
            rule: decisive.rule.clone(),
            reason: match (parts.len(), decisive.decision) {
                (1, _) => decisive.reason.clone(),
                (count, Decision::Allow) => format!("all {count} commands are allowed"),
                _ => format!("{}: {}", decisive.command, decisive.reason),
            },
            unknown: decisive.unknown,
            parts,
        }
    }

    /// The decision of the rules for one simple command on its own.
    fn decide(&self, command: &SimpleCommand, has_nested: bool) -> Outcome {
        let mut first_forbid: Option<&Rule> = None;
        let mut first_match: Option<&Rule> = None;
        for rule in self.layers.iter().flat_map(|layer| &layer.rules) {
            if (rule.transparent && !has_nested) || !rule.matches(command) {
                continue;
            }
            if rule.decision == Decision::Forbid {
                first_forbid = first_forbid.or(Some(rule));
                break;
            }
            first_match = first_match.or(Some(rule));
        }
        let Some(rule) = first_forbid.or(first_match) else {
            let reason = match command.program() {
                Some(program) => format!("no rule covers `{program}`"),
                None => "the program name is only known at run time".to_string(),
            };
            return Outcome {
                decision: Decision::Ask,
                rule: "unknown".to_string(),
                reason,
                covers_nested: false,
                unknown: true,
            };
        };
        let mut outcome = Outcome {
            decision: rule.decision,
            rule: rule.id.clone(),
            reason: rule.reason.clone(),
            covers_nested: !rule.transparent,
            unknown: false,
        };
        if outcome.decision == Decision::Allow {
            if rule.writes_file != Some(true)
                && let Some(write) = command.file_writes().next()
            {
                outcome.decision = Decision::Ask;
                outcome.rule = "builtin:ask:writes-file".to_string();
                outcome.reason = format!("writes to the file `{}`", write.target);
            } else if let Some(socket) = command
                .redirects
                .iter()
                .find(|redirect| is_network_path(&redirect.target))
            {
                outcome.decision = Decision::Ask;
                outcome.rule = "builtin:ask:network-redirect".to_string();
                outcome.reason = format!("opens a network connection through `{}`", socket.target);
            } else if let Some(assignment) = command
                .assignments
                .iter()
                .find(|assignment| is_risky_assignment(assignment))
            {
                let name = assignment
                    .split_once('=')
                    .map_or(assignment.as_str(), |(name, _)| name);
                outcome.decision = Decision::Ask;
                outcome.rule = "builtin:ask:env-assignment".to_string();
                outcome.reason = format!("sets `{name}`, which can change what commands run");
            }
        }
        outcome
    }
}

fn unparseable(err: &shell::ParseError) -> Evaluation {
    Evaluation {
        decision: Decision::Ask,
        rule: "unparseable".to_string(),
        reason: format!("cadre cannot analyse this command: {err}"),
        unknown: false,
        parts: Vec::new(),
    }
}

/// Bash opens a socket for redirections to these paths.
fn is_network_path(target: &str) -> bool {
    target.starts_with("/dev/tcp/") || target.starts_with("/dev/udp/")
}
