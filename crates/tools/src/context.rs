use async_trait::async_trait;
use cadre_protocol::{EventMsg, ExecStatus, FileChange};
use cadre_sandbox::Sandbox;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// What a tool may use while it runs.
#[derive(Clone)]
pub struct ToolContext {
    /// The session the call belongs to (sub-agents started by a tool link their transcripts
    /// to it).
    pub session_id: String,
    /// The session's working directory; relative paths in arguments resolve against it.
    pub cwd: PathBuf,
    pub sandbox: Arc<Sandbox>,
    /// Events for the front end (command begin/end, patch applied, plan updated).
    pub events: UnboundedSender<EventMsg>,
    /// Cancelled when the user interrupts the turn.
    pub cancel: CancellationToken,
    pub gate: Arc<dyn ActionGate>,
}

/// A command about to run, as the gate sees it.
#[derive(Debug, Clone)]
pub struct CommandAction {
    pub call_id: String,
    /// The argv that will be executed (`["bash", "-c", script]` for a string command).
    pub argv: Vec<String>,
    /// The command as written by the model, for display and policy matching.
    pub display: String,
    pub cwd: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateVerdict {
    Allow,
    /// Refused; the reason goes back to the model.
    Deny {
        reason: String,
    },
    /// Refused, and the turn must stop (the user chose to abort).
    Abort {
        reason: String,
    },
}

/// Approves actions before they happen and hears how they ended. The core implements it with
/// the command policy, the approval mode and the audit log; a refusal never runs anything.
#[async_trait]
pub trait ActionGate: Send + Sync {
    async fn before_command(&self, action: &CommandAction) -> GateVerdict;
    async fn after_command(
        &self,
        action: &CommandAction,
        status: ExecStatus,
        exit_code: Option<i32>,
        duration_ms: u64,
        output: &str,
    );
    async fn before_patch(&self, call_id: &str, changes: &[FileChange]) -> GateVerdict;
    async fn after_patch(&self, call_id: &str, changes: &[FileChange], success: bool);
}

/// A gate that lets everything through: for tests and the `trusted` profile with approval off.
pub struct AllowAll;

#[async_trait]
impl ActionGate for AllowAll {
    async fn before_command(&self, _action: &CommandAction) -> GateVerdict {
        GateVerdict::Allow
    }
    async fn after_command(
        &self,
        _: &CommandAction,
        _: ExecStatus,
        _: Option<i32>,
        _: u64,
        _: &str,
    ) {
    }
    async fn before_patch(&self, _call_id: &str, _changes: &[FileChange]) -> GateVerdict {
        GateVerdict::Allow
    }
    async fn after_patch(&self, _: &str, _: &[FileChange], _: bool) {}
}
