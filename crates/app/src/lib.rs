//! cadre's front door. Every front end (the `cadre` command line today; the terminal UI and the
//! MCP server next) starts its sessions, supervisor runs and research through [`App`], which
//! owns the composition: loading the configuration (with the project's trusted files), opening
//! the audit log, building the command policy, the agent roles and the tool set (`spawn_agent`
//! and `research` included), and resolving which session a resume continues.
//!
//! It returns typed values (a [`SessionHandle`] to send ops to and read protocol events from,
//! [`AppError`]s) and never prints: what to show, and how, is the front end's. The engines it
//! composes (core, supervisor, research) know nothing of it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cadre_app::AppError> {
//! use cadre_app::{App, SessionRequest};
//! let app = App::new(vec!["model=\"gpt-5\"".into()]);
//! let mut started = app.start_session(SessionRequest::default()).await?;
//! started.handle.submit(cadre_protocol::Op::UserInput { text: "list the TODOs".into() });
//! started.handle.submit(cadre_protocol::Op::Shutdown);
//! while let Some(event) = started.handle.events.recv().await {
//!     // render `event.msg`
//! #   let _ = event;
//! }
//! # Ok(()) }
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod audit;
mod error;
mod research;
mod session;

pub use audit::audit_config;
pub use cadre_core::{Config, ConfigToml, SessionHandle};
pub use error::AppError;
pub use research::{audit_research_requests, research_tool};
pub use session::{ResumeSelector, SessionRequest, StartedSession};

use cadre_core::LoadOptions;
use cadre_core::audit_sink::AuditSink;
use cadre_core::gate::CommandPolicy;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The policy and audit log a session (or a supervisor run) acts under.
#[derive(Clone)]
pub struct GateParts {
    pub policy: Arc<dyn CommandPolicy>,
    pub audit: Arc<dyn AuditSink>,
}

/// The composition root: what every front end shares for one invocation.
pub struct App {
    /// `-c key=value` overrides, in order.
    overrides: Vec<String>,
    /// `$CADRE_HOME` when given here rather than by the environment.
    cadre_home: Option<PathBuf>,
    /// The sandbox launcher: the cadre binary.
    launcher: Option<PathBuf>,
}

impl App {
    /// An app whose configuration takes these `-c` overrides; the sandbox launcher is the
    /// running executable.
    pub fn new(overrides: Vec<String>) -> App {
        App {
            overrides,
            cadre_home: None,
            launcher: std::env::current_exe().ok(),
        }
    }

    /// The same app keeping everything under `cadre_home` instead of `$CADRE_HOME`.
    pub fn with_cadre_home(mut self, cadre_home: impl Into<PathBuf>) -> App {
        self.cadre_home = Some(cadre_home.into());
        self
    }

    /// The configuration for work in `cd` (or the current directory), with `flags` applied
    /// last. The project's files that are not trusted are listed in `config.project` for the
    /// front end to show.
    pub fn load_config(&self, cd: Option<&Path>, flags: ConfigToml) -> Result<Config, AppError> {
        let cwd = match cd {
            Some(dir) => {
                std::fs::canonicalize(dir).map_err(|source| AppError::WorkingDirectory {
                    path: dir.to_path_buf(),
                    source,
                })?
            }
            None => std::env::current_dir().map_err(AppError::CurrentDirectory)?,
        };
        Ok(Config::load(LoadOptions {
            cadre_home: self.cadre_home.clone(),
            cwd: Some(cwd),
            user_home: None,
            overrides: self.overrides.clone(),
            flags,
        })?)
    }

    /// The command policy under `config`: built-in rules, the user's file and the project's
    /// trusted one.
    pub fn policy(&self, config: &Config) -> Result<cadre_policy::Policy, AppError> {
        Ok(cadre_policy::Policy::load(
            &config.cadre_home,
            config.project_policy(),
        )?)
    }

    /// The agent roles under `config`: built-in, the user's, and the project's trusted files.
    pub fn roles(&self, config: &Config) -> cadre_roles::RoleCatalog {
        let user_home = std::env::home_dir();
        cadre_roles::RoleCatalog::load(&config.cadre_home, user_home.as_deref(), &config.project)
    }

    /// The command policy and audit log for sessions under `config`; records made before a
    /// session binds the log to itself carry `session_id`. An audit log that cannot be opened
    /// stops a restricted profile here, before any model is asked: every action it takes must
    /// be recorded first. Under `trusted` the session goes on, and the sink warns at each action
    /// it could not record.
    pub fn gate_parts(&self, config: &Config, session_id: &str) -> Result<GateParts, AppError> {
        let policy = self.policy(config)?;
        let audit = audit::required_sink(config, session_id, policy.sources())?;
        Ok(GateParts {
            policy: Arc::new(policy),
            audit,
        })
    }

    /// The audit log under `config` for work that has no profile to stop (a research run):
    /// one that cannot be opened gives a sink that refuses every action it should record.
    pub fn audit_sink(&self, config: &Config, run_id: &str) -> Arc<dyn AuditSink> {
        audit::best_effort_sink(config, run_id, Vec::new())
    }

    /// The tools of an agent session: the default set, `spawn_agent` (sub-agents of `roles`
    /// with the session's policy, audit log and profile ceiling) and `research`.
    pub fn session_tools(
        &self,
        config: &Config,
        gate: &GateParts,
        roles: Vec<cadre_roles::RoleDefinition>,
    ) -> cadre_supervisor::ToolRegistry {
        let research = research_tool(config, gate.audit.clone());
        let mut extra_tools = cadre_supervisor::ToolRegistry::new();
        extra_tools.register(research.clone());
        let mut tools = cadre_supervisor::exec_tools(
            config.clone(),
            roles,
            cadre_supervisor::SessionParts {
                policy: gate.policy.clone(),
                audit: gate.audit.clone(),
                launcher: self.launcher.clone(),
                parent_id: None,
                extra_tools,
            },
            cadre_supervisor::DelegationLimits {
                limits: cadre_supervisor::Limits {
                    stall_timeout: Some(Duration::from_secs(300)),
                    ..cadre_supervisor::Limits::default()
                },
                ..cadre_supervisor::DelegationLimits::default()
            },
        );
        tools.register(research);
        tools
    }

    /// The sandbox launcher sessions and agents use.
    pub fn launcher(&self) -> Option<PathBuf> {
        self.launcher.clone()
    }
}
