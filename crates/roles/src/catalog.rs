//! The set of roles a run may use: built-in roles overlaid with the role files found on disk.

use crate::builtin::BUILTIN_ROLE_FILES;
use crate::{RoleDefinition, RoleFormat, RoleLoadProblem, RoleSource, parse_role_file};
use cadre_trust::{CheckedProject, ProjectFileKind, RoleDir as TrustRoleDir};
use std::path::{Path, PathBuf};

/// Every role known to a run, in a stable order (built-in roles first, then roles from files in
/// the order they were found; a role that replaces another takes its place), with the problems
/// met while loading them.
#[derive(Debug, Clone, Default)]
pub struct RoleCatalog {
    roles: Vec<RoleDefinition>,
    problems: Vec<RoleLoadProblem>,
}

/// Why a role could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// One or more names match no role.
    #[error(
        "unknown role{} {}; known roles: {}",
        if names.len() == 1 { "" } else { "s" },
        quoted_list(names),
        known.join(", ")
    )]
    UnknownRoles {
        names: Vec<String>,
        known: Vec<String>,
    },
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a role came from, for deciding what may replace what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Builtin,
    User,
    Project,
}

/// One directory of role files in one format.
struct RoleDir {
    dir: PathBuf,
    format: RoleFormat,
    extension: &'static str,
}

impl RoleDir {
    fn markdown(dir: PathBuf, format: RoleFormat) -> Self {
        RoleDir {
            dir,
            format,
            extension: "md",
        }
    }
}

impl RoleCatalog {
    /// Built-in roles, then user roles from `$CADRE_HOME/agents/*.md`, Codex role files, Claude
    /// Code and Gemini CLI files, then the project's trusted role files (a project role wins a
    /// name clash). A broken file becomes a problem; the rest still load.
    ///
    /// Codex's directory is `$CODEX_HOME`, else `~/.codex`.
    pub fn load(
        cadre_home: &Path,
        user_home: Option<&Path>,
        project: &CheckedProject,
    ) -> RoleCatalog {
        let codex_home = std::env::var_os("CODEX_HOME")
            .filter(|home| !home.is_empty())
            .map(PathBuf::from)
            .or_else(|| user_home.map(|home| home.join(".codex")));
        RoleCatalog::load_with_codex_home(cadre_home, user_home, codex_home.as_deref(), project)
    }

    /// As [`RoleCatalog::load`], with Codex's directory given rather than read from the
    /// environment.
    ///
    /// User level, in order (a later file wins a name clash): `<codex_home>/agents/*.toml`,
    /// `~/.claude/agents/*.md`, `~/.gemini/agents/*.md`, `<cadre_home>/agents/*.md`. Project
    /// level: the trusted role files of `project` (Claude Code, Gemini CLI, then cadre), which
    /// [`cadre_trust`] found and checked. Files load in name order.
    pub fn load_with_codex_home(
        cadre_home: &Path,
        user_home: Option<&Path>,
        codex_home: Option<&Path>,
        project: &CheckedProject,
    ) -> RoleCatalog {
        let mut builder = Builder::from_builtin();
        let mut user_dirs = Vec::new();
        if let Some(codex_home) = codex_home {
            user_dirs.push(RoleDir {
                dir: codex_home.join("agents"),
                format: RoleFormat::Codex,
                extension: "toml",
            });
        }
        if let Some(home) = user_home {
            user_dirs.push(RoleDir::markdown(
                home.join(".claude").join("agents"),
                RoleFormat::ClaudeCode,
            ));
            user_dirs.push(RoleDir::markdown(
                home.join(".gemini").join("agents"),
                RoleFormat::GeminiCli,
            ));
        }
        user_dirs.push(RoleDir::markdown(
            cadre_home.join("agents"),
            RoleFormat::Cadre,
        ));

        for dir in &user_dirs {
            builder.load_dir(dir, Level::User);
        }
        for role_dir in TrustRoleDir::ALL {
            let format = match role_dir {
                TrustRoleDir::ClaudeCode => RoleFormat::ClaudeCode,
                TrustRoleDir::GeminiCli => RoleFormat::GeminiCli,
                TrustRoleDir::Cadre => RoleFormat::Cadre,
            };
            for file in project.trusted(ProjectFileKind::Role(role_dir)) {
                if let Some(text) = file.trusted_text() {
                    builder.load_text(&file.path, text, format, Level::Project);
                }
            }
        }
        builder.finish()
    }

    /// The eight built-in roles alone.
    pub fn builtin() -> RoleCatalog {
        Builder::from_builtin().finish()
    }

    /// The role called `name`, compared without regard to case.
    pub fn get(&self, name: &str) -> Option<&RoleDefinition> {
        let name = name.trim();
        self.roles
            .iter()
            .find(|role| role.name.eq_ignore_ascii_case(name))
    }

    /// As [`RoleCatalog::get`], but an unknown name is an error listing the known ones.
    pub fn require(&self, name: &str) -> Result<&RoleDefinition, RoleError> {
        self.get(name).ok_or_else(|| RoleError::UnknownRoles {
            names: vec![name.to_string()],
            known: self.names(),
        })
    }

