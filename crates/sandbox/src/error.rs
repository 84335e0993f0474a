use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "the `{profile}` profile cannot be enforced on this machine: {reason}. Use a kernel with Landlock and seccomp, or choose `--profile trusted` knowingly"
    )]
    Unsupported { profile: String, reason: String },
    #[error("writing {path} is not allowed under the `{profile}` profile{hint}")]
    WriteDenied {
        path: PathBuf,
        profile: String,
        hint: String,
    },
    #[error("could not start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("empty command")]
    EmptyCommand,
    #[error("sandbox I/O error: {0}")]
    Io(#[from] std::io::Error),
}
