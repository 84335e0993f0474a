//! Working out what a patch does to each file, entirely in memory: nothing is written until
//! every hunk of every file has been placed.

use super::parser::{Hunk, Patch, PatchOperation};
use super::seek_sequence::{seek_header, seek_sequence};
use cadre_protocol::{FileChange, FileChangeKind};
use std::path::{Path, PathBuf};

/// Why a patch cannot be applied; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyPatchError {
    #[error("cannot update {path}: the file does not exist{hint}")]
    Missing { path: String, hint: &'static str },
    #[error("cannot delete {path}: the file does not exist{hint}")]
    MissingDelete { path: String, hint: &'static str },
    #[error("cannot change {path}: it is a directory")]
    Directory { path: String },
    #[error("cannot update {path}: it is not UTF-8 text; apply_patch edits text files only")]
    NotText { path: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "failed to apply patch to {path}: hunk {hunk} of {hunks} {problem}. Its first lines were:\n{excerpt}\nNo file was changed; read the file again and resend the whole patch with context lines copied exactly"
    )]
    HunkMismatch {
        path: String,
        hunk: usize,
        hunks: usize,
        problem: String,
        excerpt: String,
    },
}

/// One file's fate: its bytes before and after (None: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileWrite {
    pub path: PathBuf,
    pub original: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
}

/// Everything a patch will do, ready to be approved and written.
#[derive(Debug)]
pub(crate) struct PatchPlan {
    /// One entry per operation, paths as the patch wrote them.
    pub changes: Vec<FileChange>,
    /// One entry per file whose content changes, absolute paths, in the order first touched.
    pub writes: Vec<FileWrite>,
    /// `A path`, `M path`, `D path` lines for the model.
    pub summary: Vec<String>,
}

impl PatchPlan {
    /// Every absolute path the patch writes or deletes, including unchanged move sources.
    pub fn target_paths(&self) -> impl Iterator<Item = &Path> {
        self.writes.iter().map(|w| w.path.as_path())
    }
}

#[derive(Default)]
struct Workspace {
    files: Vec<FileWrite>,
}

impl Workspace {
    /// The in-memory state of `path`, read from disk on first touch.
    fn entry(&mut self, path: &Path, shown: &Path) -> Result<&mut FileWrite, ApplyPatchError> {
        let path = write_target(path);
        if let Some(index) = self.files.iter().position(|f| f.path == path) {
            return Ok(&mut self.files[index]);
        }
        if path.is_dir() {
            return Err(ApplyPatchError::Directory {
                path: shown.display().to_string(),
            });
        }
        let original = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ApplyPatchError::Read {
                    path: shown.display().to_string(),
                    source,
                });
            }
        };
        self.files.push(FileWrite {
            path,
            new: original.clone(),
            original,
        });
        Ok(self.files.last_mut().expect("just pushed"))
    }
}

