//! The core's view of the audit log: what it records and when.

use async_trait::async_trait;
use cadre_protocol::{ExecStatus, FileChange, SecurityProfile};
use std::path::PathBuf;

/// A command as decided by the gate.
#[derive(Debug, Clone)]
pub struct CommandRecord {
    pub call_id: String,
    pub argv: Vec<String>,
    pub display: String,
    pub cwd: PathBuf,
    pub profile: SecurityProfile,
    pub decision: String,
    pub rule: String,
    pub approval_asked: bool,
    pub approval_answer: Option<String>,
    pub allowed: bool,
}

#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Recorded durably (written and flushed) before the command may start.
    async fn command_decided(&self, record: &CommandRecord) -> Result<(), String>;
    async fn command_finished(
        &self,
        record: &CommandRecord,
        status: ExecStatus,
        exit_code: Option<i32>,
        duration_ms: u64,
    );
    /// Recorded durably before any file is written.
    async fn file_change(&self, call_id: &str, changes: &[FileChange]) -> Result<(), String>;
}

/// No audit log (`audit.enabled = false`).
pub struct NoAudit;

#[async_trait]
impl AuditSink for NoAudit {
    async fn command_decided(&self, _: &CommandRecord) -> Result<(), String> {
        Ok(())
    }
    async fn command_finished(&self, _: &CommandRecord, _: ExecStatus, _: Option<i32>, _: u64) {}
    async fn file_change(&self, _: &str, _: &[FileChange]) -> Result<(), String> {
        Ok(())
    }
}
