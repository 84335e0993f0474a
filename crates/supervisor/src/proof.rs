//! The proof rules: a final message is checked against the facts the supervisor took from the
//! session (commands with exit codes, files changed, tool calls). Three rules, no more:
//!
//! 1. A message that says the tests pass while the last test command the agent ran failed.
//! 2. A message that names a file as created (or added, written) that no change touched.
//! 3. A message that reports work done (fixed, implemented, ran, changed...) from an agent that
//!    made no tool call at all.
//!
//! Any of them marks the result `verified: false` with the reason.

use crate::report::{CommandRun, FileChanged};
use regex::Regex;
use std::sync::LazyLock;

static TESTS_PASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(all\s+)?(the\s+)?tests?\s+(now\s+)?(pass|passed|passing|succeed|succeeded|are green|green)\b|\btests?\s+suite\s+passes\b")
        .expect("regex")
});
static TEST_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\btest\b|\btests\b|pytest|jest|vitest|mocha|rspec|phpunit|ctest|nextest|unittest)",
    )
    .expect("regex")
});
static CREATED_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:created|added|wrote|write|new file)\s+(?:a\s+|the\s+)?(?:new\s+)?(?:file\s+)?[`'\x22]?([\w./-]+\.[A-Za-z0-9]+)[`'\x22]?")
        .expect("regex")
});
static WORK_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(i|i've|i have|we|we've)\s+(have\s+)?(fixed|implemented|ran|run|created|updated|modified|added|changed|wrote|written|refactored|tested|edited|removed|deleted|installed)\b")
        .expect("regex")
});

/// `None` when the message agrees with the facts, else why it does not.
pub fn check(
    message: Option<&str>,
    commands: &[CommandRun],
    files: &[FileChanged],
    tool_calls: u64,
) -> Option<String> {
    let message = message?;
    if TESTS_PASS.is_match(message)
        && let Some(last) = commands
            .iter()
            .rev()
            .find(|c| TEST_COMMAND.is_match(&c.command))
        && last.exit_code != Some(0)
    {
        return Some(format!(
            "the message says the tests pass, but the last test command `{}` exited with {}",
            last.command,
            last.exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "no status (killed)".into())
        ));
    }
    for capture in CREATED_FILE.captures_iter(message) {
        let named = capture[1].trim_start_matches("./");
        let touched = files
            .iter()
            .any(|f| f.path == named || f.path.ends_with(&format!("/{named}")));
        if !touched {
            return Some(format!(
                "the message says `{named}` was created, but no change touched it"
            ));
        }
    }
    if tool_calls == 0 && WORK_CLAIM.is_match(message) {
        return Some("the message reports work, but the agent made no tool call".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(command: &str, exit_code: i32) -> CommandRun {
        CommandRun {
            command: command.into(),
            exit_code: Some(exit_code),
        }
    }

    fn file(path: &str) -> FileChanged {
        FileChanged {
            path: path.into(),
            added: 1,
            removed: 0,
        }
    }

    #[test]
    fn tests_pass_claim_against_the_last_test_run() {
        let failed = [cmd("cargo test", 0), cmd("cargo test", 101)];
        let reason = check(Some("Done: all tests pass."), &failed, &[], 2).unwrap();
        assert!(reason.contains("`cargo test` exited with 101"), "{reason}");
        let fixed = [cmd("cargo test", 101), cmd("cargo test", 0)];
        assert_eq!(check(Some("All tests pass."), &fixed, &[], 2), None);
        // No claim, no contradiction.
        assert_eq!(check(Some("One test fails."), &failed, &[], 2), None);
    }

    #[test]
    fn created_file_must_be_changed() {
        let reason = check(Some("I created `src/new.rs`."), &[], &[], 1).unwrap();
        assert!(reason.contains("src/new.rs"), "{reason}");
        assert_eq!(
            check(
                Some("I created `src/new.rs`."),
                &[],
                &[file("src/new.rs")],
                1
            ),
            None
        );
        assert_eq!(
            check(Some("Created new.rs"), &[], &[file("crate/src/new.rs")], 1),
            None
        );
    }

    #[test]
    fn work_claims_need_a_tool_call() {
        let reason = check(Some("I have fixed the bug."), &[], &[], 0).unwrap();
        assert!(reason.contains("no tool call"), "{reason}");
        assert_eq!(check(Some("I have fixed the bug."), &[], &[], 3), None);
        assert_eq!(check(Some("The code looks fine."), &[], &[], 0), None);
    }
}
