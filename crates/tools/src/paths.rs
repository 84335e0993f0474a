//! Resolving the paths a model writes against the session's working directory.

use std::path::{Path, PathBuf};

/// `path` as an absolute path: relative paths are taken from `cwd`; `~` is not expanded (the
/// model should not rely on a home directory).
pub(crate) fn resolve(cwd: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// How a found path is shown to the model: relative to `cwd` when it lies inside it.
pub(crate) fn display_relative(cwd: &Path, path: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_join_cwd_and_absolute_ones_stay() {
        let cwd = Path::new("/work/repo");
        assert_eq!(resolve(cwd, "src/a.rs"), Path::new("/work/repo/src/a.rs"));
        assert_eq!(resolve(cwd, "/etc/hosts"), Path::new("/etc/hosts"));
        assert_eq!(
            display_relative(cwd, Path::new("/work/repo/src/a.rs")),
            "src/a.rs"
        );
        assert_eq!(display_relative(cwd, Path::new("/tmp/x")), "/tmp/x");
        assert_eq!(display_relative(cwd, cwd), ".");
    }
}