/// A symlinked file is edited where it points, so the link survives.
fn write_target(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// Computes the new content of every file `patch` touches, relative paths taken from `cwd`.
pub(crate) fn plan_patch(cwd: &Path, patch: &Patch) -> Result<PatchPlan, ApplyPatchError> {
    let mut workspace = Workspace::default();
    let mut changes = Vec::new();
    let mut summary = Vec::new();
    for operation in &patch.operations {
        match operation {
            PatchOperation::Add { path, contents } => {
                let entry = workspace.entry(&cwd.join(path), path)?;
                entry.new = Some(contents.clone().into_bytes());
                changes.push(FileChange {
                    path: path.clone(),
                    kind: FileChangeKind::Add,
                    move_path: None,
                    bytes: contents.len() as u64,
                });
                summary.push(format!("A {}", path.display()));
            }
            PatchOperation::Delete { path } => {
                let entry = workspace.entry(&cwd.join(path), path)?;
                if entry.new.is_none() {
                    return Err(ApplyPatchError::MissingDelete {
                        path: path.display().to_string(),
                        hint: deleted_hint(entry),
                    });
                }
                entry.new = None;
                changes.push(FileChange {
                    path: path.clone(),
                    kind: FileChangeKind::Delete,
                    move_path: None,
                    bytes: 0,
                });
                summary.push(format!("D {}", path.display()));
            }
            PatchOperation::Update {
                path,
                move_to,
                hunks,
            } => {
                let entry = workspace.entry(&cwd.join(path), path)?;
                let shown = path.display().to_string();
                let Some(current) = &entry.new else {
                    return Err(ApplyPatchError::Missing {
                        path: shown,
                        hint: deleted_hint(entry),
                    });
                };
                let text = std::str::from_utf8(current).map_err(|_| ApplyPatchError::NotText {
                    path: shown.clone(),
                })?;
                let updated =
                    apply_hunks(text, hunks).map_err(|mismatch| ApplyPatchError::HunkMismatch {
                        path: shown.clone(),
                        hunk: mismatch.hunk + 1,
                        hunks: hunks.len(),
                        problem: mismatch.problem,
                        excerpt: excerpt(&hunks[mismatch.hunk]),
                    })?;
                let bytes = updated.len() as u64;
                match move_to {
                    Some(dest) => {
                        entry.new = None;
                        let dest_entry = workspace.entry(&cwd.join(dest), dest)?;
                        dest_entry.new = Some(updated.into_bytes());
                        summary.push(format!("M {}", dest.display()));
                    }
                    None => {
                        entry.new = Some(updated.into_bytes());
                        summary.push(format!("M {shown}"));
                    }
                }
                changes.push(FileChange {
                    path: path.clone(),
                    kind: FileChangeKind::Update,
                    move_path: move_to.clone(),
                    bytes,
                });
            }
        }
    }
    let writes = workspace
        .files
        .into_iter()
        .filter(|f| f.original != f.new)
        .collect();
    Ok(PatchPlan {
        changes,
        writes,
        summary,
    })
}

fn deleted_hint(entry: &FileWrite) -> &'static str {
    if entry.original.is_some() {
        " (an earlier part of this patch removed it)"
    } else {
        "; use `*** Add File:` to create it"
    }
}

/// The first lines a failing hunk looked for, indented for the error message.
fn excerpt(hunk: &Hunk) -> String {
    let mut lines: Vec<String> = hunk
        .context
        .iter()
        .map(|header| format!("  @@ {header}"))
        .collect();
    lines.extend(hunk.old_lines().iter().take(3).map(|l| format!("  {l}")));
    if lines.is_empty() {
        lines.push("  (no lines)".into());
    }
    lines.join("\n")
}

/// Which hunk could not be placed, and why.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HunkMismatch {
    /// 0-based.
    pub hunk: usize,
    pub problem: String,
}

/// Applies `hunks` to `text`, in order, each searched for after the previous one. Line endings
/// (LF or CRLF) and the presence of a final newline are preserved.
pub(crate) fn apply_hunks(text: &str, hunks: &[Hunk]) -> Result<String, HunkMismatch> {
    let crlf = text.contains("\r\n");
    let ends_with_newline = text.is_empty() || text.ends_with('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut lines: Vec<String> = if text.is_empty() {
        Vec::new()
    } else {
        body.split('\n')
            .map(|line| {
                if crlf {
                    line.strip_suffix('\r').unwrap_or(line).to_string()
                } else {
                    line.to_string()
                }
            })
            .collect()
    };

    let mut replacements: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut cursor = 0;
    for (index, hunk) in hunks.iter().enumerate() {
        for header in &hunk.context {
            let found = seek_header(&lines, header, cursor).ok_or_else(|| HunkMismatch {
                hunk: index,
                problem: format!("names `@@ {header}`, which was not found"),
            })?;
            cursor = found + 1;
        }
        let mut old = hunk.old_lines();
        let mut new = hunk.new_lines();
        if old.is_empty() {
            let at = if hunk.context.is_empty() {
                lines.len()
            } else {
                cursor
            };
            replacements.push((at, 0, to_owned(&new)));
            continue;
        }
        let mut found = seek_sequence(&lines, &old, cursor, hunk.end_of_file);
        // A trailing empty context line often stands for the file's final newline.
        if found.is_none() && old.last() == Some(&"") {
            old.pop();
            if new.last() == Some(&"") {
                new.pop();
            }
            found = seek_sequence(&lines, &old, cursor, hunk.end_of_file);
        }
        let Some(at) = found else {
            return Err(HunkMismatch {
                hunk: index,
                problem: "did not match the file".into(),
            });
        };
        replacements.push((at, old.len(), to_owned(&new)));
        cursor = at + old.len();
    }
    replacements.sort_by_key(|(at, _, _)| *at);
    for (at, removed, added) in replacements.into_iter().rev() {
        lines.splice(at..at + removed, added);
    }

    let separator = if crlf { "\r\n" } else { "\n" };
    let mut out = lines.join(separator);
    if ends_with_newline && !lines.is_empty() {
        out.push_str(separator);
    }
    Ok(out)
}

