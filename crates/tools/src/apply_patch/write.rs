//! Writing a planned patch to disk: each file via a temporary file in the same directory and a
//! rename, so no reader sees half a file; if a later write fails, the earlier ones are undone.

use super::apply::FileWrite;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A write failed; the files already written were restored unless `rollback_failures` says
/// otherwise.
#[derive(Debug, thiserror::Error)]
#[error("could not write {path}: {source}{}", rollback_note(.rollback_failures))]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
    pub rollback_failures: Vec<PathBuf>,
}

fn rollback_note(failures: &[PathBuf]) -> String {
    if failures.is_empty() {
        "; the files written before it were restored, so nothing changed".into()
    } else {
        let paths: Vec<String> = failures.iter().map(|p| p.display().to_string()).collect();
        format!(
            "; restoring these files also failed and they may be left changed: {}",
            paths.join(", ")
        )
    }
}

/// Applies `writes` in order, all or nothing.
pub(crate) fn write_all(writes: &[FileWrite]) -> Result<(), WriteError> {
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    for (done, write) in writes.iter().enumerate() {
        if let Err(source) = write_one(write, &mut created_dirs) {
            let rollback_failures = roll_back(&writes[..done], &created_dirs);
            return Err(WriteError {
                path: write.path.clone(),
                source,
                rollback_failures,
            });
        }
    }
    Ok(())
}

fn write_one(write: &FileWrite, created_dirs: &mut Vec<PathBuf>) -> std::io::Result<()> {
    match &write.new {
        Some(bytes) => {
            if let Some(parent) = write.path.parent() {
                create_dirs(parent, created_dirs)?;
            }
            replace_file(&write.path, bytes)
        }
        None => match fs::remove_file(&write.path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        },
    }
}

/// Creates `dir` and its missing ancestors, remembering each one created so a rollback can
/// remove them again.
fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for dir in missing.into_iter().rev() {
        fs::create_dir(dir)?;
        created.push(dir.to_path_buf());
    }
    Ok(())
}

/// Restores the original content of every file written so far, newest first, then removes the
/// directories created for them. Returns the paths it could not restore.
fn roll_back(written: &[FileWrite], created_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut failures = Vec::new();
    for write in written.iter().rev() {
        let restored = match &write.original {
            Some(bytes) => replace_file(&write.path, bytes),
            None => match fs::remove_file(&write.path) {
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if restored.is_err() {
            failures.push(write.path.clone());
        }
    }
    for dir in created_dirs.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
    failures
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to a temporary sibling of `path` and renames it over `path`, keeping the
/// permissions of the file it replaces.
fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.cadre-{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let permissions = fs::metadata(path).ok().map(|m| m.permissions());
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: PathBuf, original: Option<&str>, new: Option<&str>) -> FileWrite {
        FileWrite {
            path,
            original: original.map(|s| s.as_bytes().to_vec()),
            new: new.map(|s| s.as_bytes().to_vec()),
        }
    }

    #[test]
    fn writes_creates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old").unwrap();
        fs::write(dir.path().join("gone.txt"), "bye").unwrap();
        write_all(&[
            write(dir.path().join("a.txt"), Some("old"), Some("new")),
            write(dir.path().join("sub/dir/b.txt"), None, Some("b")),
            write(dir.path().join("gone.txt"), Some("bye"), None),
        ])
        .unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "new");
        assert_eq!(
            fs::read_to_string(dir.path().join("sub/dir/b.txt")).unwrap(),
            "b"
        );
        assert!(!dir.path().join("gone.txt").exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_failed_write_restores_the_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old").unwrap();
        fs::write(dir.path().join("gone.txt"), "bye").unwrap();
        // A regular file where a directory is needed makes the last write fail.
        fs::write(dir.path().join("blocker"), "").unwrap();
        let err = write_all(&[
            write(dir.path().join("a.txt"), Some("old"), Some("new")),
            write(dir.path().join("fresh/c.txt"), None, Some("c")),
            write(dir.path().join("gone.txt"), Some("bye"), None),
            write(dir.path().join("blocker/child.txt"), None, Some("x")),
        ])
        .unwrap_err();
        assert!(err.rollback_failures.is_empty());
        assert!(err.to_string().contains("nothing changed"), "{err}");
        assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "old");
        assert_eq!(
            fs::read_to_string(dir.path().join("gone.txt")).unwrap(),
            "bye"
        );
        assert!(!dir.path().join("fresh").exists());
    }

    #[cfg(unix)]
    #[test]
    fn permissions_survive_a_rewrite() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        fs::write(&script, "echo 1").unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        write_all(&[write(script.clone(), Some("echo 1"), Some("echo 2"))]).unwrap();
        let mode = fs::metadata(&script).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }
}
