//! Finding a project's files: where the search starts, where it stops, and which files count.

use crate::error::TrustError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The directories whose `agents/*.md` files a project may ship as agent roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleDir {
    /// `.cadre/agents`
    Cadre,
    /// `.claude/agents` (Claude Code)
    ClaudeCode,
    /// `.gemini/agents` (Gemini CLI)
    GeminiCli,
}

impl RoleDir {
    pub const ALL: [RoleDir; 3] = [RoleDir::ClaudeCode, RoleDir::GeminiCli, RoleDir::Cadre];

    /// The hidden directory that holds `agents/`.
    pub fn hidden_dir(self) -> &'static str {
        match self {
            RoleDir::Cadre => ".cadre",
            RoleDir::ClaudeCode => ".claude",
            RoleDir::GeminiCli => ".gemini",
        }
    }
}

/// What a project file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectFileKind {
    /// `.cadre/config.toml`
    Config,
    /// `.cadre/policy.toml`
    Policy,
    /// `<dir>/agents/*.md`
    Role(RoleDir),
}

impl std::fmt::Display for ProjectFileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectFileKind::Config => f.write_str("configuration"),
            ProjectFileKind::Policy => f.write_str("command policy"),
            ProjectFileKind::Role(_) => f.write_str("agent role"),
        }
    }
}

/// One project file, read once.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub path: PathBuf,
    pub kind: ProjectFileKind,
    /// Hex SHA-256 of `text`'s bytes as read.
    pub sha256: String,
    pub(crate) text: String,
}

/// The files of the project around a working directory that change what cadre may do.
#[derive(Debug, Clone)]
pub struct ProjectFiles {
    /// The repository root, or the working directory when there is no repository.
    pub root: PathBuf,
    pub files: Vec<ProjectFile>,
}

/// The project's root for `cwd` and the directories searched for its files, nearest first.
///
/// The walk up from `cwd` stops at the first directory that holds `.git` (the repository root)
/// and never reaches `$HOME` or above: `$HOME`'s own hidden directories are the user's, not a
/// project's, so in `$HOME` itself nothing is searched. Outside `$HOME`, without a repository,
/// only `cwd` is searched, so a directory such as `/tmp` cannot plant files for everything
/// below it.
pub fn project_root(cwd: &Path, user_home: Option<&Path>) -> (PathBuf, Vec<PathBuf>) {
    if user_home.is_some_and(|home| home.starts_with(cwd)) {
        return (cwd.to_path_buf(), Vec::new());
    }
    let mut searched = Vec::new();
    for dir in cwd.ancestors() {
        if user_home.is_some_and(|home| home.starts_with(dir)) {
            break;
        }
        searched.push(dir.to_path_buf());
        if dir.join(".git").exists() {
            return (dir.to_path_buf(), searched);
        }
    }
    if !user_home.is_some_and(|home| cwd.starts_with(home)) {
        searched = vec![cwd.to_path_buf()];
    }
    (cwd.to_path_buf(), searched)
}

impl ProjectFiles {
    /// Reads the project files that apply in `cwd`: for each kind, those of the nearest searched
    /// directory that has it. `cadre_home`'s own files are never project files.
    pub fn discover(
        cwd: &Path,
        cadre_home: &Path,
        user_home: Option<&Path>,
    ) -> Result<ProjectFiles, TrustError> {
        let (root, searched) = project_root(cwd, user_home);
        let cadre_home = cadre_home
            .canonicalize()
            .unwrap_or_else(|_| cadre_home.to_path_buf());
        let is_project_dir = |dir: &Path| {
            dir.is_dir()
                && dir
                    .canonicalize()
                    .map_or(dir != cadre_home, |dir| dir != cadre_home)
        };
        let mut files = Vec::new();
        for (name, kind) in [
            ("config.toml", ProjectFileKind::Config),
            ("policy.toml", ProjectFileKind::Policy),
        ] {
            let nearest = searched
                .iter()
                .map(|dir| dir.join(".cadre"))
                .filter(|dir| is_project_dir(dir))
                .map(|dir| dir.join(name))
                .find(|file| file.is_file());
            if let Some(path) = nearest {
                files.push(read(path, kind)?);
            }
        }
        for role_dir in RoleDir::ALL {
            let nearest = searched
                .iter()
                .map(|dir| dir.join(role_dir.hidden_dir()))
                .filter(|dir| is_project_dir(dir))
                .map(|dir| dir.join("agents"))
                .find(|agents| agents.is_dir());
            let Some(agents) = nearest else { continue };
            let entries = std::fs::read_dir(&agents).map_err(|source| TrustError::Read {
                path: agents.clone(),
                source,
            })?;
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| {
                    let hidden = path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with('.'));
                    !hidden && path.extension().is_some_and(|ext| ext == "md") && path.is_file()
                })
                .collect();
            paths.sort();
            for path in paths {
                files.push(read(path, ProjectFileKind::Role(role_dir))?);
            }
        }
        Ok(ProjectFiles { root, files })
    }
}

