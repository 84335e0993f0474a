//! The typed events an audit record can carry. Each serialises as a flat JSON object whose `event`
//! member names the variant in snake_case; the record envelope (`v`, `ts`, `seq`, ids, `prev`,
//! `hash`) is added by the writer.

use cadre_protocol::{ApprovalMode, SecurityProfile};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Something cadre did, or decided, that a user may need to account for afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    /// A session began.
    SessionStart(SessionStart),
    /// A session ended.
    SessionEnd(SessionEnd),
    /// A command was decided on. Written durably before it runs; a refused command has only this.
    Command(CommandDecided),
    /// A command that ran has finished.
    CommandEnd(CommandEnd),
    /// Files were created, modified, deleted or renamed.
    FileChange(FileChange),
    /// A network request made by cadre itself, or one the proxy saw (allowed or refused).
    Network(NetworkAccess),
    /// An agent (the main one or a sub-agent) started.
    AgentStart(AgentStart),
    /// An agent stopped.
    AgentStop(AgentStop),
    /// Configuration files were read.
    ConfigLoaded(FilesLoaded),
    /// Command policy files were read.
    PolicyLoaded(FilesLoaded),
    /// Records were dropped because the writer's queue was full (or a write failed).
    RecordsLost(RecordsLost),
    /// A writer found an incomplete last line (a writer killed mid-write) and cut it off before
    /// appending.
    TailRepaired(TailRepaired),
    /// Log files older than the retention period were deleted.
    RetentionApplied(RetentionApplied),
}

impl AuditEvent {
    /// The `event` name as written in the log.
    pub fn name(&self) -> &'static str {
        match self {
            AuditEvent::SessionStart(_) => "session_start",
            AuditEvent::SessionEnd(_) => "session_end",
            AuditEvent::Command(_) => "command",
            AuditEvent::CommandEnd(_) => "command_end",
            AuditEvent::FileChange(_) => "file_change",
            AuditEvent::Network(_) => "network",
            AuditEvent::AgentStart(_) => "agent_start",
            AuditEvent::AgentStop(_) => "agent_stop",
            AuditEvent::ConfigLoaded(_) => "config_loaded",
            AuditEvent::PolicyLoaded(_) => "policy_loaded",
            AuditEvent::RecordsLost(_) => "records_lost",
            AuditEvent::TailRepaired(_) => "tail_repaired",
            AuditEvent::RetentionApplied(_) => "retention_applied",
        }
    }

    /// The decision recorded with the event, for events that carry one.
    pub fn decision(&self) -> Option<Decision> {
        match self {
            AuditEvent::Command(c) => Some(c.decision),
            AuditEvent::Network(n) => Some(n.decision),
            _ => None,
        }
    }

    /// A one-line human summary, used by `cadre audit show`.
    pub fn summary(&self) -> String {
        match self {
            AuditEvent::SessionStart(s) => format!(
                "{} via {} profile={} approval={} cwd={}",
                s.model, s.provider, s.profile, s.approval_mode, s.cwd
            ),
            AuditEvent::SessionEnd(s) => match &s.tokens {
                Some(t) => format!("{} (tokens in={} out={})", s.status, t.input, t.output),
                None => s.status.clone(),
            },
            AuditEvent::Command(c) => {
                let what = match (&c.argv, &c.script) {
                    (Some(argv), _) => argv.join(" "),
                    (None, Some(script)) => script.replace('\n', "; "),
                    (None, None) => String::new(),
                };
                let rule = c
                    .policy_rule
                    .as_deref()
                    .map(|r| format!(" rule={r}"))
                    .unwrap_or_default();
                let approval = c
                    .approval
                    .map(|a| format!(" approval={}", a.as_str()))
                    .unwrap_or_default();
                format!(
                    "{what} [policy={}{rule}{approval}]",
                    c.policy_decision.as_str()
                )
            }
            AuditEvent::CommandEnd(c) => {
                let status = match (c.exit_code, c.signal) {
                    (Some(code), _) => format!("exit {code}"),
                    (None, Some(sig)) => format!("signal {sig}"),
                    (None, None) => "no status".to_string(),
                };
                let denied = if c.sandbox_denied {
                    " sandbox-denied"
                } else {
                    ""
                };
                format!("{} {status} in {} ms{denied}", c.command_id, c.duration_ms)
            }
            AuditEvent::FileChange(f) => {
                let bytes = f.bytes.map(|b| format!(" ({b} bytes)")).unwrap_or_default();
                format!("{} {}{bytes}", f.kind.as_str(), f.paths.join(", "))
            }
            AuditEvent::Network(n) => {
                let port = n.port.map(|p| format!(":{p}")).unwrap_or_default();
                format!("{}{port} by {}", n.host, n.origin.as_str())
            }
            AuditEvent::AgentStart(a) => {
                let parent = a
                    .parent
                    .as_deref()
                    .map(|p| format!(" parent={p}"))
                    .unwrap_or_default();
                format!("{} role={} profile={}{parent}", a.agent, a.role, a.profile)
            }
            AuditEvent::AgentStop(a) => match &a.tokens {
                Some(t) => format!(
                    "{} {} (tokens in={} out={})",
                    a.agent, a.status, t.input, t.output
                ),
                None => format!("{} {}", a.agent, a.status),
            },
            AuditEvent::ConfigLoaded(f) | AuditEvent::PolicyLoaded(f) => f.files.join(", "),
            AuditEvent::RecordsLost(l) => format!("{} record(s) lost", l.count),
            AuditEvent::TailRepaired(t) => {
                format!(
                    "{} incomplete byte(s) cut from {}",
                    t.discarded_bytes, t.file
                )
            }
            AuditEvent::RetentionApplied(r) => format!("removed {}", r.removed_files.join(", ")),
        }
    }
}

