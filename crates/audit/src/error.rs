//! The audit crate's errors. Each says what failed, on which path, and what to do next.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(
        "cannot create the audit directory {path}: {source}; check its permissions or set CADRE_AUDIT_DIR"
    )]
    CreateDir { path: PathBuf, source: io::Error },

    #[error(
        "cannot write in the audit directory {path}: {source}; fix its permissions or set CADRE_AUDIT_DIR"
    )]
    NotWritable { path: PathBuf, source: io::Error },

    #[error("cannot lock the audit log in {path}: {source}")]
    Lock { path: PathBuf, source: io::Error },

    #[error("cannot write the audit log {path}: {source}; free disk space or fix permissions")]
    Write { path: PathBuf, source: io::Error },

    #[error("cannot read the audit log {path}: {source}")]
    Read { path: PathBuf, source: io::Error },

    #[error("cannot start the audit writer thread: {0}")]
    SpawnWriter(io::Error),

    #[error("the audit log is closed; records can no longer be written")]
    Closed,
}

impl AuditError {
    /// A copy for handing the same failure to every caller waiting on one batch (`io::Error` is
    /// not `Clone`).
    pub(crate) fn duplicate(&self) -> AuditError {
        let copy = |e: &io::Error| io::Error::new(e.kind(), e.to_string());
        match self {
            AuditError::CreateDir { path, source } => AuditError::CreateDir {
                path: path.clone(),
                source: copy(source),
            },
            AuditError::NotWritable { path, source } => AuditError::NotWritable {
                path: path.clone(),
                source: copy(source),
            },
            AuditError::Lock { path, source } => AuditError::Lock {
                path: path.clone(),
                source: copy(source),
            },
            AuditError::Write { path, source } => AuditError::Write {
                path: path.clone(),
                source: copy(source),
            },
            AuditError::Read { path, source } => AuditError::Read {
                path: path.clone(),
                source: copy(source),
            },
            AuditError::SpawnWriter(e) => AuditError::SpawnWriter(copy(e)),
            AuditError::Closed => AuditError::Closed,
        }
    }
}
