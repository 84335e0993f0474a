//! The JSON a command that was asked for JSON (`supervisor --format json`, `deep-research
//! --format json`) prints on stdout when it fails before it has a result, so a script reading
//! stdout always gets one document. The exit code stays non-zero; stderr still has the message.

use serde::Serialize;
use std::io::Write;

/// `{"status": "failed", "command": "supervisor", "error": {"message": ..., "causes": [...]}}`.
#[derive(Debug, Serialize)]
pub struct CommandFailure {
    pub status: FailureStatus,
    pub command: &'static str,
    pub error: FailureError,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureStatus {
    Failed,
}

#[derive(Debug, Serialize)]
pub struct FailureError {
    /// What went wrong, in one sentence.
    pub message: String,
    /// The chain of underlying errors, outermost first (may be empty).
    pub causes: Vec<String>,
}

impl CommandFailure {
    pub fn new(command: &'static str, error: &anyhow::Error) -> Self {
        CommandFailure {
            status: FailureStatus::Failed,
            command,
            error: FailureError {
                message: error.to_string(),
                causes: error
                    .chain()
                    .skip(1)
                    .map(|cause| cause.to_string())
                    .collect(),
            },
        }
    }
}

/// Prints the failure of `command` as one JSON document on stdout.
pub fn print(command: &'static str, error: &anyhow::Error) {
    let mut out = std::io::stdout().lock();
    if serde_json::to_writer_pretty(&mut out, &CommandFailure::new(command, error)).is_ok() {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}
