//! Trust by content for the files a project ships that change what cadre may do: its
//! configuration, its command policy and its agent role files (`.cadre/config.toml`,
//! `.cadre/policy.toml`, `.cadre/agents/*.md`, `.claude/agents/*.md`, `.gemini/agents/*.md`).
//!
//! A cloned repository is somebody else's code. Such a file takes effect only after the user has
//! trusted its exact content with `cadre trust`, the way direnv allows an `.envrc`: the trust
//! store under `$CADRE_HOME` keeps the SHA-256 of each trusted file, and a file that is new, or
//! has changed since, is reported and ignored. Each file is read once; what is handed on is the
//! very text that was hashed, so nothing can swap the file between the check and its use.
//!
//! Where to look is bounded: the search for project files walks up from the working directory
//! and stops at the repository root (the directory that holds `.git`), never climbs above
//! `$HOME`, and outside `$HOME` without a repository looks in the working directory alone.
//!
//! This crate knows nothing of what the files mean: parsing them, and what even a trusted file
//! may not do, belong to their consumers (configuration, policy, roles).
//!
//! ```no_run
//! use cadre_trust::{ProjectFiles, TrustStore};
//! # fn demo() -> Result<(), cadre_trust::TrustError> {
//! let cwd = std::env::current_dir().unwrap();
//! let home = std::env::home_dir();
//! let store = TrustStore::in_cadre_home("/home/me/.cadre".as_ref());
//! let project = ProjectFiles::discover(&cwd, "/home/me/.cadre".as_ref(), home.as_deref())?;
//! let checked = project.check(&store.load()?);
//! if let Some(config) = checked.trusted(cadre_trust::ProjectFileKind::Config).next() {
//!     println!("{} applies", config.path.display());
//! }
//! # Ok(()) }
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod discover;
mod error;
mod store;

pub use discover::{ProjectFile, ProjectFileKind, ProjectFiles, RoleDir, project_root};
pub use error::TrustError;
pub use store::{CheckedFile, CheckedProject, TrustRecord, TrustState, TrustStore, TrustedFile};
