//! Write isolation and change accounting with git.
//!
//! A snapshot of a directory is the tree id of everything git would add there (written through a
//! private copy of the index, so the user's index is never touched). The diff of two snapshots is
//! what an agent changed, by whatever means (patch tool or shell). An isolated agent works in its
//! own `git worktree` on a temporary branch that starts from the main checkout's snapshot; its
//! changes are applied back to the main checkout with `git apply`, and when they do not apply the
//! branch is kept with the changes committed on it.

use crate::report::{FileChanged, MergeConflict};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
#[error("git {args}: {message}")]
pub struct GitError {
    args: String,
    message: String,
}

async fn git(dir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Result<String, GitError> {
    git_with_input(dir, args, envs, None).await
}

async fn git_with_input(
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &Path)],
    input: Option<&[u8]>,
) -> Result<String, GitError> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (key, value) in envs {
        command.env(key, value);
    }
    let error = |message: String| GitError {
        args: args.join(" "),
        message,
    };
    let mut child = command.spawn().map_err(|e| error(e.to_string()))?;
    if let Some(input) = input
        && let Some(mut stdin) = child.stdin.take()
    {
        stdin
            .write_all(input)
            .await
            .map_err(|e| error(e.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| error(e.to_string()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(error(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ))
    }
}

/// The root of the git work tree holding `cwd`, when there is one with at least one commit.
pub async fn repo_root(cwd: &Path) -> Option<PathBuf> {
    let root = git(cwd, &["rev-parse", "--show-toplevel"], &[])
        .await
        .ok()?;
    git(cwd, &["rev-parse", "--verify", "-q", "HEAD"], &[])
        .await
        .ok()?;
    Some(PathBuf::from(root.trim()))
}

/// The tree id of everything git would commit in `dir` (tracked and untracked, ignored files
/// left out), without touching the real index.
pub async fn snapshot(dir: &Path) -> Result<String, GitError> {
    let scratch = tempfile::Builder::new()
        .prefix("cadre-index-")
        .tempdir()
        .map_err(|e| GitError {
            args: "snapshot".into(),
            message: e.to_string(),
        })?;
    let index = scratch.path().join("index");
    // Starting from a copy of the real index keeps its stat data, so unchanged files are not
    // hashed again.
    let real = git(dir, &["rev-parse", "--git-path", "index"], &[]).await?;
    let real = dir.join(real.trim());
    if std::fs::copy(&real, &index).is_err() {
        git(dir, &["read-tree", "HEAD"], &[("GIT_INDEX_FILE", &index)]).await?;
    }
    git(dir, &["add", "-A", "."], &[("GIT_INDEX_FILE", &index)]).await?;
    let tree = git(dir, &["write-tree"], &[("GIT_INDEX_FILE", &index)]).await?;
    Ok(tree.trim().to_string())
}

/// Files that differ between two snapshots, with lines added and removed (0 for binary files).
pub async fn diff_stats(dir: &Path, from: &str, to: &str) -> Result<Vec<FileChanged>, GitError> {
    if from == to {
        return Ok(Vec::new());
    }
    let text = git(dir, &["diff", "--numstat", "--no-renames", from, to], &[]).await?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let added = parts.next()?.parse().unwrap_or(0);
            let removed = parts.next()?.parse().unwrap_or(0);
            Some(FileChanged {
                path: parts.next()?.to_string(),
                added,
                removed,
            })
        })
        .collect())
}

/// An agent's own checkout.
#[derive(Debug, Clone)]
pub struct Worktree {
    pub path: PathBuf,
    pub branch: String,
    /// The snapshot it started from.
    pub base: String,
}

/// Creates a worktree on a new branch holding the main checkout's current state (`base`, a
/// snapshot of `repo`).
pub async fn create(
    repo: &Path,
    parent_dir: &Path,
    branch: &str,
    base: &str,
) -> Result<Worktree, GitError> {
    let path = parent_dir.join(branch.replace('/', "-"));
    let path_text = path.display().to_string();
    git(
        repo,
        &["worktree", "add", "-q", "-b", branch, &path_text, "HEAD"],
        &[],
    )
    .await?;
    let head_tree = git(repo, &["rev-parse", "HEAD^{tree}"], &[]).await?;
    if head_tree.trim() != base {
        let patch = git(
            repo,
            &["diff", "--binary", "--no-renames", head_tree.trim(), base],
            &[],
        )
        .await?;
        if !patch.is_empty() {
            git_with_input(
                &path,
                &["apply", "--whitespace=nowarn", "-"],
                &[],
                Some(patch.as_bytes()),
            )
            .await?;
        }
    }
    Ok(Worktree {
        path,
        branch: branch.to_string(),
        base: base.to_string(),
    })
}

/// Applies the changes between two snapshots to the main checkout. On failure nothing is
/// applied, the changes are committed on the worktree's branch (kept for the user) and the
/// conflict names the files.
pub async fn merge_back(
    repo: &Path,
    worktree: &Worktree,
    after: &str,
    changed: &[FileChanged],
) -> Result<(), MergeConflict> {
    if worktree.base == after {
        return Ok(());
    }
    let patch = git(
        repo,
        &["diff", "--binary", "--no-renames", &worktree.base, after],
        &[],
    )
    .await;
    let applied = match patch {
        Ok(patch) => git_with_input(
            repo,
            &["apply", "--whitespace=nowarn", "-"],
            &[],
            Some(patch.as_bytes()),
        )
        .await
        .map(|_| ()),
        Err(error) => Err(error),
    };
    match applied {
        Ok(()) => Ok(()),
        Err(error) => {
            let message = error.message.clone();
            let mut files: Vec<String> = changed
                .iter()
                .map(|f| f.path.clone())
                .filter(|path| message.contains(path.as_str()))
                .collect();
            if files.is_empty() {
                files = changed.iter().map(|f| f.path.clone()).collect();
            }
            let _ = git(&worktree.path, &["add", "-A", "."], &[]).await;
            let _ = git(
                &worktree.path,
                &[
                    "-c",
                    "user.name=cadre",
                    "-c",
                    "user.email=cadre@localhost",
                    "commit",
                    "-q",
                    "--no-verify",
                    "-m",
                    "cadre: changes that did not merge back",
                ],
                &[],
            )
            .await;
            let _ = remove(repo, worktree, false).await;
            Err(MergeConflict {
                files,
                branch: worktree.branch.clone(),
                message: format!(
                    "the changes do not apply to the main checkout: {message}; they are kept on branch {}",
                    worktree.branch
                ),
            })
        }
    }
}

/// Removes the worktree, and its branch when `delete_branch` is set.
pub async fn remove(repo: &Path, worktree: &Worktree, delete_branch: bool) -> Result<(), GitError> {
    let path = worktree.path.display().to_string();
    git(repo, &["worktree", "remove", "--force", &path], &[]).await?;
    if delete_branch {
        git(repo, &["branch", "-D", &worktree.branch], &[]).await?;
    }
    Ok(())
}
