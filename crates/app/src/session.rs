//! Starting an agent session, fresh or resumed.

use crate::{App, AppError};
use cadre_core::{Config, ConfigToml, SessionHandle, SessionOptions, transcript};
use cadre_roles::RoleLoadProblem;
use std::path::PathBuf;

/// Which earlier session to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeSelector {
    /// The user's most recent top-level session: in this directory, or in any with
    /// `any_directory`.
    Last { any_directory: bool },
    /// A full id, a unique prefix of it, or the short id cadre prints.
    Id(String),
}

/// What a front end asks for.
#[derive(Debug, Clone, Default)]
pub struct SessionRequest {
    /// Where to work (`-C`); a resumed session keeps its own directory unless this is given.
    pub cd: Option<PathBuf>,
    /// Configuration values from flags (model, profile, approval mode); a resumed session
    /// keeps its own profile unless `flags.profile` is given.
    pub flags: ConfigToml,
    pub resume: Option<ResumeSelector>,
    /// A person can answer approval requests (the terminal UI); false for `exec`.
    pub interactive: bool,
}

/// A running session.
pub struct StartedSession {
    /// Ops in, protocol events out.
    pub handle: SessionHandle,
    pub session_id: String,
    /// The configuration it runs under (its `project` lists the files ignored for want of
    /// trust).
    pub config: Config,
    /// Role files that could not be read, for the front end to report.
    pub role_problems: Vec<RoleLoadProblem>,
}

impl App {
    /// The configuration a request works under, the transcript it continues (if any) and its
    /// session id. A resumed session keeps its directory and profile unless the request says
    /// otherwise; the session then tells the model what changed.
    pub fn prepare_session(
        &self,
        request: &SessionRequest,
    ) -> Result<(Config, Option<PathBuf>, String), AppError> {
        let config = self.load_config(request.cd.as_deref(), request.flags.clone())?;
        let resume_path = match &request.resume {
            None => return Ok((config, None, cadre_core::new_session_id())),
            Some(ResumeSelector::Last { any_directory }) => {
                let here = (!any_directory).then_some(config.cwd.as_path());
                transcript::find_last(&config.sessions_dir(), here)?
            }
            Some(ResumeSelector::Id(id)) => transcript::find_by_id(&config.sessions_dir(), id)?,
        };
        let loaded = transcript::load(&resume_path)?;
        if request.cd.is_none() && !loaded.cwd.is_dir() {
            return Err(AppError::SessionDirectoryGone(loaded.cwd));
        }
        let cd = request.cd.clone().unwrap_or_else(|| loaded.cwd.clone());
        let flags = ConfigToml {
            profile: request.flags.profile.or(Some(loaded.profile)),
            ..request.flags.clone()
        };
        let config = self.load_config(Some(&cd), flags)?;
        Ok((config, Some(resume_path), loaded.meta.id))
    }

    /// Starts the session a request asks for, with the policy, audit log, roles and tools of
    /// its configuration. Fails before any model is asked when a restricted profile has no
    /// audit log.
    pub async fn start_session(&self, request: SessionRequest) -> Result<StartedSession, AppError> {
        let (config, resume, session_id) = self.prepare_session(&request)?;
        let gate = self.gate_parts(&config, &session_id)?;
        let roles = self.roles(&config);
        let role_problems = roles.problems().to_vec();
        let tools = self.session_tools(&config, &gate, roles.roles().to_vec());
        let handle = cadre_core::spawn(SessionOptions {
            launcher: self.launcher(),
            config: config.clone(),
            resume,
            interactive: request.interactive,
            policy: gate.policy,
            audit: gate.audit,
            agent_id: None,
            parent_session_id: None,
            tools: Some(tools),
            extra_instructions: None,
            session_id: Some(session_id.clone()),
        })
        .await?;
        Ok(StartedSession {
            handle,
            session_id,
            config,
            role_problems,
        })
    }
}
