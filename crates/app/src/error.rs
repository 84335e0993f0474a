use std::path::PathBuf;

/// What stops the app from starting a piece of work, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot use {} as the working directory: {source}", path.display())]
    WorkingDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the current directory: {0}")]
    CurrentDirectory(#[source] std::io::Error),
    #[error(transparent)]
    Config(#[from] cadre_core::ConfigError),
    #[error("cannot load the command policy: {0}")]
    Policy(#[from] cadre_policy::PolicyError),
    #[error("the audit log in {} cannot be written: {reason}", dir.display())]
    AuditUnwritable { dir: PathBuf, reason: String },
    #[error(
        "cannot start under the {profile} profile without its audit log, which records each action before it is taken. Make {} writable, point `[audit] dir` (or CADRE_AUDIT_DIR) at a writable directory, or turn the log off with `-c audit.enabled=false`",
        dir.display()
    )]
    AuditRequired {
        profile: cadre_protocol::SecurityProfile,
        dir: PathBuf,
        #[source]
        cause: Box<AppError>,
    },
    #[error(transparent)]
    Transcript(#[from] cadre_core::transcript::TranscriptError),
    #[error(
        "the session's directory {} no longer exists; pass -C DIR to continue it elsewhere",
        .0.display()
    )]
    SessionDirectoryGone(PathBuf),
    #[error(transparent)]
    Core(#[from] cadre_core::CoreError),
}
