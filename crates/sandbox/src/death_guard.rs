//! Commands die with cadre, even when cadre is killed with SIGKILL and cannot clean up.
//!
//! The process cadre spawns is the leader of the command's process group. Between `fork` and
//! `exec`, once it has confined itself, it forks once more: the new child goes on to exec the
//! command, and the leader stays behind as its guard. The guard asks the kernel for a signal when
//! cadre dies (`PR_SET_PDEATHSIG`) and then kills the whole process group, so the command and
//! everything it started go with cadre. Otherwise it waits for the command and exits the same
//! way, so cadre sees the command's own status. cadre's own kills (timeout, interrupt) signal the
//! group and take the guard along.
//!
//! The kernel sends the parent-death signal when the *thread* that forked the child ends, not
//! the process; commands are therefore spawned from one thread that lives as long as cadre (see
//! [`spawn`]), never from a tokio worker or blocking-pool thread that may end first.

use std::io;
use std::os::unix::process::CommandExt;
use std::sync::OnceLock;
use std::sync::mpsc;

/// The signal the kernel sends the guard when cadre dies. Any catchable signal does: the guard
/// blocks them all and only waits for this one and for SIGCHLD.
const DEATH_SIGNAL: libc::c_int = libc::SIGUSR1;

/// Installs the guard as the command's last `pre_exec` hook (after the confinement, so the guard
/// is confined too). The command must be spawned into its own process group, with [`spawn`].
pub(crate) fn install(command: &mut std::process::Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the hook runs in the forked child of a possibly multi-threaded process and makes
    // only async-signal-safe system calls on values copied before the fork; it neither
    // allocates nor locks.
    unsafe {
        command.pre_exec(move || stay_behind_as_guard(parent));
    }
}

/// For a command run in the foreground of the caller's terminal (no process group of its own,
/// no guard): the kernel kills it when cadre dies. Spawn it from a thread that lives as long as
/// cadre, such as the main thread.
pub(crate) fn die_with_cadre(command: &mut std::process::Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl(2) and getppid(2) are async-signal-safe and take integers only.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            );
            // cadre may have died before the request: then no signal will come.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Forks the command's process off and, in this process, never returns.
fn stay_behind_as_guard(parent: libc::pid_t) -> io::Result<()> {
    // SAFETY: fork(2) in a child that only makes async-signal-safe calls afterwards.
    let command = unsafe { libc::fork() };
    if command < 0 {
        return Err(io::Error::last_os_error());
    }
    if command == 0 {
        // The command's process: go on to exec it.
        return Ok(());
    }
    // SAFETY: async-signal-safe system calls on local data only; the process ends in `_exit`
    // or by a signal.
    unsafe { guard(command, parent) }
}

/// The guard's life: hold no file of cadre's open, kill the group when cadre dies, else wait for
/// the command and end as it ended.
unsafe fn guard(command: libc::pid_t, parent: libc::pid_t) -> ! {
    // SAFETY (whole body): raw system calls on local values, as the caller promises.
    unsafe {
        // The command's pipes must reach end-of-file when the command ends, cadre's sockets must
        // close when cadre closes them, and spawn's error pipe must close for `spawn` to return.
        for fd in 0..3 {
            libc::close(fd);
        }
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            let max = match libc::sysconf(libc::_SC_OPEN_MAX) {
                n if n > 0 => n.min(1 << 16) as libc::c_int,
                _ => 1024,
            };
            for fd in 3..max {
                libc::close(fd);
            }
        }
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            DEATH_SIGNAL as libc::c_ulong,
            0,
            0,
            0,
        );
        // cadre may have died before the request above: then no signal will come.
        if libc::getppid() != parent {
            kill_group();
        }
        let mut waited: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut waited);
        libc::sigaddset(&mut waited, libc::SIGCHLD);
        libc::sigaddset(&mut waited, DEATH_SIGNAL);
        loop {
            let mut status = 0;
            if libc::waitpid(command, &mut status, libc::WNOHANG) == command {
                end_as(status);
            }
            if libc::sigwaitinfo(&waited, std::ptr::null_mut()) == DEATH_SIGNAL {
                kill_group();
            }
        }
    }
}

/// SIGKILL to the guard's process group: the command, what it started, and the guard.
unsafe fn kill_group() -> ! {
    // SAFETY: kill(2) and _exit(2) have no memory-safety preconditions.
    unsafe {
        libc::kill(0, libc::SIGKILL);
        libc::_exit(137)
    }
}

/// Ends the guard with the command's wait status: the same exit code, or the same signal.
unsafe fn end_as(status: libc::c_int) -> ! {
    // SAFETY: raw system calls on local values.
    unsafe {
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            // No core file of the guard for a command that dumped one.
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::signal(signal, libc::SIG_DFL);
            let mut only: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut only);
            libc::sigaddset(&mut only, signal);
            libc::kill(libc::getpid(), signal);
            libc::sigprocmask(libc::SIG_UNBLOCK, &only, std::ptr::null_mut());
            libc::_exit(128 + signal)
        }
        libc::_exit(libc::WEXITSTATUS(status))
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Spawns `command` from cadre's spawning thread, which lives until cadre exits (see the module
/// docs), inside the caller's tokio runtime.
pub(crate) async fn spawn(
    mut command: tokio::process::Command,
) -> io::Result<tokio::process::Child> {
    static SPAWNER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("cadre-spawner".into())
            .spawn(move || {
                for job in queue {
                    job();
                }
            })
            .ok()
            .map(|_| jobs)
    });
    let Some(spawner) = spawner else {
        return Err(io::Error::other(
            "cannot start the thread that spawns commands",
        ));
    };
    let runtime = tokio::runtime::Handle::current();
    let (reply, spawned) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _runtime = runtime.enter();
        let child = command.spawn();
        // The hooks (and the files they hold) are not needed once the command has exec'd.
        drop(command);
        let _ = reply.send(child);
    });
    spawner
        .send(job)
        .map_err(|_| io::Error::other("the thread that spawns commands has stopped"))?;
    spawned
        .await
        .map_err(|_| io::Error::other("the thread that spawns commands has stopped"))?
}