fn to_owned(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply_patch::parse_patch;

    fn hunks(body: &str) -> Vec<Hunk> {
        let patch = parse_patch(&format!(
            "*** Begin Patch\n*** Update File: f\n{body}\n*** End Patch"
        ))
        .unwrap();
        match patch.operations.into_iter().next().unwrap() {
            PatchOperation::Update { hunks, .. } => hunks,
            _ => unreachable!(),
        }
    }

    #[test]
    fn replaces_lines_in_order_and_keeps_the_final_newline() {
        let text = "a\nb\nc\nd\nb\n";
        let out = apply_hunks(text, &hunks("@@\n a\n-b\n+B\n@@\n d\n-b\n+X\n+Y")).unwrap();
        assert_eq!(out, "a\nB\nc\nd\nX\nY\n");
    }

    #[test]
    fn headers_narrow_the_search() {
        let text = "fn one() {\n    x\n}\nfn two() {\n    x\n}\n";
        let out = apply_hunks(text, &hunks("@@ fn two\n-    x\n+    y")).unwrap();
        assert_eq!(out, "fn one() {\n    x\n}\nfn two() {\n    y\n}\n");
    }

    #[test]
    fn crlf_and_missing_final_newline_are_preserved() {
        let out = apply_hunks("a\r\nb\r\nc", &hunks("-b\n+B")).unwrap();
        assert_eq!(out, "a\r\nB\r\nc");
    }

    #[test]
    fn end_of_file_hunks_match_at_the_end_and_pure_additions_append() {
        let out = apply_hunks("x\ny\nx\n", &hunks("-x\n+z\n*** End of File")).unwrap();
        assert_eq!(out, "x\ny\nz\n");
        let out = apply_hunks("x\n", &hunks("+y")).unwrap();
        assert_eq!(out, "x\ny\n");
        let out = apply_hunks("", &hunks("+first")).unwrap();
        assert_eq!(out, "first\n");
    }

    #[test]
    fn trailing_blank_context_may_stand_for_the_final_newline() {
        let out = apply_hunks("a\nb\n", &hunks(" a\n-b\n+c\n ")).unwrap();
        assert_eq!(out, "a\nc\n");
    }

    #[test]
    fn mismatches_name_the_hunk() {
        let err = apply_hunks("a\nb\n", &hunks("-a\n+A\n@@\n-zzz\n+q")).unwrap_err();
        assert_eq!(err.hunk, 1);
        let err = apply_hunks("a\n", &hunks("@@ fn nowhere\n-a")).unwrap_err();
        assert!(err.problem.contains("fn nowhere"));
    }

    #[test]
    fn hunks_are_searched_after_the_previous_one() {
        // The second hunk's lines occur only before the first hunk: no match.
        let err = apply_hunks("b\na\n", &hunks("-a\n+A\n@@\n-b\n+B")).unwrap_err();
        assert_eq!(err.hunk, 1);
    }
}
