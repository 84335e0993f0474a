//! A rule: which commands it matches and what it decides for them.

use crate::evaluation::Decision;
use crate::shell::SimpleCommand;

/// Programs that fetch data from the network, whose output must not be run as code.
pub(crate) const DOWNLOADERS: &[&str] = &["curl", "wget", "fetch", "aria2c", "http", "https", "xh"];

/// True when a downloader's output reaches `command` (through a pipe or a substitution).
pub(crate) fn fed_by_downloader(command: &SimpleCommand) -> bool {
    command
        .fed_by
        .iter()
        .any(|program| DOWNLOADERS.contains(&program.as_str()))
}

/// How a rule recognises a command.
#[derive(Clone)]
pub(crate) enum Matcher {
    /// The program, then a prefix of the arguments; `*` matches any one word. A program with a
    /// `/` must equal the first word; otherwise it is compared with the program's base name.
    Prefix(Vec<String>),
    /// A built-in check: the program must be one of `programs` (any when empty) and `check`
    /// must accept the command.
    Builtin {
        programs: Vec<&'static str>,
        check: fn(&SimpleCommand) -> bool,
    },
}

#[derive(Clone)]
pub(crate) struct Rule {
    /// Shown to the user: `builtin:read-only:ls`, `project:allow-tests`.
    pub id: String,
    pub decision: Decision,
    pub reason: String,
    pub matcher: Matcher,
    /// When set, the rule only matches commands that do (true) or do not (false) write a file
    /// through a redirection. A rule with `Some(true)` allows the write itself.
    pub writes_file: Option<bool>,
    /// When set, the rule only matches commands that are (true) or are not (false) fed by a
    /// downloader.
    pub piped_from_downloader: Option<bool>,
    /// The command only runs another one (`time`, `bash -c`): its decision is that of what it
    /// runs, so the rule applies only when the parser found the inner command.
    pub transparent: bool,
}

impl Rule {
    pub fn matches(&self, command: &SimpleCommand) -> bool {
        if let Some(wanted) = self.writes_file
            && command.file_writes().next().is_some() != wanted
        {
            return false;
        }
        if let Some(wanted) = self.piped_from_downloader
            && fed_by_downloader(command) != wanted
        {
            return false;
        }
        match &self.matcher {
            Matcher::Prefix(pattern) => prefix_matches(pattern, command),
            Matcher::Builtin { programs, check } => {
                (programs.is_empty()
                    || command
                        .program()
                        .is_some_and(|program| programs.contains(&program)))
                    && check(command)
            }
        }
    }

    /// The pattern as written in a rule file, or a description of a built-in check.
    pub fn describe_pattern(&self) -> String {
        match &self.matcher {
            Matcher::Prefix(pattern) => format!("{pattern:?}"),
            Matcher::Builtin { programs, .. } if programs.is_empty() => {
                "(built-in check)".to_string()
            }
            Matcher::Builtin { programs, .. } => format!("{} (built-in check)", programs.join("|")),
        }
    }
}

fn prefix_matches(pattern: &[String], command: &SimpleCommand) -> bool {
    let Some((program_pattern, arg_patterns)) = pattern.split_first() else {
        return false;
    };
    let Some(first) = command.words.first() else {
        return false;
    };
    let program_matches = program_pattern == "*"
        || if program_pattern.contains('/') {
            first.literal && &first.text == program_pattern
        } else {
            command.program() == Some(program_pattern.as_str())
        };
    program_matches
        && arg_patterns.len() <= command.args().len()
        && arg_patterns
            .iter()
            .zip(command.args())
            .all(|(pattern, arg)| pattern == "*" || *pattern == arg.text)
}
