//! The trust store (`$CADRE_HOME/trusted-projects.json`) and the check of a project against it.

use crate::discover::{ProjectFileKind, ProjectFiles};
use crate::error::TrustError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const STORE_FILE: &str = "trusted-projects.json";
const STORE_VERSION: u32 = 1;

/// One file's trusted content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedFile {
    pub path: PathBuf,
    pub sha256: String,
}

/// What `cadre trust` recorded for one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRecord {
    /// The project's root (see [`crate::project_root`]).
    pub project: PathBuf,
    pub trusted_at: DateTime<Utc>,
    pub files: Vec<TrustedFile>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    version: u32,
    projects: Vec<TrustRecord>,
}

/// The records of trusted projects.
#[derive(Debug, Clone)]
pub struct TrustStore {
    path: PathBuf,
}

impl TrustStore {
    pub fn in_cadre_home(cadre_home: &Path) -> TrustStore {
        TrustStore {
            path: cadre_home.join(STORE_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every record; none when the store does not exist yet.
    pub fn load(&self) -> Result<Vec<TrustRecord>, TrustError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(TrustError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let store: StoreFile = serde_json::from_str(&text).map_err(|e| TrustError::Damaged {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        if store.version != STORE_VERSION {
            return Err(TrustError::Damaged {
                path: self.path.clone(),
                message: format!("version {} is not {STORE_VERSION}", store.version),
            });
        }
        Ok(store.projects)
    }

    /// Trusts the current content of every file of `project`, replacing an earlier record of
    /// the same project.
    pub fn trust(&self, project: &ProjectFiles) -> Result<TrustRecord, TrustError> {
        let mut records = self.load()?;
        records.retain(|record| record.project != project.root);
        let record = TrustRecord {
            project: project.root.clone(),
            trusted_at: Utc::now(),
            files: project
                .files
                .iter()
                .map(|file| TrustedFile {
                    path: file.path.clone(),
                    sha256: file.sha256.clone(),
                })
                .collect(),
        };
        records.push(record.clone());
        self.save(records)?;
        Ok(record)
    }

    /// Removes the record of the project rooted at `root`; returns it, if there was one.
    pub fn revoke(&self, root: &Path) -> Result<Option<TrustRecord>, TrustError> {
        let mut records = self.load()?;
        let Some(index) = records.iter().position(|record| record.project == root) else {
            return Ok(None);
        };
        let removed = records.remove(index);
        self.save(records)?;
        Ok(Some(removed))
    }

    /// Writes the whole store to a temporary file beside it and renames it into place, so a
    /// crash or a full disk leaves the old store whole.
    fn save(&self, projects: Vec<TrustRecord>) -> Result<(), TrustError> {
        let write_error = |source| TrustError::Write {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(write_error)?;
        }
        let text = serde_json::to_string_pretty(&StoreFile {
            version: STORE_VERSION,
            projects,
        })
        .expect("the trust store serialises");
        let temporary = self
            .path
            .with_extension(format!("json.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result.map_err(write_error)
    }
}

/// Whether a project file may take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustState {
    /// Its content is the content the user trusted.
    Trusted,
    /// The user never trusted this file.
    Untrusted,
    /// The user trusted other content under this path: it changed since.
    Changed,
}

impl std::fmt::Display for TrustState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TrustState::Trusted => "trusted",
            TrustState::Untrusted => "not trusted",
            TrustState::Changed => "changed since it was trusted",
        })
    }
}

/// One project file with its verdict.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    pub path: PathBuf,
    pub kind: ProjectFileKind,
    pub state: TrustState,
    text: String,
}

impl CheckedFile {
    /// The text that was hashed; only a trusted file's is handed out.
    pub fn trusted_text(&self) -> Option<&str> {
        (self.state == TrustState::Trusted).then_some(self.text.as_str())
    }
}

/// A project's files, each trusted or not.
#[derive(Debug, Clone, Default)]
pub struct CheckedProject {
    pub root: PathBuf,
    pub files: Vec<CheckedFile>,
}

impl CheckedProject {
    /// The trusted files of `kind`, in discovery order.
    pub fn trusted(&self, kind: ProjectFileKind) -> impl Iterator<Item = &CheckedFile> {
        self.files
            .iter()
            .filter(move |file| file.kind == kind && file.state == TrustState::Trusted)
    }

    /// The files that are ignored because they are not trusted as they are.
    pub fn ignored(&self) -> impl Iterator<Item = &CheckedFile> {
        self.files
            .iter()
            .filter(|file| file.state != TrustState::Trusted)
    }
}

impl ProjectFiles {
    /// Judges each file against the trust records.
    pub fn check(&self, records: &[TrustRecord]) -> CheckedProject {
        let files = self
            .files
            .iter()
            .map(|file| {
                let mut known = records
                    .iter()
                    .flat_map(|record| &record.files)
                    .filter(|trusted| trusted.path == file.path)
                    .peekable();
                let state = if known.peek().is_none() {
                    TrustState::Untrusted
                } else if known.any(|trusted| trusted.sha256 == file.sha256) {
                    TrustState::Trusted
                } else {
                    TrustState::Changed
                };
                CheckedFile {
                    path: file.path.clone(),
                    kind: file.kind,
                    state,
                    text: file.text.clone(),
                }
            })
            .collect();
        CheckedProject {
            root: self.root.clone(),
            files,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusting_applies_the_exact_content_and_an_edit_makes_it_inert() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("cadre-home");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join(".cadre")).unwrap();
        let config = repo.join(".cadre/config.toml");
        std::fs::write(&config, "model = \"a\"\n").unwrap();
        let store = TrustStore::in_cadre_home(&home);

        let files = ProjectFiles::discover(&repo, &home, None).unwrap();
        assert_eq!(
            files.check(&store.load().unwrap()).files[0].state,
            TrustState::Untrusted
        );
        let record = store.trust(&files).unwrap();
        assert_eq!(record.project, repo);
        let checked = files.check(&store.load().unwrap());
        assert_eq!(
            checked
                .trusted(ProjectFileKind::Config)
                .next()
                .unwrap()
                .trusted_text(),
            Some("model = \"a\"\n")
        );

        std::fs::write(&config, "model = \"b\"\n").unwrap();
        let files = ProjectFiles::discover(&repo, &home, None).unwrap();
        let checked = files.check(&store.load().unwrap());
        assert_eq!(checked.files[0].state, TrustState::Changed);
        assert_eq!(checked.files[0].trusted_text(), None);
        assert_eq!(checked.ignored().count(), 1);

        assert!(store.revoke(&repo).unwrap().is_some());
        assert!(store.revoke(&repo).unwrap().is_none());
        assert!(store.load().unwrap().is_empty());
    }

    #[test]
    fn a_damaged_store_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let store = TrustStore::in_cadre_home(dir.path());
        std::fs::write(store.path(), "{not json").unwrap();
        let message = store.load().unwrap_err().to_string();
        assert!(message.contains("cadre trust"), "{message}");
    }
}
