//! What every subcommand shares: the `-c` overrides and the configuration they produce.

use anyhow::Context;
use cadre_core::audit_sink::{AuditSink, NoAudit};
use cadre_core::gate::{CommandPolicy, PolicyDecision, PolicyVerdict};
use cadre_core::{Config, ConfigToml, LoadOptions};
use std::path::PathBuf;
use std::sync::Arc;

pub struct CliEnv {
    pub overrides: Vec<String>,
}

impl CliEnv {
    pub fn new(overrides: Vec<String>) -> Self {
        CliEnv { overrides }
    }

    /// Loads the configuration for a command working in `cd` (or the current directory).
    pub fn load_config(&self, cd: Option<PathBuf>, flags: ConfigToml) -> anyhow::Result<Config> {
        let cwd = match cd {
            Some(dir) => std::fs::canonicalize(&dir).with_context(|| {
                format!("cannot use {} as the working directory", dir.display())
            })?,
            None => std::env::current_dir().context("cannot read the current directory")?,
        };
        Ok(Config::load(LoadOptions {
            cadre_home: None,
            cwd: Some(cwd),
            overrides: self.overrides.clone(),
            flags,
        })?)
    }

    /// The command policy and audit sink for sessions under `config`.
    pub async fn gate_parts(
        &self,
        _config: &Config,
    ) -> anyhow::Result<(Arc<dyn CommandPolicy>, Arc<dyn AuditSink>)> {
        Ok((Arc::new(AllowPolicy), Arc::new(NoAudit)))
    }
}

struct AllowPolicy;

impl CommandPolicy for AllowPolicy {
    fn evaluate(&self, _argv: &[String]) -> PolicyVerdict {
        PolicyVerdict {
            decision: PolicyDecision::Allow,
            rule: "none".into(),
            reason: String::new(),
            unknown: true,
        }
    }
}
