//! What every subcommand shares: the `-c` overrides and the configuration they produce.

use anyhow::Context;
use cadre_core::audit_sink::{AuditSink, NoAudit};
use cadre_core::gate::CommandPolicy;
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
        config: &Config,
    ) -> anyhow::Result<(Arc<dyn CommandPolicy>, Arc<dyn AuditSink>)> {
        let policy = cadre_policy::Policy::load(&config.cadre_home, &config.cwd)
            .context("cannot load the command policy")?;
        Ok((Arc::new(policy), Arc::new(NoAudit)))
    }
}
