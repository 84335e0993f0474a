//! Spawning a command (confined in the forked child when a profile restricts it), streaming its
//! output, and stopping it on timeout or cancellation.

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
    /// A name no other command of this machine uses at the same time.
    fn unique_name() -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!(
            "cadre-sandbox-{}-{nanos:x}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn create() -> Result<Self, SandboxError> {
        let path = std::env::temp_dir().join(Self::unique_name());
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

/// Where a confined command's private temp dir lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrivateTmpKind {
    /// A directory cadre creates before the command and removes after it (cadre waits for it).
    Directory,
    /// A fresh tmpfs inside the command's mount namespace, gone with it (cadre execs the command
    /// in place and is not there afterwards).
    Tmpfs,
}

/// The existing directory, private to this user, that each command's private tmpfs is mounted
/// over inside its own mount namespace; created on first use. Refused unless it is a real
/// directory owned by this user and closed to everyone else, so that no other user can decide
/// where the tmpfs goes.
fn tmpfs_mount_point() -> Result<PathBuf, String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let path = std::env::temp_dir().join(format!("cadre-tmpfs-{uid}"));
    let cannot = |e: std::io::Error| {
        format!(
            "cannot prepare {}, where the private temp dir's tmpfs is mounted: {e}",
            path.display()
        )
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(cannot(error)),
    }
    let metadata = std::fs::symlink_metadata(&path).map_err(cannot)?;
    if !metadata.is_dir() || metadata.uid() != uid || metadata.mode() & 0o077 != 0 {
        return Err(format!(
            "{}, where the private temp dir's tmpfs is mounted, must be a directory owned by uid {uid} with mode 0700 (remove it and retry)",
            path.display()
        ));
    }
    path.canonicalize().map_err(cannot)
}

/// Whether cadre takes over the command's mount namespace when the command exits (see
/// `namespace_handoff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamespaceHandoff {
    /// For a caller that goes on running and can let go of it in the background.
    Take,
    /// For a caller about to exit, whose own exit would pay the teardown anyway.
    Skip,
}

/// A command ready to spawn, with what must outlive it.
pub(crate) struct Prepared {
    pub(crate) command: std::process::Command,
    pub(crate) aftermath: Aftermath,
}

/// What the command's run leaves to collect once it has been spawned.
pub(crate) struct Aftermath {
    private_tmp: Option<PrivateTmp>,
    /// Where the confined child sends its mount namespace (see `namespace_handoff`).
    #[cfg(target_os = "linux")]
    namespace: Option<crate::namespace_handoff::Receiver>,
}

impl Aftermath {
    /// Call once the command has been spawned (its child has exec'd).
    fn spawned(self) -> Leftovers {
        Leftovers {
            #[cfg(target_os = "linux")]
            namespace: self
                .namespace
                .as_ref()
                .and_then(crate::namespace_handoff::Receiver::take),
            private_tmp: self.private_tmp,
        }
    }
}

/// What a spawned command leaves behind once it has ended: its private temp dir and (Linux) a
/// reference to its mount namespace.
struct Leftovers {
    // Declared first so that it is dropped first (see `release`).
    #[cfg(target_os = "linux")]
    namespace: Option<crate::namespace_handoff::HeldNamespace>,
    private_tmp: Option<PrivateTmp>,
}

impl Leftovers {
    /// Removes the private temp dir and lets go of the namespace. With a namespace held, both
    /// happen on tokio's blocking pool, the namespace first: the temp dir is a mount point in
    /// it, and removing a mount point of a live namespace waits for the same RCU grace period
    /// as the namespace's teardown. The caller never waits for either.
    fn release(self) {
        #[cfg(target_os = "linux")]
        if let Some(namespace) = self.namespace {
            let private_tmp = self.private_tmp;
            drop(tokio::task::spawn_blocking(move || {
                drop(namespace);
                drop(private_tmp);
            }));
            return;
        }
        drop(self.private_tmp);
    }
}

