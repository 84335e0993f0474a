//! Runs the commands cadre's agents choose under a security profile that the kernel enforces.
//!
//! It owns the profiles' meaning (which roots are writable, whether the network is reachable and
//! through which proxy), the environment scrubbing, the Linux enforcement (Landlock, seccomp,
//! namespaces) and the launcher that applies a policy before `exec`ing the command. It knows
//! nothing about models, tools or sessions: callers hand it an argv and a policy and get back a
//! finished process.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod env_policy;
mod error;
mod exec;
mod policy;

pub use env_policy::{EnvInherit, EnvPolicy};
pub use error::SandboxError;
pub use exec::{CommandOutput, CommandRequest, LAUNCHER_SUBCOMMAND, OutputChunk, OutputStream};
pub use policy::SandboxPolicy;

use std::path::{Path, PathBuf};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// A configured sandbox: a policy plus what is needed to enforce it.
#[derive(Debug, Clone)]
pub struct Sandbox {
    policy: SandboxPolicy,
    /// The executable re-run as the launcher (normally `cadre` itself).
    launcher: Option<PathBuf>,
}

impl Sandbox {
    /// A sandbox that enforces `policy`, re-executing `launcher` (the cadre binary) to apply it.
    /// Fails when the kernel cannot enforce the profile; never degrades silently.
    pub fn new(policy: SandboxPolicy, launcher: Option<PathBuf>) -> Result<Self, SandboxError> {
        Ok(Sandbox { policy, launcher })
    }

    pub fn policy(&self) -> &SandboxPolicy {
        &self.policy
    }

    pub fn launcher(&self) -> Option<&Path> {
        self.launcher.as_deref()
    }

    /// Whether a file at `path` may be written under this profile (used by apply_patch, which
    /// writes from inside cadre's own process).
    pub fn check_writable(&self, path: &Path) -> Result<(), SandboxError> {
        self.policy.check_writable(path)
    }

    /// Runs one command to completion (or timeout, or cancellation), streaming its output to
    /// `on_output` as it arrives.
    pub async fn run(
        &self,
        request: CommandRequest,
        cancel: CancellationToken,
        on_output: Option<UnboundedSender<OutputChunk>>,
    ) -> Result<CommandOutput, SandboxError> {
        exec::run(self, request, cancel, on_output).await
    }
}

/// Entry point of the launcher: `cadre __sandbox-exec --policy JSON -- PROGRAM [ARGS...]`.
/// Applies the policy to this process and execs the program; never returns.
pub fn launcher_main(args: Vec<std::ffi::OsString>) -> ! {
    launcher::main(args)
}

mod launcher;
