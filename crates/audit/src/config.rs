//! Where the log lives, how it is written, and who is writing.

use crate::redaction::NamedSecret;
use std::path::PathBuf;

/// How an [`crate::AuditLog`] writes. `Default` gives a sensible configuration for
/// [`AuditConfig::default_dir`].
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// The directory holding the `.jsonl` files (created with mode 0700 if missing).
    pub dir: PathBuf,
    /// When false, [`crate::AuditLog::open`] returns a log that writes nothing.
    pub enabled: bool,
    /// How long the writer waits to gather queued records into one write. 0 writes as soon as
    /// the writer wakes.
    pub batch_window_ms: u64,
    /// A file is rotated before it would grow past this size (records are never split).
    pub max_file_bytes: u64,
    /// Files whose date is more than this many days ago are deleted. 0 keeps everything.
    pub retention_days: u32,
    /// Names of environment variables whose values are secrets: their values (looked up in this
    /// process's environment) and any `NAME=…` assignment are redacted.
    pub secret_names: Vec<String>,
    /// Secrets the caller already holds by name and value (e.g. from a child's environment).
    pub secret_values: Vec<NamedSecret>,
    /// Whether a durable record is also flushed to the storage device (`fdatasync`) before the
    /// caller goes on. With false it is only written to the kernel: it survives cadre being
    /// killed, not a power cut, and a command waits no longer than the write itself.
    pub fsync: bool,
    /// Records waiting for the writer; [`crate::AuditLog::record`] beyond this counts them lost
    /// (and a `records_lost` record says how many).
    pub queue_capacity: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            dir: AuditConfig::default_dir(),
            enabled: true,
            batch_window_ms: 5,
            max_file_bytes: 64 * 1024 * 1024,
            retention_days: 90,
            secret_names: Vec::new(),
            secret_values: Vec::new(),
            queue_capacity: 4096,
            fsync: true,
        }
    }
}

impl AuditConfig {
    /// `$CADRE_AUDIT_DIR`, else `$CADRE_HOME/audit`, else `~/.cadre/audit`.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("CADRE_AUDIT_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        if let Some(home) = std::env::var_os("CADRE_HOME").filter(|d| !d.is_empty()) {
            return PathBuf::from(home).join("audit");
        }
        let user_home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        user_home.join(".cadre").join("audit")
    }

    /// The default configuration writing to `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        AuditConfig {
            dir: dir.into(),
            ..AuditConfig::default()
        }
    }
}

/// Who is writing: copied into every record of the handle that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIds {
    pub session_id: String,
    pub agent_id: String,
    pub parent_agent_id: Option<String>,
}

impl SessionIds {
    pub fn new(session_id: impl Into<String>, agent_id: impl Into<String>) -> Self {
        SessionIds {
            session_id: session_id.into(),
            agent_id: agent_id.into(),
            parent_agent_id: None,
        }
    }
}