/// What was done about a request: it went ahead or it was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }
}

/// What the command policy said before any human was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyDecision {
    Allow,
    Ask,
    Deny,
}

impl PolicyDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyDecision::Allow => "allow",
            PolicyDecision::Ask => "ask",
            PolicyDecision::Deny => "deny",
        }
    }
}

/// The answer to an approval request. Absent from a record when nobody was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalAnswer {
    Approved,
    ApprovedForSession,
    Denied,
    /// Asked, but no answer came (non-interactive run, timeout, interrupt).
    NoAnswer,
}

impl ApprovalAnswer {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalAnswer::Approved => "approved",
            ApprovalAnswer::ApprovedForSession => "approved_for_session",
            ApprovalAnswer::Denied => "denied",
            ApprovalAnswer::NoAnswer => "no_answer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input: u64,
    pub output: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStart {
    pub profile: SecurityProfile,
    pub approval_mode: ApprovalMode,
    pub model: String,
    pub provider: String,
    pub cwd: String,
    pub cadre_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEnd {
    /// How the session ended: `completed`, `interrupted`, `error: ...`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenUsage>,
}

/// A command and the decision taken about it, before it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandDecided {
    /// Links this record to its `command_end`.
    pub command_id: String,
    /// The argument vector, when the command was run without a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// The shell script, when the command was run by a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    pub cwd: String,
    pub profile: SecurityProfile,
    /// Whether the command goes ahead.
    pub decision: Decision,
    pub policy_decision: PolicyDecision,
    /// The policy rule that decided, when one matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_rule: Option<String>,
    /// The approval answer; absent when no approval was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalAnswer>,
}

/// How a command that ran ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandEnd {
    pub command_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended the command, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    pub duration_ms: u64,
    /// Whether the sandbox refused something the command tried to do.
    pub sandbox_denied: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileChangeKind {
    Create,
    Modify,
    Delete,
    /// `paths` holds the old path, then the new one.
    Rename,
}

impl FileChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileChangeKind::Create => "create",
            FileChangeKind::Modify => "modify",
            FileChangeKind::Delete => "delete",
            FileChangeKind::Rename => "rename",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileChange {
    pub paths: Vec<String>,
    pub kind: FileChangeKind,
    /// Size written, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl FileChange {
    /// Builds a change record from paths, which are stored lossily as UTF-8.
    pub fn new<P: AsRef<Path>>(
        kind: FileChangeKind,
        paths: impl IntoIterator<Item = P>,
        bytes: Option<u64>,
    ) -> Self {
        FileChange {
            paths: paths
                .into_iter()
                .map(|p| p.as_ref().to_string_lossy().into_owned())
                .collect(),
            kind,
            bytes,
        }
    }
}

/// Who made or saw a network request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkOrigin {
    /// cadre itself (model provider, web tools, research fetches).
    Cadre,
    /// A sandboxed command, through cadre's proxy.
    Proxy,
}

impl NetworkOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkOrigin::Cadre => "cadre",
            NetworkOrigin::Proxy => "proxy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkAccess {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub origin: NetworkOrigin,
    pub decision: Decision,
    /// Why it was allowed or refused (allowlist entry, profile), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentStart {
    /// The id of the agent that started (the record's `agent_id` is the agent that started it).
    pub agent: String,
    pub role: String,
    pub profile: SecurityProfile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentStop {
    pub agent: String,
    /// `completed`, `failed: ...`, `cancelled`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenUsage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilesLoaded {
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordsLost {
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TailRepaired {
    /// The file name (inside the audit directory) whose last line was cut.
    pub file: String,
    pub discarded_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionApplied {
    /// File names (inside the audit directory) deleted.
    pub removed_files: Vec<String>,
    /// The `prev` of the oldest record still kept: lets `verify` accept a chain that no longer
    /// starts at genesis because its beginning was deleted on purpose.
    pub first_kept_prev: String,
}
