//! The seccomp filters a sandboxed command gets last, just before `exec`: they close the kernel
//! interfaces that Landlock does not cover (socket families, ptrace, namespaces, mounts, kernel
//! modules, terminal injection, io_uring...).
//!
//! The BPF programs are compiled once per process and per socket rule; the child installs them
//! with raw syscalls.

use crate::confinement::{Failure, Step};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// What the command may do with sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocketRule {
    /// `socket(2)` always fails; `socketpair(2)` (anonymous, process-local) still works.
    None,
    /// Only TCP over IPv4/IPv6 (Landlock then limits it to the proxy's port).
    TcpOnly,
}

type Rules = BTreeMap<i64, Vec<SeccompRule>>;

fn cond(arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64) -> SeccompCondition {
    SeccompCondition::new(arg, len, op, value).expect("valid seccomp condition")
}

fn rule(conditions: Vec<SeccompCondition>) -> SeccompRule {
    SeccompRule::new(conditions).expect("valid seccomp rule")
}

/// Denied whatever the arguments.
const ALWAYS_DENIED: &[i64] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_syslog,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_userfaultfd,
    libc::SYS_vhangup,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
];

const NAMESPACE_FLAGS: &[u64] = &[
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWCGROUP as u64,
];

fn deny_rules(sockets: SocketRule) -> Rules {
    use SeccompCmpArgLen::{Dword, Qword};
    use SeccompCmpOp::{Eq, MaskedEq, Ne};
    let mut rules: Rules = ALWAYS_DENIED.iter().map(|&nr| (nr, Vec::new())).collect();

    // Typing into the terminal's input queue (TIOCSTI) or console tricks (TIOCLINUX).
    rules.insert(
        libc::SYS_ioctl,
        vec![
            rule(vec![cond(1, Dword, Eq, libc::TIOCSTI)]),
            rule(vec![cond(1, Dword, Eq, libc::TIOCLINUX)]),
        ],
    );
    // New namespaces would let the command regain capabilities over its own copies.
    rules.insert(
        libc::SYS_clone,
        NAMESPACE_FLAGS
            .iter()
            .map(|&flag| rule(vec![cond(0, Qword, MaskedEq(flag), flag)]))
            .collect(),
    );
    // Device nodes: only fifos, sockets and regular files may be made.
    let device_modes = |arg: u8| {
        [libc::S_IFCHR, libc::S_IFBLK]
            .iter()
            .map(|&kind| {
                rule(vec![cond(
                    arg,
                    Dword,
                    MaskedEq(libc::S_IFMT as u64),
                    kind as u64,
                )])
            })
            .collect::<Vec<_>>()
    };
    #[cfg(target_arch = "x86_64")]
    rules.insert(libc::SYS_mknod, device_modes(1));
    rules.insert(libc::SYS_mknodat, device_modes(2));

    match sockets {
        SocketRule::None => {
            rules.insert(libc::SYS_socket, Vec::new());
        }
        SocketRule::TcpOnly => {
            let mut socket_rules = vec![
                // Any family other than IPv4 and IPv6 (Unix, netlink, packet...).
                rule(vec![
                    cond(0, Dword, Ne, libc::AF_INET as u64),
                    cond(0, Dword, Ne, libc::AF_INET6 as u64),
                ]),
                // Any protocol other than the default or TCP (SCTP, ICMP...).
                rule(vec![
                    cond(2, Dword, Ne, 0),
                    cond(2, Dword, Ne, libc::IPPROTO_TCP as u64),
                ]),
            ];
            // Any type other than SOCK_STREAM (UDP, raw, packet...); the low 4 bits hold the type,
            // the rest are SOCK_NONBLOCK/SOCK_CLOEXEC.
            for kind in (0..16u64).filter(|&k| k != libc::SOCK_STREAM as u64) {
                socket_rules.push(rule(vec![cond(1, Dword, MaskedEq(0xf), kind)]));
            }
            rules.insert(libc::SYS_socket, socket_rules);
        }
    }
    rules
}

fn compile(rules: Rules, errno: u32) -> Result<BpfProgram, String> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| format!("seccomp does not support this architecture: {e}"))?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno),
        arch,
    )
    .map_err(|e| format!("cannot build the seccomp filter: {e}"))?;
    filter
        .try_into()
        .map_err(|e| format!("cannot compile the seccomp filter: {e}"))
}

/// The compiled filters for one socket rule, in the order they are installed.
pub(crate) type Programs = [BpfProgram; 2];

/// The filters for `sockets`, compiled on first use.
pub(crate) fn programs(sockets: SocketRule) -> Result<&'static Programs, String> {
    static NO_SOCKETS: OnceLock<Result<Programs, String>> = OnceLock::new();
    static TCP_ONLY: OnceLock<Result<Programs, String>> = OnceLock::new();
    let cell = match sockets {
        SocketRule::None => &NO_SOCKETS,
        SocketRule::TcpOnly => &TCP_ONLY,
    };
    cell.get_or_init(|| {
        let deny = compile(deny_rules(sockets), libc::EPERM as u32)?;
        // clone3 passes its flags in memory that seccomp cannot read: make it look absent so
        // libc falls back to clone(2), whose flags the filter above does check.
        let mut absent = Rules::new();
        absent.insert(libc::SYS_clone3, Vec::new());
        let clone3 = compile(absent, libc::ENOSYS as u32)?;
        Ok([deny, clone3])
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Installs the filters on the calling thread. Requires `no_new_privs` (set before).
/// Async-signal-safe.
pub(crate) fn install(programs: &Programs) -> Result<(), Failure> {
    for program in programs {
        let prog = libc::sock_fprog {
            len: program.len() as libc::c_ushort,
            filter: program.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: seccomp(SET_MODE_FILTER) reads the program `prog` points at, which lives in
        // `programs` for the whole call; seccompiler's sock_filter has the kernel's layout.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0 as libc::c_uint,
                &prog as *const libc::sock_fprog,
            )
        };
        if ret != 0 {
            return Err(Failure::last(Step::Seccomp));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compile_for_both_socket_rules() {
        for sockets in [SocketRule::None, SocketRule::TcpOnly] {
            let [deny, clone3] = programs(sockets).unwrap();
            assert!(deny.len() > 50);
            assert!(!clone3.is_empty());
        }
    }
}