/// Builds the process for `argv` with the scrubbed environment, its private temp dir and the
/// proxy variables; under a restricting profile the child confines itself between `fork` and
/// `exec` (no second program runs first).
pub(crate) fn prepare(
    sandbox: &Sandbox,
    argv: &[String],
    cwd: &Path,
    namespace_handoff: NamespaceHandoff,
    tmp_kind: PrivateTmpKind,
) -> Result<Prepared, SandboxError> {
    let policy = sandbox.policy();
    let (program, args) = argv.split_first().ok_or(SandboxError::EmptyCommand)?;
    let mut env = policy.env.apply(std::env::vars());
    let mut command = std::process::Command::new(program);
    command.args(args).current_dir(cwd).env_clear();
    if policy.profile == SecurityProfile::Trusted {
        command.envs(env);
        return Ok(Prepared {
            command,
            aftermath: Aftermath {
                private_tmp: None,
                #[cfg(target_os = "linux")]
                namespace: None,
            },
        });
    }
    let tmp = match tmp_kind {
        PrivateTmpKind::Directory => TmpLayout::Directory(PrivateTmp::create()?),
        PrivateTmpKind::Tmpfs => {
            let mount_point = tmpfs_mount_point().map_err(|reason| SandboxError::Unsupported {
                profile: policy.profile.to_string(),
                reason,
            })?;
            let dir = mount_point.join(PrivateTmp::unique_name());
            TmpLayout::Tmpfs { mount_point, dir }
        }
    };
    for name in ["TMPDIR", "TMP", "TEMP"] {
        env.insert(name.into(), tmp.dir().to_string_lossy().into_owned());
    }
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
    }
    command.envs(env);
    #[cfg(target_os = "linux")]
    let namespace = confine_child(&mut command, sandbox, &tmp, cwd, namespace_handoff)?;
    #[cfg(not(target_os = "linux"))]
    confine_child(&mut command, sandbox, &tmp, cwd, namespace_handoff)?;
    Ok(Prepared {
        command,
        aftermath: Aftermath {
            private_tmp: match tmp {
                TmpLayout::Directory(tmp) => Some(tmp),
                TmpLayout::Tmpfs { .. } => None,
            },
            #[cfg(target_os = "linux")]
            namespace,
        },
    })
}

/// The private temp dir of one confined command.
enum TmpLayout {
    Directory(PrivateTmp),
    /// `dir` beneath a tmpfs that the command's process mounts over `mount_point`.
    Tmpfs {
        mount_point: PathBuf,
        dir: PathBuf,
    },
}

impl TmpLayout {
    fn dir(&self) -> &Path {
        match self {
            TmpLayout::Directory(tmp) => &tmp.path,
            TmpLayout::Tmpfs { dir, .. } => dir,
        }
    }
}

/// Installs the confinement as the command's `pre_exec` hook; returns the receiving end of the
/// child's mount-namespace hand-off.
#[cfg(target_os = "linux")]
fn confine_child(
    command: &mut std::process::Command,
    sandbox: &Sandbox,
    tmp: &TmpLayout,
    cwd: &Path,
    namespace_handoff: NamespaceHandoff,
) -> Result<Option<crate::namespace_handoff::Receiver>, SandboxError> {
    use std::os::unix::process::CommandExt;
    let policy = sandbox.policy();
    let proxy_port = sandbox.proxy().map(|proxy| proxy.port());
    let unsupported = |reason| SandboxError::Unsupported {
        profile: policy.profile.to_string(),
        reason,
    };
    let writable_tmp = match tmp {
        TmpLayout::Directory(tmp) => Some(tmp.path.as_path()),
        TmpLayout::Tmpfs { .. } => None,
    };
    let confinement =
        crate::confinement::Confinement::prepare(policy, writable_tmp, proxy_port, cwd)
            .map_err(unsupported)?;
    let Some(mut confinement) = confinement else {
        return Ok(None);
    };
    if let TmpLayout::Tmpfs { mount_point, dir } = tmp {
        confinement
            .with_private_tmpfs(mount_point, dir)
            .map_err(unsupported)?;
    }
    // Without the socket the command only pays its namespace's teardown itself.
    let receiver = match namespace_handoff {
        NamespaceHandoff::Skip => None,
        NamespaceHandoff::Take => match crate::namespace_handoff::channel() {
            Ok((receiver, sender)) => {
                confinement.hand_namespace_to(sender);
                Some(receiver)
            }
            Err(_) => None,
        },
    };
    // SAFETY: the hook runs in the forked child, where only async-signal-safe work is
    // allowed (cadre may be multi-threaded), or in this process right before it execs in place;
    // `Confinement::apply` makes raw syscalls on data prepared above and neither allocates nor
    // locks.
    unsafe {
        command.pre_exec(move || confinement.apply().map_err(|f| f.into_io_error()));
    }
    Ok(receiver)
}

