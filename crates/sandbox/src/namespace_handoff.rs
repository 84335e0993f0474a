//! Keeping a command's mount namespace alive after the command exits, so that tearing it down
//! does not delay whoever waits for the command.
//!
//! When the last process of a mount namespace exits, the kernel unmounts the namespace's mounts in
//! that process's exit and waits for an RCU grace period before the exit completes (from a fraction
//! of a millisecond to several milliseconds, more on a busy machine): every wait for the command
//! would wait for it too. So the child, once its mounts are laid out, sends cadre a reference to
//! its namespace (an fd of `/proc/self/ns/mnt`) over a socket prepared before the fork; the
//! command's exit then only drops a reference, and cadre lets go of the namespace off the
//! command's critical path (on a blocking thread, once the command's output is in hand).
//!
//! Both ends of the socket are close-on-exec, so the command never holds either. The hand-off is
//! best effort: if it fails the command still runs, confined the same way, and only pays the
//! teardown itself.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// One fd's worth of `SCM_RIGHTS` control data, aligned for `cmsghdr` (needs 24 bytes on 64-bit).
#[repr(C, align(8))]
struct ControlBuffer([u8; 64]);

/// Creates the socket: the receiver stays in cadre, the sender goes to the child.
pub(crate) fn channel() -> std::io::Result<(Receiver, Sender)> {
    let mut fds: [libc::c_int; 2] = [-1; 2];
    // SAFETY: socketpair writes two fds into the array it is given.
    let ret = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if ret != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nothing else.
    let (receiver, sender) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((Receiver(receiver), Sender(sender)))
}

/// The child's end.
#[derive(Debug)]
pub(crate) struct Sender(OwnedFd);

impl Sender {
    /// Sends the calling process's mount namespace to the receiver. Async-signal-safe (raw
    /// syscalls on stack memory); failures are ignored (see the module doc).
    pub(crate) fn send_mount_namespace(&self) {
        // SAFETY: valid NUL-terminated path.
        let namespace = unsafe {
            libc::open(
                c"/proc/self/ns/mnt".as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if namespace < 0 {
            return;
        }
        let mut byte = [0u8; 1];
        let mut iov = libc::iovec {
            iov_base: byte.as_mut_ptr().cast(),
            iov_len: byte.len(),
        };
        let mut control = ControlBuffer([0; 64]);
        // SAFETY: an all-zero msghdr is valid; the pointers set below outlive the sendmsg call;
        // CMSG_FIRSTHDR of a control buffer at least CMSG_SPACE(fd) long is non-null and in
        // bounds, and CMSG_DATA leaves room for one fd.
        unsafe {
            let mut message: libc::msghdr = std::mem::zeroed();
            message.msg_iov = &mut iov;
            message.msg_iovlen = 1;
            message.msg_control = control.0.as_mut_ptr().cast();
            message.msg_controllen = libc::CMSG_SPACE(fd_size()) as _;
            let header = libc::CMSG_FIRSTHDR(&message);
            (*header).cmsg_level = libc::SOL_SOCKET;
            (*header).cmsg_type = libc::SCM_RIGHTS;
            (*header).cmsg_len = libc::CMSG_LEN(fd_size()) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<RawFd>(), namespace);
            libc::sendmsg(
                self.0.as_raw_fd(),
                &message,
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
            );
            libc::close(namespace);
        }
    }
}

/// cadre's end.
#[derive(Debug)]
pub(crate) struct Receiver(OwnedFd);

impl Receiver {
    /// The namespace the child sent, if it sent one. Call it once `spawn` has returned: the child
    /// sends before it execs, and `spawn` returns only after the exec.
    pub(crate) fn take(&self) -> Option<HeldNamespace> {
        let mut byte = [0u8; 1];
        let mut iov = libc::iovec {
            iov_base: byte.as_mut_ptr().cast(),
            iov_len: byte.len(),
        };
        let mut control = ControlBuffer([0; 64]);
        // SAFETY: as in `send_mount_namespace`; recvmsg writes at most `msg_controllen` bytes of
        // control data, and the header walk stays within what it reports.
        unsafe {
            let mut message: libc::msghdr = std::mem::zeroed();
            message.msg_iov = &mut iov;
            message.msg_iovlen = 1;
            message.msg_control = control.0.as_mut_ptr().cast();
            message.msg_controllen = control.0.len() as _;
            let received = libc::recvmsg(
                self.0.as_raw_fd(),
                &mut message,
                libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC,
            );
            if received < 0 {
                return None;
            }
            let header = libc::CMSG_FIRSTHDR(&message);
            if header.is_null()
                || (*header).cmsg_level != libc::SOL_SOCKET
                || (*header).cmsg_type != libc::SCM_RIGHTS
                || ((*header).cmsg_len as usize) < libc::CMSG_LEN(fd_size()) as usize
            {
                return None;
            }
            let fd = std::ptr::read_unaligned(libc::CMSG_DATA(header).cast::<RawFd>());
            // The fd arrived in this process just now and belongs to no one else.
            Some(HeldNamespace(OwnedFd::from_raw_fd(fd)))
        }
    }
}

fn fd_size() -> libc::c_uint {
    std::mem::size_of::<RawFd>() as libc::c_uint
}

/// A reference to a finished command's mount namespace. Dropping the last reference tears the
/// namespace down in the dropping thread, which waits for an RCU grace period: drop it where
/// nothing waits for it.
#[derive(Debug)]
pub(crate) struct HeldNamespace(OwnedFd);

impl AsFd for HeldNamespace {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;

    /// Spawns `argv` with a hook that sends the child's mount namespace, as the sandbox does.
    fn spawn_sending(argv: &[&str]) -> (std::process::Output, Option<HeldNamespace>) {
        let (receiver, sender) = channel().unwrap();
        let mut command = std::process::Command::new(argv[0]);
        command.args(&argv[1..]);
        // SAFETY: the hook only makes raw syscalls.
        unsafe {
            command.pre_exec(move || {
                sender.send_mount_namespace();
                Ok(())
            });
        }
        let output = command.output().unwrap();
        (output, receiver.take())
    }

    fn namespace_inode(held: &HeldNamespace) -> u64 {
        std::fs::metadata(format!("/proc/self/fd/{}", held.as_fd().as_raw_fd()))
            .unwrap()
            .ino()
    }

    #[test]
    fn the_child_hands_over_its_mount_namespace() {
        let (output, held) = spawn_sending(&["true"]);
        assert!(output.status.success());
        let held = held.expect("the child sent its namespace");
        // The child did not unshare, so it sent the namespace this process is in.
        let own = std::fs::metadata("/proc/self/ns/mnt").unwrap().ino();
        assert_eq!(namespace_inode(&held), own);
    }

    #[test]
    fn the_command_holds_neither_end_of_the_socket() {
        let (output, held) = spawn_sending(&[
            "sh",
            "-c",
            "for fd in /proc/$$/fd/*; do readlink \"$fd\" || true; done",
        ]);
        let fds = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{fds}");
        assert!(held.is_some());
        assert!(
            !fds.contains("socket:"),
            "the command inherited a socket: {fds}"
        );
        assert!(
            !fds.contains("mnt:"),
            "the command inherited a namespace: {fds}"
        );
    }

    #[test]
    fn nothing_is_received_when_the_child_sent_nothing() {
        let (receiver, _sender) = channel().unwrap();
        assert!(receiver.take().is_none());
    }
}
