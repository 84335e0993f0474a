//! The core's view of the audit log: what it records and when. Records that authorise an action
//! (a command about to run, a file about to change) are on disk before the action proceeds.

use async_trait::async_trait;
use cadre_audit::{
    ApprovalAnswer, AuditEvent, AuditLog, CommandDecided, CommandEnd, Decision, FilesLoaded,
    PolicyDecision, SessionIds,
};
use cadre_protocol::{
    ApprovalMode, ExecStatus, FileChange, FileChangeKind, ReviewDecision, SecurityProfile,
    TokenUsage,
};
use std::path::PathBuf;
use std::sync::Arc;

/// A command as decided by the gate.
#[derive(Debug, Clone)]
pub struct CommandRecord {
    pub call_id: String,
    pub argv: Vec<String>,
    pub display: String,
    pub cwd: PathBuf,
    pub profile: SecurityProfile,
    pub decision: crate::gate::PolicyDecision,
    pub rule: String,
    /// The answer when approval was needed, and whether a person gave it.
    pub approval: Option<(ReviewDecision, bool)>,
    pub allowed: bool,
}

/// Who a session is, for its first records.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session_id: String,
    pub agent_id: String,
    pub parent_agent_id: Option<String>,
    pub profile: SecurityProfile,
    pub approval: ApprovalMode,
    pub model: String,
    pub provider: String,
    pub cwd: PathBuf,
    pub config_files: Vec<PathBuf>,
}

/// Why a record that authorises an action is not on disk (so the action must not happen under
/// a restricted profile).
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditWriteError {
    /// The log could not be opened when the work started; the reason says why.
    #[error("{0}")]
    Unavailable(String),
    /// Writing or flushing the record failed.
    #[error(transparent)]
    Failed(Arc<cadre_audit::AuditError>),
}

/// What the core records. The records that authorise an action return whether they were
/// written; the rest are informational, and a sink that keeps no log ignores them.
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// A sink whose records carry this session's ids; records the session's start.
    async fn start_session(&self, info: &SessionInfo) -> Arc<dyn AuditSink>;
    /// Recorded durably (written and flushed) before the command may start.
    async fn command_decided(&self, record: &CommandRecord) -> Result<(), AuditWriteError>;
    /// Recorded durably before any file is written.
    async fn file_change(
        &self,
        call_id: &str,
        changes: &[FileChange],
    ) -> Result<(), AuditWriteError>;
    async fn end_session(&self, _status: &str, _usage: TokenUsage) {}
    async fn command_finished(
        &self,
        _record: &CommandRecord,
        _status: ExecStatus,
        _exit_code: Option<i32>,
        _duration_ms: u64,
        _output: &str,
    ) {
    }
    /// A network request cadre makes itself (the model provider, say). Only queued, so it may
    /// be called from synchronous code (progress callbacks).
    fn network_request(&self, _host: &str, _port: Option<u16>, _purpose: &str) {}
    /// A network request cadre refused to make itself (a host not on the allowlist).
    fn network_refused(&self, _host: &str, _port: Option<u16>, _reason: &str) {}
    /// A decision of the sandbox's network proxy about a command's request.
    async fn proxy_decision(&self, _decision: &cadre_sandbox::ProxyDecision) {}
    /// A sub-agent started or stopped (recorded by the agent that runs it).
    async fn agent_started(&self, _agent_id: &str, _role: &str, _profile: SecurityProfile) {}
    async fn agent_stopped(&self, _agent_id: &str, _status: &str, _usage: TokenUsage) {}
}

/// Records a request cadre makes to a model provider at `base_url`.
pub fn record_model_request(audit: &dyn AuditSink, base_url: &str, purpose: &str) {
    record_request(audit, base_url, purpose);
}

/// The host and port of a network URL; `None` for anything else (`file:` sources, say).
fn network_target(url: &str) -> Option<(String, Option<u16>)> {
    let url = url::Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| {
        (
            url.host_str().unwrap_or_default().to_string(),
            url.port_or_known_default(),
        )
    })
}

/// Records a request cadre makes to `url` (ignored unless it is a network URL).
pub fn record_request(audit: &dyn AuditSink, url: &str, purpose: &str) {
    if let Some((host, port)) = network_target(url) {
        audit.network_request(&host, port, purpose);
    }
}

/// Records a request to `url` that cadre refused to make (ignored unless it is a network URL).
pub fn record_refused_request(audit: &dyn AuditSink, url: &str, reason: &str) {
    if let Some((host, port)) = network_target(url) {
        audit.network_refused(&host, port, reason);
    }
}