    pub fn roles(&self) -> &[RoleDefinition] {
        &self.roles
    }

    /// The role names, in catalog order.
    pub fn names(&self) -> Vec<String> {
        self.roles.iter().map(|role| role.name.clone()).collect()
    }

    /// Files that could not be loaded (`fatal`) and fields that were ignored or adjusted.
    pub fn problems(&self) -> &[RoleLoadProblem] {
        &self.problems
    }

    /// Narrows to the names given (`--agents Security,Backend`), in the order given; an unknown
    /// name is an error listing the known ones. Entries may themselves hold comma-separated
    /// names; case is ignored, repeats are dropped, and an empty list keeps every role.
    pub fn restrict(&self, names: &[String]) -> Result<RoleCatalog, RoleError> {
        let wanted: Vec<&str> = names
            .iter()
            .flat_map(|entry| entry.split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        if wanted.is_empty() {
            return Ok(self.clone());
        }
        let mut roles: Vec<RoleDefinition> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for name in wanted {
            match self.get(name) {
                Some(role) if roles.iter().any(|chosen| chosen.name == role.name) => {}
                Some(role) => roles.push(role.clone()),
                None if unknown.iter().any(|seen| seen.eq_ignore_ascii_case(name)) => {}
                None => unknown.push(name.to_string()),
            }
        }
        if !unknown.is_empty() {
            return Err(RoleError::UnknownRoles {
                names: unknown,
                known: self.names(),
            });
        }
        Ok(RoleCatalog {
            roles,
            problems: self.problems.clone(),
        })
    }
}

/// Accumulates roles level by level.
struct Builder {
    roles: Vec<(RoleDefinition, Level)>,
    problems: Vec<RoleLoadProblem>,
}

impl Builder {
    fn from_builtin() -> Self {
        let roles = BUILTIN_ROLE_FILES
            .iter()
            .map(|(file_name, text)| {
                let path = Path::new("built-in").join(file_name);
                let (mut role, notices) = parse_role_file(&path, text, RoleFormat::Cadre)
                    .unwrap_or_else(|problem| {
                        panic!("built-in role {file_name} does not parse: {problem}")
                    });
                debug_assert!(notices.is_empty(), "{file_name}: {notices:?}");
                role.source = RoleSource::Builtin;
                (role, Level::Builtin)
            })
            .collect();
        Builder {
            roles,
            problems: Vec::new(),
        }
    }

    fn load_dir(&mut self, role_dir: &RoleDir, level: Level) {
        let entries = match std::fs::read_dir(&role_dir.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return,
            Err(error) => {
                self.problems.push(RoleLoadProblem {
                    path: role_dir.dir.clone(),
                    field: None,
                    message: format!("cannot read the directory: {error}"),
                    fatal: true,
                });
                return;
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                let name = path.file_name().map(|name| name.to_string_lossy());
                !name.is_some_and(|name| name.starts_with('.'))
                    && path
                        .extension()
                        .is_some_and(|ext| ext == role_dir.extension)
                    && path.is_file()
            })
            .collect();
        paths.sort();
        for path in paths {
            self.load_file(&path, role_dir.format, level);
        }
    }

    fn load_file(&mut self, path: &Path, format: RoleFormat, level: Level) {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                self.problems.push(RoleLoadProblem {
                    path: path.to_path_buf(),
                    field: None,
                    message: format!("cannot read the file: {error}"),
                    fatal: true,
                });
                return;
            }
        };
        self.load_text(path, &text, format, level);
    }

    fn load_text(&mut self, path: &Path, text: &str, format: RoleFormat, level: Level) {
        let is_readme = path
            .file_stem()
            .is_some_and(|stem| stem.eq_ignore_ascii_case("readme"));
        if is_readme && !text.trim_start_matches('\u{feff}').starts_with("---") {
            return;
        }
        match parse_role_file(path, text, format) {
            Ok((role, notices)) => {
                self.problems.extend(notices);
                self.add(role, level);
            }
            Err(problem) => self.problems.push(problem),
        }
    }

    /// Adds a role; one of the same name is replaced in place. Within one level that is
    /// probably a mistake, so it is reported.
    fn add(&mut self, role: RoleDefinition, level: Level) {
        let existing = self
            .roles
            .iter()
            .position(|(known, _)| known.name.eq_ignore_ascii_case(&role.name));
        let Some(index) = existing else {
            self.roles.push((role, level));
            return;
        };
        let (replaced, replaced_level) = &self.roles[index];
        if *replaced_level == level
            && let RoleSource::File { path, .. } = &role.source
        {
            self.problems.push(RoleLoadProblem {
                path: path.clone(),
                field: Some("name".into()),
                message: format!(
                    "replaces the role `{}` defined in {}",
                    replaced.name, replaced.source
                ),
                fatal: false,
            });
        }
        self.roles[index] = (role, level);
    }

    fn finish(self) -> RoleCatalog {
        RoleCatalog {
            roles: self.roles.into_iter().map(|(role, _)| role).collect(),
            problems: self.problems,
        }
    }
}
