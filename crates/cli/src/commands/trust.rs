//! `cadre trust`: let a project's own files (configuration, command policy, agent roles) take
//! effect, list what is trusted, and take trust back.

use crate::cli_env::CliEnv;
use anyhow::Context;
use cadre_trust::{CheckedProject, ProjectFileKind, ProjectFiles, TrustState, TrustStore};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// The project (any directory inside it); default: the current directory.
    dir: Option<PathBuf>,
    /// List the trusted projects and their files.
    #[arg(long, conflicts_with_all = ["revoke", "dir"])]
    list: bool,
    /// Take back the trust given to the project.
    #[arg(long)]
    revoke: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// A project's files and whether each is trusted, as `doctor` and `trust` print them.
#[derive(Debug, Serialize)]
pub struct ProjectReport {
    pub root: PathBuf,
    pub files: Vec<ProjectFileReport>,
}

#[derive(Debug, Serialize)]
pub struct ProjectFileReport {
    pub path: PathBuf,
    pub kind: &'static str,
    pub state: TrustState,
}

fn kind_name(kind: ProjectFileKind) -> &'static str {
    match kind {
        ProjectFileKind::Config => "config",
        ProjectFileKind::Policy => "policy",
        ProjectFileKind::Role(_) => "role",
    }
}

impl ProjectReport {
    pub fn of(project: &CheckedProject) -> ProjectReport {
        ProjectReport {
            root: project.root.clone(),
            files: project
                .files
                .iter()
                .map(|file| ProjectFileReport {
                    path: file.path.clone(),
                    kind: kind_name(file.kind),
                    state: file.state,
                })
                .collect(),
        }
    }
}

pub fn run(args: TrustArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    let cadre_home = cadre_core::config::default_cadre_home()?;
    let store = TrustStore::in_cadre_home(&cadre_home);
    let mut out = std::io::stdout().lock();
    if args.list {
        let records = store.load()?;
        match args.format {
            Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&records)?)?,
            Format::Text if records.is_empty() => writeln!(out, "no project is trusted")?,
            Format::Text => {
                for record in &records {
                    writeln!(
                        out,
                        "{}  (trusted {})",
                        record.project.display(),
                        record.trusted_at.format("%Y-%m-%d %H:%M UTC")
                    )?;
                    for file in &record.files {
                        writeln!(out, "  {}  {}", &file.sha256[..12], file.path.display())?;
                    }
                }
            }
        }
        return Ok(0);
    }

    let dir = project_dir(args.dir.as_deref())?;
    let user_home = std::env::home_dir();
    let files = ProjectFiles::discover(&dir, &cadre_home, user_home.as_deref())?;
    if args.revoke {
        let removed = store.revoke(&files.root)?;
        match (args.format, removed) {
            (Format::Json, removed) => {
                writeln!(out, "{}", serde_json::to_string_pretty(&removed)?)?
            }
            (Format::Text, Some(_)) => writeln!(
                out,
                "{}: trust revoked; its files are ignored from now on",
                files.root.display()
            )?,
            (Format::Text, None) => writeln!(out, "{}: was not trusted", files.root.display())?,
        }
        return Ok(0);
    }
    if files.files.is_empty() {
        match args.format {
            Format::Json => writeln!(out, "null")?,
            Format::Text => writeln!(
                out,
                "{}: no project files to trust (.cadre/config.toml, .cadre/policy.toml, agent role files)",
                files.root.display()
            )?,
        }
        return Ok(0);
    }
    let record = store.trust(&files)?;
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&record)?)?,
        Format::Text => {
            writeln!(
                out,
                "{}: trusted these files as they are now:",
                files.root.display()
            )?;
            for file in &files.files {
                writeln!(
                    out,
                    "  {:<14} {}  {}",
                    file.kind.to_string(),
                    &file.sha256[..12],
                    file.path.display()
                )?;
            }
            writeln!(
                out,
                "An edit or a new file is ignored until you run `cadre trust` again."
            )?;
        }
    }
    Ok(0)
}

fn project_dir(dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    match dir {
        Some(dir) => std::fs::canonicalize(dir)
            .with_context(|| format!("cannot use {} as the project directory", dir.display())),
        None => std::env::current_dir().context("cannot read the current directory"),
    }
}
