//! Errors from loading policy files.

use std::path::PathBuf;

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file exists but could not be read.
    #[error("could not read policy file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid rule file.
    #[error(
        "invalid policy file {}{}: {message}; fix or remove the file",
        path.display(),
        location(*line, key.as_deref())
    )]
    Invalid {
        path: PathBuf,
        /// 1-based line of the offending value, when known.
        line: Option<usize>,
        /// The key whose value is wrong (or the unknown key), when known.
        key: Option<String>,
        /// What was expected.
        message: String,
    },
}

fn location(line: Option<usize>, key: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(line) = line {
        text.push_str(&format!(", line {line}"));
    }
    if let Some(key) = key {
        text.push_str(&format!(", key `{key}`"));
    }
    text
}
