//! What every subcommand shares: the `-c` overrides and the configuration they produce.

use anyhow::Context;
use cadre_audit::{AuditConfig, AuditLog, SessionIds};
use cadre_core::audit_sink::{AuditLogSink, AuditSink, BrokenAudit, NoAudit};
use cadre_core::gate::CommandPolicy;
use cadre_core::{Config, ConfigToml, LoadOptions};
use cadre_protocol::SecurityProfile;
use std::path::PathBuf;
use std::sync::Arc;

pub struct CliEnv {
    pub overrides: Vec<String>,
    /// The project files that are ignored for want of trust are named once per process.
    trust_warning: std::sync::Once,
}

impl CliEnv {
    pub fn new(overrides: Vec<String>) -> Self {
        CliEnv {
            overrides,
            trust_warning: std::sync::Once::new(),
        }
    }

    /// Loads the configuration for a command working in `cd` (or the current directory).
    pub fn load_config(&self, cd: Option<PathBuf>, flags: ConfigToml) -> anyhow::Result<Config> {
        let cwd = match cd {
            Some(dir) => std::fs::canonicalize(&dir).with_context(|| {
                format!("cannot use {} as the working directory", dir.display())
            })?,
            None => std::env::current_dir().context("cannot read the current directory")?,
        };
        let config = Config::load(LoadOptions {
            cadre_home: None,
            cwd: Some(cwd),
            user_home: None,
            overrides: self.overrides.clone(),
            flags,
        })?;
        self.trust_warning
            .call_once(|| warn_untrusted(&config.project));
        Ok(config)
    }

    /// The command policy under `config`: built-in rules, the user's file and the project's
    /// trusted one.
    pub fn policy(&self, config: &Config) -> anyhow::Result<cadre_policy::Policy> {
        cadre_policy::Policy::load(&config.cadre_home, config.project_policy())
            .context("cannot load the command policy")
    }

    /// The agent roles under `config`: built-in, the user's, and the project's trusted files.
    pub fn roles(&self, config: &Config) -> cadre_roles::RoleCatalog {
        let user_home = std::env::home_dir();
        cadre_roles::RoleCatalog::load(&config.cadre_home, user_home.as_deref(), &config.project)
    }

    /// The command policy and audit sink for sessions under `config`; records made before a
    /// session binds the sink to itself carry `session_id`. An audit log that cannot be opened
    /// stops a restricted profile here, before any model is asked: every action it takes must
    /// be recorded first. Under `trusted` the session goes on, and the sink warns at each action
    /// it could not record.
    pub async fn gate_parts(
        &self,
        config: &Config,
        session_id: &str,
    ) -> anyhow::Result<(Arc<dyn CommandPolicy>, Arc<dyn AuditSink>)> {
        let policy = self.policy(config)?;
        let audit = match self.open_audit(config, session_id, policy.sources()) {
            Ok(audit) => audit,
            Err(err) if config.profile == SecurityProfile::Trusted => Arc::new(BrokenAudit {
                reason: err.to_string(),
            }),
            Err(err) => {
                return Err(err.context(format!(
                    "cannot start under the {} profile without its audit log, which records each action before it is taken. Make {} writable, point `[audit] dir` (or CADRE_AUDIT_DIR) at a writable directory, or turn the log off with `-c audit.enabled=false`",
                    config.profile,
                    config.audit_dir().display()
                )));
            }
        };
        Ok((Arc::new(policy), audit))
    }

    /// The audit log under `config`; `policy_files` are recorded at each session's start. A log
    /// that cannot be opened gives a sink that refuses every action it should record.
    pub fn audit_sink(
        &self,
        config: &Config,
        session_id: &str,
        policy_files: Vec<std::path::PathBuf>,
    ) -> Arc<dyn AuditSink> {
        self.open_audit(config, session_id, policy_files)
            .unwrap_or_else(|err| {
                Arc::new(BrokenAudit {
                    reason: err.to_string(),
                })
            })
    }

    fn open_audit(
        &self,
        config: &Config,
        session_id: &str,
        policy_files: Vec<std::path::PathBuf>,
    ) -> anyhow::Result<Arc<dyn AuditSink>> {
        if config.audit.enabled == Some(false) {
            return Ok(Arc::new(NoAudit));
        }
        match AuditLog::open(audit_config(config), SessionIds::new(session_id, "main")) {
            Ok(log) => Ok(Arc::new(AuditLogSink::new(log, policy_files))),
            // One message: the audit error already names its cause.
            Err(err) => Err(anyhow::anyhow!(
                "the audit log in {} cannot be written: {err}",
                config.audit_dir().display()
            )),
        }
    }
}

/// The audit writer's settings from the configuration.
pub fn audit_config(config: &Config) -> AuditConfig {
    let defaults = AuditConfig::in_dir(config.audit_dir());
    AuditConfig {
        enabled: config.audit.enabled.unwrap_or(true),
        batch_window_ms: config
            .audit
            .batch_window_ms
            .unwrap_or(defaults.batch_window_ms),
        max_file_bytes: config
            .audit
            .max_file_bytes
            .unwrap_or(defaults.max_file_bytes),
        retention_days: config
            .audit
            .retention_days
            .unwrap_or(defaults.retention_days),
        secret_names: config.env_policy.secret_names.clone(),
        fsync: config.audit.fsync.unwrap_or(true),
        ..defaults
    }
}

/// Names each project file that is ignored because it is not trusted as it is, and the command
/// that trusts it.
#[allow(clippy::print_stderr)]
fn warn_untrusted(project: &cadre_trust::CheckedProject) {
    let ignored: Vec<_> = project.ignored().collect();
    if ignored.is_empty() {
        return;
    }
    for file in &ignored {
        eprintln!(
            "cadre: ignoring {} ({}, {})",
            file.path.display(),
            file.kind,
            file.state
        );
    }
    eprintln!(
        "cadre: read {} and run `cadre trust {}` to apply {}",
        if ignored.len() == 1 { "it" } else { "them" },
        project.root.display(),
        if ignored.len() == 1 { "it" } else { "them" },
    );
}