/// No audit log (`audit.enabled = false`).
pub struct NoAudit;

#[async_trait]
impl AuditSink for NoAudit {
    async fn start_session(&self, _: &SessionInfo) -> Arc<dyn AuditSink> {
        Arc::new(NoAudit)
    }
    async fn command_decided(&self, _: &CommandRecord) -> Result<(), AuditWriteError> {
        Ok(())
    }
    async fn file_change(&self, _: &str, _: &[FileChange]) -> Result<(), AuditWriteError> {
        Ok(())
    }
}

/// An audit log that could not be opened: every durable record fails with the reason, so
/// restricted profiles refuse to act and `trusted` warns.
pub struct BrokenAudit {
    pub reason: String,
}

#[async_trait]
impl AuditSink for BrokenAudit {
    async fn start_session(&self, _: &SessionInfo) -> Arc<dyn AuditSink> {
        Arc::new(BrokenAudit {
            reason: self.reason.clone(),
        })
    }
    async fn command_decided(&self, _: &CommandRecord) -> Result<(), AuditWriteError> {
        Err(AuditWriteError::Unavailable(self.reason.clone()))
    }
    async fn file_change(&self, _: &str, _: &[FileChange]) -> Result<(), AuditWriteError> {
        Err(AuditWriteError::Unavailable(self.reason.clone()))
    }
}

/// The real, tamper-evident log.
pub struct AuditLogSink {
    log: AuditLog,
    policy_files: Vec<PathBuf>,
}

impl AuditLogSink {
    pub fn new(log: AuditLog, policy_files: Vec<PathBuf>) -> Self {
        AuditLogSink { log, policy_files }
    }

    fn record_own_request(&self, host: &str, port: Option<u16>, decision: Decision, why: &str) {
        self.log
            .record(AuditEvent::Network(cadre_audit::NetworkAccess {
                host: host.to_string(),
                port,
                origin: cadre_audit::NetworkOrigin::Cadre,
                decision,
                reason: Some(why.to_string()),
            }));
    }
}

fn paths(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|p| p.display().to_string()).collect()
}

fn tokens(usage: TokenUsage) -> Option<cadre_audit::TokenUsage> {
    Some(cadre_audit::TokenUsage {
        input: usage.input_tokens,
        output: usage.output_tokens,
    })
}

/// Messages by which a confined command shows that the kernel refused it something.
fn looks_denied(output: &str) -> bool {
    [
        "Permission denied",
        "Operation not permitted",
        "Read-only file system",
        "Network is unreachable",
        "Address family not supported",
    ]
    .iter()
    .any(|needle| output.contains(needle))
}

#[async_trait]
impl AuditSink for AuditLogSink {
    async fn start_session(&self, info: &SessionInfo) -> Arc<dyn AuditSink> {
        let log = self.log.with_ids(SessionIds {
            session_id: info.session_id.clone(),
            agent_id: info.agent_id.clone(),
            parent_agent_id: info.parent_agent_id.clone(),
        });
        log.record(AuditEvent::SessionStart(cadre_audit::SessionStart {
            profile: info.profile,
            approval_mode: info.approval,
            model: info.model.clone(),
            provider: info.provider.clone(),
            cwd: info.cwd.display().to_string(),
            cadre_version: env!("CARGO_PKG_VERSION").to_string(),
        }));
        log.record(AuditEvent::ConfigLoaded(FilesLoaded {
            files: paths(&info.config_files),
        }));
        log.record(AuditEvent::PolicyLoaded(FilesLoaded {
            files: paths(&self.policy_files),
        }));
        Arc::new(AuditLogSink {
            log,
            policy_files: self.policy_files.clone(),
        })
    }

    async fn end_session(&self, status: &str, usage: TokenUsage) {
        // Authorises nothing, so it needs no fsync of its own: the writer drains its queue
        // before the log's last handle is dropped.
        self.log
            .record(AuditEvent::SessionEnd(cadre_audit::SessionEnd {
                status: status.to_string(),
                tokens: tokens(usage),
            }));
    }

