//! Opening the audit log a piece of work records into.

use crate::AppError;
use cadre_audit::{AuditConfig, AuditLog, SessionIds};
use cadre_core::Config;
use cadre_core::audit_sink::{AuditLogSink, AuditSink, BrokenAudit, NoAudit};
use cadre_protocol::SecurityProfile;
use std::path::PathBuf;
use std::sync::Arc;

/// The audit writer's settings from the configuration.
pub fn audit_config(config: &Config) -> AuditConfig {
    config.audit.clone()
}

/// The log under `config`, or why it cannot be written; `policy_files` are recorded at each
/// session's start.
fn open(
    config: &Config,
    session_id: &str,
    policy_files: Vec<PathBuf>,
) -> Result<Arc<dyn AuditSink>, AppError> {
    if !config.audit.enabled {
        return Ok(Arc::new(NoAudit));
    }
    match AuditLog::open(audit_config(config), SessionIds::new(session_id, "main")) {
        Ok(log) => Ok(Arc::new(AuditLogSink::new(log, policy_files))),
        Err(err) => Err(AppError::AuditUnwritable {
            dir: config.audit_dir(),
            reason: err.to_string(),
        }),
    }
}

/// The log for work under `config.profile`: restricted profiles do not start without it;
/// `trusted` goes on with a sink that warns at each record it could not write.
pub(crate) fn required_sink(
    config: &Config,
    session_id: &str,
    policy_files: Vec<PathBuf>,
) -> Result<Arc<dyn AuditSink>, AppError> {
    match open(config, session_id, policy_files) {
        Ok(sink) => Ok(sink),
        Err(err) if config.profile == SecurityProfile::Trusted => Ok(Arc::new(BrokenAudit {
            reason: err.to_string(),
        })),
        Err(err) => Err(AppError::AuditRequired {
            profile: config.profile,
            dir: config.audit_dir(),
            cause: Box::new(err),
        }),
    }
}

/// The log under `config`, or a sink that refuses every action it should record.
pub(crate) fn best_effort_sink(
    config: &Config,
    session_id: &str,
    policy_files: Vec<PathBuf>,
) -> Arc<dyn AuditSink> {
    open(config, session_id, policy_files).unwrap_or_else(|err| {
        Arc::new(BrokenAudit {
            reason: err.to_string(),
        })
    })
}
