//! Spawning a command (through the launcher when a profile restricts it), streaming its output,
//! and stopping it on timeout or cancellation.

use crate::{Sandbox, SandboxError};
use cadre_protocol::SecurityProfile;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// The hidden subcommand of the launcher binary that applies a policy and execs a command.
pub const LAUNCHER_SUBCOMMAND: &str = "__sandbox-exec";

#[derive(Debug, Clone)]
pub struct CommandRequest {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone)]
pub struct OutputChunk {
    pub stream: OutputStream,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct CommandOutput {
    /// None when the process was killed by a signal.
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Stdout and stderr interleaved in the order they arrived.
    pub aggregated: Vec<u8>,
    pub duration: Duration,
    pub timed_out: bool,
    pub cancelled: bool,
}

impl CommandOutput {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

pub(crate) async fn run(
    sandbox: &Sandbox,
    request: CommandRequest,
    cancel: CancellationToken,
    on_output: Option<UnboundedSender<OutputChunk>>,
) -> Result<CommandOutput, SandboxError> {
    let policy = sandbox.policy();
    let (program, args) = request.argv.split_first().ok_or(SandboxError::EmptyCommand)?;
    let mut command = if policy.profile == SecurityProfile::Trusted {
        let mut c = Command::new(program);
        c.args(args);
        c
    } else {
        let launcher = sandbox
            .launcher()
            .ok_or_else(|| SandboxError::Unsupported {
                profile: policy.profile.to_string(),
                reason: "no launcher binary is configured to apply it".into(),
            })?;
        let policy_json = serde_json::to_string(policy).expect("policy serialises");
        let mut c = Command::new(launcher);
        c.arg(LAUNCHER_SUBCOMMAND)
            .arg("--policy")
            .arg(policy_json)
            .arg("--")
            .arg(program)
            .args(args);
        c
    };
    command
        .current_dir(&request.cwd)
        .env_clear()
        .envs(policy.env.apply(std::env::vars()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);

    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| SandboxError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pid = child.id();
    let aggregated = Arc::new(Mutex::new(Vec::new()));
    let stdout_task = tokio::spawn(pump(
        child.stdout.take().expect("piped"),
        OutputStream::Stdout,
        aggregated.clone(),
        on_output.clone(),
    ));
    let stderr_task = tokio::spawn(pump(
        child.stderr.take().expect("piped"),
        OutputStream::Stderr,
        aggregated.clone(),
        on_output,
    ));

    let timeout = request.timeout.unwrap_or(Duration::from_secs(60 * 60 * 24));
    let mut timed_out = false;
    let mut cancelled = false;
    let status = tokio::select! {
        status = child.wait() => Some(status?),
        _ = tokio::time::sleep(timeout) => { timed_out = true; None }
        _ = cancel.cancelled() => { cancelled = true; None }
    };
    let status = match status {
        Some(status) => status,
        None => {
            kill_group(pid);
            let _ = child.start_kill();
            child.wait().await?
        }
    };
    // Children that outlive the shell keep the pipes open; do not wait on them forever.
    let drain = Duration::from_millis(if timed_out || cancelled { 200 } else { 2000 });
    let stdout = tokio::time::timeout(drain, stdout_task)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let stderr = tokio::time::timeout(drain, stderr_task)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    kill_group(pid);
    let aggregated = std::mem::take(&mut *aggregated.lock().expect("output lock"));

    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal = None;
    Ok(CommandOutput {
        exit_code: status.code(),
        signal,
        stdout,
        stderr,
        aggregated,
        duration: started.elapsed(),
        timed_out,
        cancelled,
    })
}

async fn pump(
    mut reader: impl AsyncRead + Unpin,
    stream: OutputStream,
    aggregated: Arc<Mutex<Vec<u8>>>,
    on_output: Option<UnboundedSender<OutputChunk>>,
) -> Vec<u8> {
    let mut own = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                own.extend_from_slice(&buf[..n]);
                aggregated
                    .lock()
                    .expect("output lock")
                    .extend_from_slice(&buf[..n]);
                if let Some(tx) = &on_output {
                    let _ = tx.send(OutputChunk {
                        stream,
                        bytes: buf[..n].to_vec(),
                    });
                }
            }
        }
    }
    own
}

fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        // SAFETY: kill(2) with a negative pid signals the process group we created; it has no
        // memory-safety preconditions.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SandboxPolicy;

    fn trusted() -> Sandbox {
        Sandbox::new(
            SandboxPolicy::new(SecurityProfile::Trusted, std::env::temp_dir()),
            None,
        )
        .unwrap()
    }

    fn req(script: &str, timeout_ms: u64) -> CommandRequest {
        CommandRequest {
            argv: vec!["bash".into(), "-c".into(), script.into()],
            cwd: std::env::temp_dir(),
            timeout: Some(Duration::from_millis(timeout_ms)),
        }
    }

    #[tokio::test]
    async fn captures_output_and_exit_code() {
        let out = trusted()
            .run(req("echo out; echo err >&2; exit 3", 5000), CancellationToken::new(), None)
            .await
            .unwrap();
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.aggregated.len(), 8);
    }

    #[tokio::test]
    async fn timeout_kills_the_process_group() {
        let out = trusted()
            .run(req("sleep 30 & sleep 30", 200), CancellationToken::new(), None)
            .await
            .unwrap();
        assert!(out.timed_out);
        assert!(out.duration < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn restricted_profile_without_launcher_refuses() {
        let sandbox = Sandbox::new(
            SandboxPolicy::new(SecurityProfile::Offline, std::env::temp_dir()),
            None,
        )
        .unwrap();
        let err = sandbox
            .run(req("true", 1000), CancellationToken::new(), None)
            .await
            .unwrap_err();
        assert!(matches!(err, SandboxError::Unsupported { .. }));
    }
}
