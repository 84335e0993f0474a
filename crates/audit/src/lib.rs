//! The audit log: a tamper-evident, append-only record of what cadre and its agents did.
//!
//! This crate owns the record schema ([`AuditEvent`], [`AuditRecord`]), the hash chain that makes
//! edits, deletions and reordering detectable ([`hash_chain`], [`verify_dir`]), the head kept
//! apart from the files that makes a cut at the end detectable ([`ChainHead`]), the redaction
//! every string passes through before it is written ([`Redactor`]), and the writer that appends
//! records from many processes to one chain without blocking its callers ([`AuditLog`]). It knows
//! nothing of how commands are decided or run, of models, or of front ends: callers describe what
//! happened in an [`AuditEvent`] and this crate makes it durable, safe to keep, and checkable. The
//! format is documented in `docs/audit-log.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cadre_audit::AuditError> {
//! use cadre_audit::*;
//! let log = AuditLog::open(AuditConfig::default(), SessionIds::new("session-1", "agent-0"))?;
//! log.record_durable(AuditEvent::Network(NetworkAccess {
//!     host: "api.openai.com".into(),
//!     port: Some(443),
//!     origin: NetworkOrigin::Cadre,
//!     decision: Decision::Allow,
//!     reason: None,
//! }))
//! .await?;
//! let report = verify_dir(log.path()).expect("readable log");
//! assert!(report.is_intact());
//! # Ok(()) }
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod config;
mod error;
mod event;
mod file_lock;
pub mod hash_chain;
mod head;
mod log_files;
mod record;
pub mod redaction;
mod verify;
mod writer;

pub use config::{AuditConfig, SessionIds};
pub use error::AuditError;
pub use event::*;
pub use head::{ChainHead, HEAD_FILE_NAME, HEAD_VERSION, HeadParseError};
pub use log_files::{list_log_files, log_file_name, parse_log_file_name};
pub use record::{AuditRecord, SCHEMA_VERSION};
pub use redaction::{NamedSecret, RedactionConfig, Redactor};
pub use verify::{
    BreakKind, ChainBreak, ChainStart, HeadCheck, IncompleteTail, RecordLocation, VerifyReport,
    verify_dir, verify_dir_with_anchor, verify_files, verify_files_with_anchor,
};
pub use writer::AuditLog;
