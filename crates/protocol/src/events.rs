//! Events a session emits while it works. Every front end renders the same stream.

use crate::items::{IncompleteReason, TokenUsage};
use crate::security::{ApprovalMode, SecurityProfile};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One event, stamped with the agent that produced it (the top-level agent has none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(flatten)]
    pub msg: EventMsg,
}

impl Event {
    pub fn new(msg: EventMsg) -> Self {
        Event {
            agent_id: None,
            msg,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventMsg {
    /// The session is ready; sent once, first.
    SessionConfigured {
        session_id: String,
        model: String,
        provider: String,
        profile: SecurityProfile,
        approval_mode: ApprovalMode,
        cwd: PathBuf,
        transcript_path: PathBuf,
        resumed: bool,
    },
    TurnStarted {
        turn_id: String,
    },
    AgentMessageDelta {
        item_id: String,
        delta: String,
    },
    AgentMessage {
        item_id: String,
        text: String,
    },
    ReasoningDelta {
        item_id: String,
        delta: String,
    },
    Reasoning {
        item_id: String,
        text: String,
    },
    ExecCommandBegin {
        call_id: String,
        command: String,
        cwd: PathBuf,
    },
    ExecCommandOutputDelta {
        call_id: String,
        chunk: String,
    },
    ExecCommandEnd {
        call_id: String,
        command: String,
        exit_code: Option<i32>,
        /// Output as the model sees it (capped, head and tail kept).
        output: String,
        duration_ms: u64,
        status: ExecStatus,
    },
    PatchApplyBegin {
        call_id: String,
        changes: Vec<FileChange>,
    },
    PatchApplyEnd {
        call_id: String,
        changes: Vec<FileChange>,
        success: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A tool other than shell and apply_patch was called (read_file, grep, ...).
    ToolCallBegin {
        call_id: String,
        tool: String,
        arguments: serde_json::Value,
    },
    ToolCallEnd {
        call_id: String,
        tool: String,
        success: bool,
        /// What the tool returned to the model (already capped by the tool).
        #[serde(default)]
        output: String,
    },
    /// A call the model made was not run because its arguments are not valid JSON (often an
    /// answer cut off by the output token limit). The model is told, and the turn goes on.
    ToolCallInvalid {
        call_id: String,
        tool: String,
        /// The parser's complaint, e.g. "EOF while parsing a string at line 1 column 17".
        error: String,
    },
    /// The model's answer stopped before it was finished.
    ResponseIncomplete {
        reason: IncompleteReason,
        /// The output cap that was sent, when one was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_output_tokens: Option<u64>,
    },
    PlanUpdate {
        call_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        explanation: Option<String>,
        plan: Vec<PlanItem>,
    },
    /// A command needs a decision; answer with [`crate::Op::ApprovalDecision`].
    ApprovalRequest {
        request_id: String,
        call_id: String,
        command: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    /// How an approval was settled, by a person or by the approval mode.
    ApprovalResolved {
        request_id: String,
        decision: ReviewDecision,
        by: String,
    },
    /// A model request failed transiently and will be retried.
    StreamRetry {
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        reason: String,
    },
    TokenCount {
        last: TokenUsage,
        total: TokenUsage,
    },
    Warning {
        message: String,
    },
    Error {
        message: String,
    },
    TurnComplete {
        turn_id: String,
        usage: TokenUsage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_agent_message: Option<String>,
    },
    /// The turn was stopped by the user (Ctrl-C) or a limit.
    TurnAborted {
        turn_id: String,
        reason: AbortReason,
        usage: TokenUsage,
    },
    TurnFailed {
        turn_id: String,
        error: String,
        usage: TokenUsage,
    },
    ShutdownComplete,
}

/// Why a turn stopped before the model was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AbortReason {
    /// The user interrupted it (Ctrl-C or a stop signal).
    Interrupted,
    /// The turn's wall-clock limit (`limits.turn_timeout_secs`) was reached.
    TimeLimit { seconds: u64 },
    /// The turn made the most model calls one turn may (`limits.max_model_calls_per_turn`).
    ModelCallLimit { calls: u32 },
    /// The model's tool calls were cut off by the output cap (`model_max_output_tokens`) twice
    /// in a row: a third try would not fit either.
    OutputLimit { max_output_tokens: u64 },
    /// A tool stopped the turn (the user stopped it at an approval, say).
    Tool { message: String },
}

impl std::fmt::Display for AbortReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AbortReason::Interrupted => f.write_str("interrupted by the user"),
            AbortReason::TimeLimit { seconds } => {
                write!(f, "time limit reached ({seconds}s per turn)")
            }
            AbortReason::ModelCallLimit { calls } => write!(
                f,
                "limit reached: {calls} model calls in one turn (raise limits.max_model_calls_per_turn)"
            ),
            AbortReason::OutputLimit { max_output_tokens } => write!(
                f,
                "the model's tool calls were cut off by the output limit ({max_output_tokens} tokens) twice in a row; raise model_max_output_tokens"
            ),
            AbortReason::Tool { message } => f.write_str(message),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecStatus {
    Completed,
    Failed,
    /// Refused by the command policy or the approval mode; it never ran.
    Declined,
    TimedOut,
    Interrupted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileChangeKind {
    Add,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: PathBuf,
    pub kind: FileChangeKind,
    /// Set when an update also renames the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_path: Option<PathBuf>,
    /// Size of the new content in bytes (0 for a delete).
    #[serde(default)]
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    InProgress,
    Completed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    pub step: String,
    pub status: StepStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approved,
    /// Approved for this and identical commands for the rest of the session.
    ApprovedForSession,
    Denied,
    /// Denied, and the turn stops.
    Abort,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_serialises_with_flat_type_tag() {
        let ev = Event {
            agent_id: Some("a1".into()),
            msg: EventMsg::TurnStarted {
                turn_id: "t".into(),
            },
        };
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"agent_id": "a1", "type": "turn_started", "turn_id": "t"})
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, ev);
    }
}