fn read(path: PathBuf, kind: ProjectFileKind) -> Result<ProjectFile, TrustError> {
    let bytes = std::fs::read(&path).map_err(|source| TrustError::Read {
        path: path.clone(),
        source,
    })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(ProjectFile {
        path,
        kind,
        sha256,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_search_stops_at_the_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let outer = home.join("outer");
        let repo = outer.join("repo");
        let cwd = repo.join("src/deep");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        write(&outer.join(".cadre/config.toml"), "profile = \"trusted\"\n");
        write(&repo.join(".cadre/policy.toml"), "");

        let (root, searched) = project_root(&cwd, Some(&home));
        assert_eq!(root, repo);
        assert_eq!(searched.last().unwrap(), &repo);
        let files = ProjectFiles::discover(&cwd, &home.join(".cadre"), Some(&home)).unwrap();
        let kinds: Vec<_> = files.files.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![ProjectFileKind::Policy], "{files:?}");
    }

    #[test]
    fn the_search_never_climbs_to_home_or_above() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let cwd = home.join("projects/plain");
        std::fs::create_dir_all(&cwd).unwrap();
        write(&dir.path().join(".cadre/config.toml"), "");
        write(&home.join(".claude/agents/mine.md"), "");
        write(&home.join("projects/.cadre/config.toml"), "");

        let (_, searched) = project_root(&cwd, Some(&home));
        assert_eq!(searched, vec![cwd.clone(), home.join("projects")]);
        assert!(project_root(&home, Some(&home)).1.is_empty());
        let files = ProjectFiles::discover(&cwd, &home.join(".cadre"), Some(&home)).unwrap();
        let paths: Vec<_> = files.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(paths, vec![home.join("projects/.cadre/config.toml")]);
    }

    #[test]
    fn outside_home_without_a_repository_only_the_working_directory_counts() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let cwd = dir.path().join("shared/sub");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        write(&dir.path().join("shared/.cadre/config.toml"), "");
        let (root, searched) = project_root(&cwd, Some(&home));
        assert_eq!((root, searched), (cwd.clone(), vec![cwd.clone()]));
        let files = ProjectFiles::discover(&cwd, &home.join(".cadre"), Some(&home)).unwrap();
        assert!(files.files.is_empty());
    }

    #[test]
    fn the_cadre_home_is_not_a_project_and_role_files_are_listed_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        write(&repo.join(".cadre/config.toml"), "model = \"x\"\n");
        write(&repo.join(".claude/agents/b.md"), "b");
        write(&repo.join(".claude/agents/a.md"), "a");
        write(&repo.join(".claude/agents/.hidden.md"), "h");
        write(&repo.join(".claude/agents/notes.txt"), "n");
        let files = ProjectFiles::discover(&repo, &repo.join(".cadre"), None).unwrap();
        let names: Vec<_> = files
            .files
            .iter()
            .map(|f| f.path.strip_prefix(&repo).unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec![".claude/agents/a.md", ".claude/agents/b.md"]);
        assert_eq!(
            files.files[0].sha256,
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
        );
    }
}
