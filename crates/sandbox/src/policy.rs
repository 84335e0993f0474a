//! What a profile means for one run: the writable roots and the network rule.

use crate::{EnvPolicy, SandboxError};
use cadre_protocol::SecurityProfile;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// Everything the sandbox needs to know to confine one session's commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxPolicy {
    pub profile: SecurityProfile,
    /// The workspace: writable under the workspace profiles.
    pub workspace: PathBuf,
    /// More writable roots under the workspace profiles.
    #[serde(default)]
    pub extra_writable_roots: Vec<PathBuf>,
    /// Let commands write inside `.git` (hooks, config). Off by default.
    #[serde(default)]
    pub allow_git_writes: bool,
    /// Domains reachable through the proxy in the network profiles (`*.example.com` allowed);
    /// empty means every domain.
    #[serde(default)]
    pub network_allow: Vec<String>,
    #[serde(default)]
    pub env: EnvPolicy,
    /// More paths that stay read-only when they lie inside a writable root: cadre's own home
    /// (trust store, audit log, sessions), which no command may rewrite.
    #[serde(default)]
    pub read_only_paths: Vec<PathBuf>,
}

impl SandboxPolicy {
    pub fn new(profile: SecurityProfile, workspace: impl Into<PathBuf>) -> Self {
        SandboxPolicy {
            profile,
            workspace: workspace.into(),
            extra_writable_roots: Vec::new(),
            allow_git_writes: false,
            network_allow: Vec::new(),
            env: EnvPolicy::default(),
            read_only_paths: Vec::new(),
        }
    }

    /// Roots a command may write under (besides its private temp dir).
    pub fn writable_roots(&self) -> Vec<PathBuf> {
        if !self.profile.allows_workspace_writes() {
            return Vec::new();
        }
        let mut roots = vec![self.workspace.clone()];
        roots.extend(self.extra_writable_roots.iter().cloned());
        roots
    }

    /// Paths inside writable roots that stay read-only.
    pub fn read_only_subpaths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        for root in self.writable_roots() {
            if !self.allow_git_writes {
                paths.push(root.join(".git"));
            }
            paths.push(root.join(".cadre"));
            for path in &self.read_only_paths {
                if path.starts_with(&root) && path.exists() && !paths.contains(path) {
                    paths.push(path.clone());
                }
            }
        }
        paths
    }

    /// The writable roots' `.git` directories that exist and stay read-only under this policy.
    pub fn protected_git_dirs(&self) -> Vec<PathBuf> {
        if self.allow_git_writes {
            return Vec::new();
        }
        self.writable_roots()
            .iter()
            .map(|root| root.join(".git"))
            .filter(|git| git.exists())
            .collect()
    }

    /// What to tell whoever reads a failed command's output (the agent, the user) when the
    /// failure looks like a refused write to a read-only `.git`: which profile kept it read-only
    /// and which setting lets commands write it. `None` when `.git` is not protected here or the
    /// output shows no read-only file system error.
    pub fn git_write_hint(&self, output: &str) -> Option<String> {
        // The kernel's EROFS message, as every libc and git prints it, on a line that names
        // `.git` (git's own errors name the file it could not write).
        if !output
            .lines()
            .any(|line| line.contains("Read-only file system") && line.contains(".git"))
        {
            return None;
        }
        let git = self.protected_git_dirs().into_iter().next()?;
        Some(format!(
            "{} is read-only under profile {}; set `sandbox.allow_git_writes = true` \
             (or `-c sandbox.allow_git_writes=true`) to let commands write it",
            git.display(),
            self.profile
        ))
    }

    /// Lexical and symlink-aware check that `path` lies in a writable root and outside the
    /// protected sub-paths.
    pub fn check_writable(&self, path: &Path) -> Result<(), SandboxError> {
        if self.profile == SecurityProfile::Trusted {
            return Ok(());
        }
        let resolved = resolve_for_write(path);
        let deny = |hint: &str| SandboxError::WriteDenied {
            path: path.to_path_buf(),
            profile: self.profile.to_string(),
            hint: hint.to_string(),
        };
        if !self.profile.allows_workspace_writes() {
            return Err(deny(
                "; the profile is read-only: rerun with `--profile workspace-write` to let cadre edit files",
            ));
        }
        let roots: Vec<PathBuf> = self
            .writable_roots()
            .iter()
            .map(|r| resolve_for_write(r))
            .collect();
        if !roots.iter().any(|r| resolved.starts_with(r)) {
            return Err(deny("; it is outside the workspace"));
        }
        for protected in self.read_only_subpaths() {
            if resolved.starts_with(resolve_for_write(&protected)) {
                let hint = if protected.ends_with(".git") {
                    "; .git stays read-only inside the workspace: set `sandbox.allow_git_writes = true` to let cadre write it"
                } else {
                    "; .cadre stays read-only inside the workspace"
                };
                return Err(deny(hint));
            }
        }
        Ok(())
    }
}

/// Canonicalises the longest existing ancestor of `path` (following symlinks) and appends the
/// rest lexically, so a not-yet-existing file is judged by where it would really land.
fn resolve_for_write(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other.as_os_str()),
        }
    }
    let mut existing = normal.clone();
    let mut tail = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for part in tail.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                tail.push(name);
                existing = parent.to_path_buf();
            }
            _ => return normal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_write_allows_inside_only() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join(".git")).unwrap();
        let policy = SandboxPolicy::new(SecurityProfile::WorkspaceWrite, &ws);
        assert!(policy.check_writable(&ws.join("src/new.rs")).is_ok());
        assert!(policy.check_writable(&ws.join("../outside.txt")).is_err());
        assert!(
            policy
                .check_writable(&ws.join(".git/hooks/pre-commit"))
                .is_err()
        );
        assert!(
            policy
                .check_writable(&ws.join(".cadre/policy.toml"))
                .is_err()
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path(), ws.join("escape")).unwrap();
            assert!(policy.check_writable(&ws.join("escape/x.txt")).is_err());
        }
    }

    #[test]
    fn a_read_only_git_error_names_the_profile_and_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        let mut policy = SandboxPolicy::new(SecurityProfile::WorkspaceWrite, dir.path());
        let erofs = "error: could not lock config file .git/config: Read-only file system";
        let hint = policy.git_write_hint(erofs).expect("a hint");
        assert!(hint.contains("profile workspace-write"), "{hint}");
        assert!(hint.contains("sandbox.allow_git_writes"), "{hint}");
        assert_eq!(policy.git_write_hint("error: Permission denied"), None);
        assert_eq!(
            policy.git_write_hint("bash: ../elsewhere.txt: Read-only file system"),
            None,
            "a refused write elsewhere is not about .git"
        );
        policy.allow_git_writes = true;
        assert_eq!(policy.git_write_hint(erofs), None);
        let offline = SandboxPolicy::new(SecurityProfile::Offline, dir.path());
        assert_eq!(
            offline.git_write_hint(erofs),
            None,
            "nothing is writable there anyway"
        );
    }

    #[test]
    fn offline_allows_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let policy = SandboxPolicy::new(SecurityProfile::Offline, dir.path());
        assert!(policy.check_writable(&dir.path().join("a")).is_err());
    }
}
