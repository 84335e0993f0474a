//! A reader that stops early (`cadre completion zsh | head -1`, `cadre doctor --format json |
//! head`) is not a failure of cadre's, whichever command was printing.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe returns `EPIPE`; `println!` and libraries
//! that `expect` their writes (clap_complete) turn that into a panic (exit status 101), and
//! `?` turns it into an error. Both paths end here, at the binary's edge: a panic while standard
//! output is closed, or an error caused by a broken pipe, ends cadre with status 0.

use std::os::fd::AsRawFd;

/// Makes a panic that happens while standard output is closed end the process with status 0,
/// silently; any other panic is reported as before.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if stdout_is_closed() {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// Whether an error comes from writing to a closed pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Whether nothing reads standard output any more: the kernel reports an error condition on
/// the write end of a pipe whose readers are gone (and a hang-up on a socket's).
fn stdout_is_closed() -> bool {
    let mut poll = libc::pollfd {
        fd: std::io::stdout().as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, a zero timeout; poll only writes `revents`.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready == 1 && poll.revents & (libc::POLLERR | libc::POLLHUP) != 0
}
