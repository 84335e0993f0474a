//! The set of roles a run may use: built-in roles overlaid with the role files found on disk.

use crate::{RoleDefinition, RoleLoadProblem};
use std::path::Path;

/// Every role known to a run, in a stable order (built-in roles first), with the problems met
/// while loading them.
#[derive(Debug, Clone, Default)]
pub struct RoleCatalog {
    roles: Vec<RoleDefinition>,
    problems: Vec<RoleLoadProblem>,
}

/// Why a role could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// One or more names match no role.
    #[error("unknown role{} {}; known roles: {}", if names.len() == 1 { "" } else { "s" }, quoted_list(names), known.join(", "))]
    UnknownRoles { names: Vec<String>, known: Vec<String> },
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl RoleCatalog {
    /// Built-in roles, then user roles from `$CADRE_HOME/agents/*.md`, Codex role files, Claude
    /// Code and Gemini CLI files (user-level then project-level, project wins on a name clash),
    /// found walking up from `cwd`. A broken file becomes a problem; the rest still load.
    pub fn load(_cwd: &Path, _cadre_home: &Path, _user_home: Option<&Path>) -> RoleCatalog {
        RoleCatalog::builtin()
    }

    /// The eight built-in roles alone.
    pub fn builtin() -> RoleCatalog {
        RoleCatalog::default()
    }

    /// The role called `name`, compared without regard to case.
    pub fn get(&self, name: &str) -> Option<&RoleDefinition> {
        let name = name.trim();
        self.roles
            .iter()
            .find(|role| role.name.eq_ignore_ascii_case(name))
    }

    pub fn roles(&self) -> &[RoleDefinition] {
        &self.roles
    }

    pub fn problems(&self) -> &[RoleLoadProblem] {
        &self.problems
    }

    /// Narrows to the names given (`--agents Security,Backend`); an unknown name is an error
    /// listing the known ones.
    pub fn restrict(&self, names: &[String]) -> Result<RoleCatalog, RoleError> {
        let mut roles = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            match self.get(name) {
                Some(role) => roles.push(role.clone()),
                None => unknown.push(name.clone()),
            }
        }
        if !unknown.is_empty() {
            return Err(RoleError::UnknownRoles {
                names: unknown,
                known: self.roles.iter().map(|role| role.name.clone()).collect(),
            });
        }
        Ok(RoleCatalog {
            roles,
            problems: self.problems.clone(),
        })
    }
}
