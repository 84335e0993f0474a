//! What every subcommand shares: the app (the `-c` overrides and the composition behind them),
//! and the one place that tells the user which project files are ignored for want of trust.

use cadre_app::App;
use cadre_core::{Config, ConfigToml};
use std::path::PathBuf;

pub struct CliEnv {
    pub app: App,
    /// The project files that are ignored for want of trust are named once per process.
    trust_warning: std::sync::Once,
}

impl CliEnv {
    pub fn new(overrides: Vec<String>) -> Self {
        CliEnv {
            app: App::new(overrides),
            trust_warning: std::sync::Once::new(),
        }
    }

    /// Loads the configuration for a command working in `cd` (or the current directory).
    pub fn load_config(&self, cd: Option<PathBuf>, flags: ConfigToml) -> anyhow::Result<Config> {
        let config = self.app.load_config(cd.as_deref(), flags)?;
        self.warn_untrusted(&config);
        Ok(config)
    }

    /// Names, once, each project file that is ignored because it is not trusted as it is.
    pub fn warn_untrusted(&self, config: &Config) {
        self.trust_warning
            .call_once(|| warn_untrusted(&config.project));
    }

    /// The command policy under `config`.
    pub fn policy(&self, config: &Config) -> anyhow::Result<cadre_policy::Policy> {
        Ok(self.app.policy(config)?)
    }

    /// The agent roles under `config`.
    pub fn roles(&self, config: &Config) -> cadre_roles::RoleCatalog {
        self.app.roles(config)
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