    async fn command_decided(&self, record: &CommandRecord) -> Result<(), AuditWriteError> {
        let (argv, script) = match record.argv.as_slice() {
            [shell, flag, script] if shell == "bash" && flag == "-c" => {
                (None, Some(script.clone()))
            }
            argv => (Some(argv.to_vec()), None),
        };
        let event = AuditEvent::Command(CommandDecided {
            command_id: record.call_id.clone(),
            argv,
            script,
            cwd: record.cwd.display().to_string(),
            profile: record.profile,
            decision: if record.allowed {
                Decision::Allow
            } else {
                Decision::Deny
            },
            policy_decision: match record.decision {
                crate::gate::PolicyDecision::Allow => PolicyDecision::Allow,
                crate::gate::PolicyDecision::Ask => PolicyDecision::Ask,
                crate::gate::PolicyDecision::Forbid => PolicyDecision::Deny,
            },
            policy_rule: Some(record.rule.clone()),
            approval: record.approval.map(|(decision, by_person)| match decision {
                _ if !by_person => ApprovalAnswer::NoAnswer,
                ReviewDecision::Approved => ApprovalAnswer::Approved,
                ReviewDecision::ApprovedForSession => ApprovalAnswer::ApprovedForSession,
                ReviewDecision::Denied | ReviewDecision::Abort => ApprovalAnswer::Denied,
            }),
        });
        self.log
            .record_durable(event)
            .await
            .map_err(|e| AuditWriteError::Failed(Arc::new(e)))
    }

    async fn command_finished(
        &self,
        record: &CommandRecord,
        status: ExecStatus,
        exit_code: Option<i32>,
        duration_ms: u64,
        output: &str,
    ) {
        let confined = record.profile != SecurityProfile::Trusted;
        self.log.record(AuditEvent::CommandEnd(CommandEnd {
            command_id: record.call_id.clone(),
            exit_code,
            signal: None,
            duration_ms,
            sandbox_denied: confined && status != ExecStatus::Completed && looks_denied(output),
        }));
    }

    async fn file_change(
        &self,
        _call_id: &str,
        changes: &[FileChange],
    ) -> Result<(), AuditWriteError> {
        let Some((last, rest)) = changes.split_last() else {
            return Ok(());
        };
        let event = |change: &FileChange| {
            let (kind, paths) = match (&change.kind, &change.move_path) {
                (FileChangeKind::Update, Some(to)) => (
                    cadre_audit::FileChangeKind::Rename,
                    vec![change.path.display().to_string(), to.display().to_string()],
                ),
                (FileChangeKind::Add, _) => (
                    cadre_audit::FileChangeKind::Create,
                    vec![change.path.display().to_string()],
                ),
                (FileChangeKind::Update, None) => (
                    cadre_audit::FileChangeKind::Modify,
                    vec![change.path.display().to_string()],
                ),
                (FileChangeKind::Delete, _) => (
                    cadre_audit::FileChangeKind::Delete,
                    vec![change.path.display().to_string()],
                ),
            };
            AuditEvent::FileChange(cadre_audit::FileChange {
                paths,
                kind,
                bytes: Some(change.bytes),
            })
        };
        for change in rest {
            self.log.record(event(change));
        }
        // Durable after the others: everything queued before it is on disk too.
        self.log
            .record_durable(event(last))
            .await
            .map_err(|e| AuditWriteError::Failed(Arc::new(e)))
    }

    fn network_request(&self, host: &str, port: Option<u16>, purpose: &str) {
        self.record_own_request(host, port, Decision::Allow, purpose);
    }

    fn network_refused(&self, host: &str, port: Option<u16>, reason: &str) {
        self.record_own_request(host, port, Decision::Deny, reason);
    }

    async fn proxy_decision(&self, decision: &cadre_sandbox::ProxyDecision) {
        self.log
            .record(AuditEvent::Network(cadre_audit::NetworkAccess {
                host: decision.host.clone(),
                port: Some(decision.port),
                origin: cadre_audit::NetworkOrigin::Proxy,
                decision: if decision.allowed {
                    Decision::Allow
                } else {
                    Decision::Deny
                },
                reason: Some(decision.reason.clone()),
            }));
    }

    async fn agent_started(&self, agent_id: &str, role: &str, profile: SecurityProfile) {
        self.log
            .record(AuditEvent::AgentStart(cadre_audit::AgentStart {
                agent: agent_id.to_string(),
                role: role.to_string(),
                profile,
                parent: Some(self.log.session().agent_id.clone()),
            }));
    }

    async fn agent_stopped(&self, agent_id: &str, status: &str, usage: TokenUsage) {
        self.log
            .record(AuditEvent::AgentStop(cadre_audit::AgentStop {
                agent: agent_id.to_string(),
                status: status.to_string(),
                tokens: tokens(usage),
            }));
    }
}