#[cfg(not(target_os = "linux"))]
fn confine_child(
    _command: &mut std::process::Command,
    sandbox: &Sandbox,
    _tmp: &TmpLayout,
    _cwd: &Path,
    _namespace_handoff: NamespaceHandoff,
) -> Result<(), SandboxError> {
    Err(SandboxError::Unsupported {
        profile: sandbox.policy().profile.to_string(),
        reason: format!(
            "{} has no kernel enforcement cadre can use",
            std::env::consts::OS
        ),
    })
}

/// The error of a failed spawn: the confinement step that failed in the child, or the OS error.
fn spawn_error(sandbox: &Sandbox, program: String, source: std::io::Error) -> SandboxError {
    #[cfg(target_os = "linux")]
    if let Some(failure) = crate::confinement::Failure::from_io_error(&source) {
        return SandboxError::Unsupported {
            profile: sandbox.policy().profile.to_string(),
            reason: failure.to_string(),
        };
    }
    let _ = sandbox;
    SandboxError::Spawn { program, source }
}

pub(crate) async fn run(
    sandbox: &Sandbox,
    request: CommandRequest,
    cancel: CancellationToken,
    on_output: Option<UnboundedSender<OutputChunk>>,
) -> Result<CommandOutput, SandboxError> {
    let Prepared {
        command: mut std_command,
        aftermath,
    } = prepare(
        sandbox,
        &request.argv,
        &request.cwd,
        NamespaceHandoff::Take,
        PrivateTmpKind::Directory,
    )?;
    // The command and its process group die with cadre, even on SIGKILL.
    #[cfg(target_os = "linux")]
    crate::death_guard::install(&mut std_command);
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
    #[cfg(target_os = "linux")]
    let spawned = crate::death_guard::spawn(command).await;
    #[cfg(not(target_os = "linux"))]
    let spawned = command.spawn();
    let mut child = spawned.map_err(|source| spawn_error(sandbox, program, source))?;
    let leftovers = aftermath.spawned();
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
    leftovers.release();
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
/// ignores SIGINT and SIGQUIT meanwhile so that Ctrl-C reaches the command alone, and passes
/// SIGTERM and SIGHUP sent to cadre on to the command (so the private temp dir is still removed).
/// Call it from a thread that lives as long as cadre (the main thread): on Linux the command is
/// killed when that thread ends.
pub(crate) fn run_interactive(
    sandbox: &Sandbox,
    argv: &[String],
    cwd: &Path,
) -> Result<std::process::ExitStatus, SandboxError> {
    let Prepared {
        mut command,
        aftermath,
    } = prepare(
        sandbox,
        argv,
        cwd,
        NamespaceHandoff::Skip,
        PrivateTmpKind::Directory,
    )?;
    #[cfg(target_os = "linux")]
    crate::death_guard::die_with_cadre(&mut command);
    let program = argv.first().cloned().unwrap_or_default();
    let mut child = command
        .spawn()
        .map_err(|source| spawn_error(sandbox, program, source))?;
    drop(command);
    let leftovers = aftermath.spawned();
    let status = {
        #[cfg(unix)]
        let _forwarding = signal_forwarding::Forwarding::start(child.id());
        child.wait()
    };
    leftovers.release();
    Ok(status?)
}

/// Confines this very process and replaces it with `argv` (see [`Sandbox::exec_in_place`]).
/// Returns only on failure.
pub(crate) fn exec_in_place(sandbox: &Sandbox, argv: &[String], cwd: &Path) -> SandboxError {
    if sandbox.proxy().is_some() {
        return SandboxError::Unsupported {
            profile: sandbox.policy().profile.to_string(),
            reason: "a network profile's proxy must outlive the command, so cadre cannot exec the command in its place".into(),
        };
    }
    let Prepared {
        mut command,
        aftermath: _,
    } = match prepare(
        sandbox,
        argv,
        cwd,
        NamespaceHandoff::Skip,
        PrivateTmpKind::Tmpfs,
    ) {
        Ok(prepared) => prepared,
        Err(error) => return error,
    };
    let program = argv.first().cloned().unwrap_or_default();
    #[cfg(unix)]
    {
        // Runs the confinement hook in this process, then execs; returns only on failure.
        let source = std::os::unix::process::CommandExt::exec(&mut command);
        spawn_error(sandbox, program, source)
    }
    #[cfg(not(unix))]
    {
        let _ = (&mut command, program);
        SandboxError::Unsupported {
            profile: sandbox.policy().profile.to_string(),
            reason: "exec in place needs a Unix system".into(),
        }
    }
}

#[cfg(unix)]
mod signal_forwarding {
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The command that forwarded signals go to (0: none).
    static TARGET: AtomicI32 = AtomicI32::new(0);
    const IGNORED: [libc::c_int; 2] = [libc::SIGINT, libc::SIGQUIT];
    const FORWARDED: [libc::c_int; 2] = [libc::SIGTERM, libc::SIGHUP];

    extern "C" fn forward(signal: libc::c_int) {
        let pid = TARGET.load(Ordering::Relaxed);
        if pid > 0 {
            // SAFETY: kill(2) is async-signal-safe and has no memory-safety preconditions.
            unsafe { libc::kill(pid, signal) };
        }
    }

    /// Signal dispositions changed while a command runs; restored on drop.
    pub(super) struct Forwarding {
        previous: [(libc::c_int, libc::sigaction); 4],
    }

    impl Forwarding {
        pub(super) fn start(pid: u32) -> Forwarding {
            TARGET.store(pid as i32, Ordering::Relaxed);
            let handler = |signal: libc::c_int| -> libc::sighandler_t {
                if IGNORED.contains(&signal) {
                    libc::SIG_IGN
                } else {
                    forward as extern "C" fn(libc::c_int) as libc::sighandler_t
                }
            };
            let install = |signal: libc::c_int| {
                // SAFETY: sigaction with a zeroed (valid) struct, a handler that only calls
                // kill(2), and out-pointers to live memory.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = handler(signal);
                    action.sa_flags = libc::SA_RESTART;
                    libc::sigemptyset(&mut action.sa_mask);
                    let mut previous: libc::sigaction = std::mem::zeroed();
                    libc::sigaction(signal, &action, &mut previous);
                    (signal, previous)
                }
            };
            Forwarding {
                previous: [
                    install(IGNORED[0]),
                    install(IGNORED[1]),
                    install(FORWARDED[0]),
                    install(FORWARDED[1]),
                ],
            }
        }
    }

    impl Drop for Forwarding {
        fn drop(&mut self) {
            for (signal, previous) in &self.previous {
                // SAFETY: restores a disposition saved by `start`.
                unsafe { libc::sigaction(*signal, previous, std::ptr::null_mut()) };
            }
            TARGET.store(0, Ordering::Relaxed);
        }
    }
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

    fn sandbox(profile: SecurityProfile, workspace: &Path) -> Sandbox {
        Sandbox::new(SandboxPolicy::new(profile, workspace), None).unwrap()
    }

    fn trusted() -> Sandbox {
        sandbox(SecurityProfile::Trusted, &std::env::temp_dir())
    }

    /// `bash -c script` in `cwd`, stopped after 20 s at the latest.
    fn script_in(script: &str, cwd: &Path) -> CommandRequest {
        CommandRequest {
            argv: vec!["bash".into(), "-c".into(), script.into()],
            cwd: cwd.to_path_buf(),
            timeout: Some(Duration::from_secs(20)),
        }
    }

    fn req(script: &str, timeout_ms: u64) -> CommandRequest {
        CommandRequest {
            timeout: Some(Duration::from_millis(timeout_ms)),
            ..script_in(script, &std::env::temp_dir())
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
    async fn a_missing_program_is_a_spawn_error() {
        let request = CommandRequest {
            argv: vec!["/nonexistent/cadre-test-program".into()],
            ..req("", 5000)
        };
        let error = trusted()
            .run(request, CancellationToken::new(), None)
            .await
            .unwrap_err();
        assert!(matches!(error, SandboxError::Spawn { .. }), "{error}");
    }

    #[tokio::test]
    async fn a_command_killed_by_a_signal_reports_it() {
        let out = trusted()
            .run(req("kill -TERM $$", 5000), CancellationToken::new(), None)
            .await
            .unwrap();
        assert_eq!(out.exit_code, None);
        assert_eq!(out.signal, Some(libc::SIGTERM));
    }

    /// The parent-death signal follows the thread that forked: a command first polled on a
    /// thread that then ends must go on running.
    #[test]
    fn a_command_outlives_the_thread_that_started_it() {
        use std::future::Future;
        use std::task::{Context, Waker};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = trusted();
        let dir = tempfile::tempdir().unwrap();
        let started = dir.path().join("started");
        let script = format!("touch {}; sleep 1; echo alive", started.display());
        let run = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let _runtime = runtime.enter();
                    let mut run = Box::pin(sandbox.run(
                        script_in(&script, dir.path()),
                        CancellationToken::new(),
                        None,
                    ));
                    let mut context = Context::from_waker(Waker::noop());
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while !started.exists() {
                        assert!(Instant::now() < deadline, "the command never started");
                        assert!(run.as_mut().poll(&mut context).is_pending());
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    run
                })
                .join()
                .unwrap()
        });
        // The thread that first polled the run has ended.
        let out = runtime.block_on(run).unwrap();
        assert_eq!(out.stdout, b"alive\n", "{out:?}");
        assert!(out.success());
    }

    #[tokio::test]
    async fn the_private_temp_dir_is_removed_after_the_run() {
        if !enforceable(SecurityProfile::Offline) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let sandbox = sandbox(SecurityProfile::Offline, dir.path());
        let request = script_in(
            "echo x > \"$TMPDIR/f\" && printf %s \"$TMPDIR\"",
            dir.path(),
        );
        let out = sandbox
            .run(request, CancellationToken::new(), None)
            .await
            .unwrap();
        assert!(out.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let tmp = String::from_utf8(out.stdout).unwrap();
        assert!(tmp.contains("cadre-sandbox-"), "{tmp}");
        // Removed in the background once the command's namespace is released.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Path::new(&tmp).exists() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!Path::new(&tmp).exists(), "{tmp} was not removed");
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

    fn enforceable(profile: SecurityProfile) -> bool {
        crate::support_report()
            .profiles
            .iter()
            .any(|support| support.profile == profile && support.enforceable)
    }

    #[tokio::test]
    async fn workspace_write_confines_the_command_without_a_launcher() {
        if !enforceable(SecurityProfile::WorkspaceWrite) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(ws.join(".git")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let sandbox = sandbox(SecurityProfile::WorkspaceWrite, &ws);
        let script = format!(
            "echo in > inside.txt; echo tmp > \"$TMPDIR/t\"; echo out > {}/x.txt; echo hook > .git/hook; chmod 777 {}",
            outside.display(),
            outside.display()
        );
        let request = script_in(&script, &ws);
        let out = sandbox
            .run(request, CancellationToken::new(), None)
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(ws.join("inside.txt").exists(), "{stderr}");
        assert!(!outside.join("x.txt").exists(), "{stderr}");
        assert!(!ws.join(".git/hook").exists(), "{stderr}");
        assert_eq!(out.exit_code, Some(1), "chmod outside must fail: {stderr}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&outside).unwrap().permissions().mode();
        assert_ne!(mode & 0o777, 0o777);
    }

    #[test]
    fn a_network_profile_is_never_exec_in_place() {
        if !enforceable(SecurityProfile::NetReadOnly) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let sandbox = sandbox(SecurityProfile::NetReadOnly, dir.path());
        // Returning at all proves that this process was not replaced.
        let error = sandbox.exec_in_place(&["true".to_string()], dir.path());
        assert!(
            matches!(&error, SandboxError::Unsupported { reason, .. } if reason.contains("proxy")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn offline_refuses_sockets_and_writes_but_runs_the_command() {
        if !enforceable(SecurityProfile::Offline) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let sandbox = sandbox(SecurityProfile::Offline, dir.path());
        let request = script_in(
            "echo ran; echo x > written.txt; exec 3<>/dev/tcp/127.0.0.1/9",
            dir.path(),
        );
        let out = sandbox
            .run(request, CancellationToken::new(), None)
            .await
            .unwrap();
        assert_eq!(out.stdout, b"ran\n");
        assert!(!out.success());
        assert!(!dir.path().join("written.txt").exists());
    }
}
