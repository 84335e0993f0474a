//! Runs the commands cadre's agents choose under a security profile that the kernel enforces.
//!
//! It owns the profiles' meaning (which roots are writable, whether the network is reachable and
//! through which proxy), the environment scrubbing, the Linux enforcement (Landlock, seccomp,
//! mount and user namespaces, capabilities), the allowlisting network proxy and the confinement
//! that the command's process applies to itself between `fork` and `exec`. It knows nothing about
//! models, tools or sessions: callers hand it an argv and a policy and get back a finished
//! process.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cadre_sandbox::SandboxError> {
//! use cadre_sandbox::{CommandRequest, Sandbox, SandboxPolicy};
//! use cadre_protocol::SecurityProfile;
//! let policy = SandboxPolicy::new(SecurityProfile::WorkspaceWrite, "/src/project");
//! // No launcher binary is needed: the child confines itself before it execs the command.
//! let sandbox = Sandbox::new(policy, None)?;
//! let request = CommandRequest {
//!     argv: vec!["cargo".into(), "test".into()],
//!     cwd: "/src/project".into(),
//!     timeout: None,
//! };
//! let output = sandbox.run(request, Default::default(), None).await?;
//! # Ok(()) }
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[cfg(target_os = "linux")]
mod capabilities;
#[cfg(target_os = "linux")]
mod confinement;
#[cfg(target_os = "linux")]
mod death_guard;
mod env_policy;
mod error;
mod exec;
#[cfg(target_os = "linux")]
mod landlock_rules;
mod launcher;
#[cfg(target_os = "linux")]
mod mount_namespace;
#[cfg(target_os = "linux")]
mod namespace_handoff;
mod policy;
mod proxy;
#[cfg(target_os = "linux")]
mod seccomp_filter;
mod support;

pub use cadre_protocol::DomainAllowlist;
pub use env_policy::{EnvInherit, EnvPolicy};
pub use error::SandboxError;
pub use exec::{CommandOutput, CommandRequest, LAUNCHER_SUBCOMMAND, OutputChunk, OutputStream};
pub use policy::SandboxPolicy;
pub use proxy::{NetworkProxy, ProxyDecision, ProxyObserver};
pub use support::{ProfileSupport, SupportReport, support_report};

use cadre_protocol::SecurityProfile;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// A configured sandbox: a policy plus what is needed to enforce it.
#[derive(Debug, Clone)]
pub struct Sandbox {
    policy: SandboxPolicy,
    /// The binary that serves `__sandbox-exec` (normally `cadre` itself), for callers that want
    /// a separate launcher process; the sandbox's own runs do not need it.
    launcher: Option<PathBuf>,
    /// The allowlisting proxy of the network profiles; stops when the last clone is dropped.
    proxy: Option<Arc<NetworkProxy>>,
}

impl Sandbox {
    /// A sandbox that enforces `policy`: each command's process confines itself between `fork`
    /// and `exec`. `launcher` is only recorded (see [`Sandbox::launcher`]). Starts the network
    /// proxy for the network profiles. Fails when the kernel cannot enforce
    /// the profile; never degrades silently.
    pub fn new(policy: SandboxPolicy, launcher: Option<PathBuf>) -> Result<Self, SandboxError> {
        Self::with_proxy_observer(policy, launcher, None)
    }

    /// As [`Sandbox::new`], telling `observer` of every decision of the network proxy.
    pub fn with_proxy_observer(
        policy: SandboxPolicy,
        launcher: Option<PathBuf>,
        observer: Option<ProxyObserver>,
    ) -> Result<Self, SandboxError> {
        if policy.profile != SecurityProfile::Trusted
            && let Some(reason) = support::profile_support_reason()
        {
            return Err(SandboxError::Unsupported {
                profile: policy.profile.to_string(),
                reason,
            });
        }
        let proxy = if policy.profile.allows_network() && policy.profile != SecurityProfile::Trusted
        {
            let allowlist = DomainAllowlist::new(&policy.network_allow);
            Some(Arc::new(NetworkProxy::start_observed(allowlist, observer)?))
        } else {
            None
        };
        Ok(Sandbox {
            policy,
            launcher,
            proxy,
        })
    }

    pub fn policy(&self) -> &SandboxPolicy {
        &self.policy
    }

    pub fn launcher(&self) -> Option<&Path> {
        self.launcher.as_deref()
    }

    /// The proxy the network profiles' commands go through (None for the other profiles).
    pub fn proxy(&self) -> Option<&NetworkProxy> {
        self.proxy.as_deref()
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

    /// Runs `argv` in `cwd` attached to this process's stdin, stdout and stderr (interactive use,
    /// `cadre sandbox`) and returns how it ended. Blocking.
    pub fn run_interactive(
        &self,
        argv: &[String],
        cwd: &Path,
    ) -> Result<std::process::ExitStatus, SandboxError> {
        exec::run_interactive(self, argv, cwd)
    }

    /// Confines this very process and replaces it with `argv`, run in `cwd` with this process's
    /// stdin, stdout and stderr: one process instead of two, and the command's exit status
    /// becomes the caller's. Returns only on failure. Under a restricting profile the command's
    /// private temp dir is a fresh tmpfs (mode 0700, at most a quarter of the memory) inside its
    /// own mount namespace, gone when the command ends. Not for the network profiles (their proxy
    /// runs in this process) and not for a process that has started threads: the confinement
    /// needs a single-threaded process (it fails closed otherwise).
    pub fn exec_in_place(&self, argv: &[String], cwd: &Path) -> SandboxError {
        exec::exec_in_place(self, argv, cwd)
    }
}

/// Entry point of the launcher: `cadre __sandbox-exec --policy JSON -- PROGRAM [ARGS...]`.
/// Applies the policy to this process and execs the program; never returns.
pub fn launcher_main(args: Vec<std::ffi::OsString>) -> ! {
    launcher::main(args)
}
