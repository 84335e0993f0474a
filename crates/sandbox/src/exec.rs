//! Spawning a command (through the launcher when a profile restricts it), streaming its output,
//! and stopping it on timeout or cancellation.

use crate::{Sandbox, SandboxError};
use cadre_protocol::SecurityProfile;
use std::path::{Path, PathBuf};
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

/// A temp dir private to one command: created before it starts, removed after it ends.
#[derive(Debug)]
pub(crate) struct PrivateTmp {
    path: PathBuf,
}

impl PrivateTmp {
    fn create() -> Result<Self, SandboxError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "cadre-sandbox-{}-{nanos:x}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path)?;
        Ok(PrivateTmp { path })
    }
}

impl Drop for PrivateTmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Builds the process for `argv` (through the launcher unless the profile is `trusted`) with the
/// scrubbed environment, its private temp dir and the proxy variables.
pub(crate) fn prepare(
    sandbox: &Sandbox,
    argv: &[String],
    cwd: &Path,
) -> Result<(std::process::Command, Option<PrivateTmp>), SandboxError> {
    let policy = sandbox.policy();
    let (program, args) = argv.split_first().ok_or(SandboxError::EmptyCommand)?;
    let mut env = policy.env.apply(std::env::vars());
    if policy.profile == SecurityProfile::Trusted {
        let mut command = std::process::Command::new(program);
        command.args(args).current_dir(cwd).env_clear().envs(env);
        return Ok((command, None));
    }
    let launcher = sandbox
        .launcher()
        .ok_or_else(|| SandboxError::Unsupported {
            profile: policy.profile.to_string(),
            reason: "no launcher binary is configured to apply it".into(),
        })?;
    let tmp = PrivateTmp::create()?;
    for name in ["TMPDIR", "TMP", "TEMP"] {
        env.insert(name.into(), tmp.path.to_string_lossy().into_owned());
    }
    let policy_json = serde_json::to_string(policy).expect("policy serialises");
    let mut command = std::process::Command::new(launcher);
    command
        .arg(LAUNCHER_SUBCOMMAND)
        .arg("--policy")
        .arg(policy_json)
        .arg("--tmpdir")
        .arg(&tmp.path);
    if let Some(proxy) = sandbox.proxy() {
        for name in ["NO_PROXY", "no_proxy"] {
            env.remove(name);
        }
        for name in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "http_proxy",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            env.insert(name.into(), proxy.url());
        }
        command.arg("--proxy-port").arg(proxy.port().to_string());
    }
    command
        .arg("--")
        .arg(program)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env);
    Ok((command, Some(tmp)))
}

pub(crate) async fn run(
    sandbox: &Sandbox,
    request: CommandRequest,
    cancel: CancellationToken,
    on_output: Option<UnboundedSender<OutputChunk>>,
) -> Result<CommandOutput, SandboxError> {
    let (std_command, _private_tmp) = prepare(sandbox, &request.argv, &request.cwd)?;
    let program = request.argv.first().cloned().unwrap_or_default();
    let mut command = Command::from(std_command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);

    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|source| SandboxError::Spawn { program, source })?;
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

/// Runs `argv` with the terminal's stdin, stdout and stderr, waiting for it to finish. Cadre
/// ignores SIGINT and SIGQUIT meanwhile so that Ctrl-C reaches the command alone.
pub(crate) fn run_interactive(
    sandbox: &Sandbox,
    argv: &[String],
    cwd: &Path,
) -> Result<std::process::ExitStatus, SandboxError> {
    let (mut command, _private_tmp) = prepare(sandbox, argv, cwd)?;
    let program = argv.first().cloned().unwrap_or_default();
    let mut child = command
        .spawn()
        .map_err(|source| SandboxError::Spawn { program, source })?;
    #[cfg(unix)]
    let previous = {
        // SAFETY: signal(2) with SIG_IGN and valid signal numbers; restored below.
        unsafe {
            (
                libc::signal(libc::SIGINT, libc::SIG_IGN),
                libc::signal(libc::SIGQUIT, libc::SIG_IGN),
            )
        }
    };
    let status = child.wait();
    #[cfg(unix)]
    // SAFETY: restores the dispositions saved above.
    unsafe {
        libc::signal(libc::SIGINT, previous.0);
        libc::signal(libc::SIGQUIT, previous.1);
    }
    Ok(status?)
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
            .run(
                req("echo out; echo err >&2; exit 3", 5000),
                CancellationToken::new(),
                None,
            )
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
            .run(
                req("sleep 30 & sleep 30", 200),
                CancellationToken::new(),
                None,
            )
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
