//! Dropping every capability before `exec`, so that running as root (or as root of the user
//! namespace the sandbox made) gives the command no power beyond an ordinary user's.
//! Raw syscalls only: this runs in the child between `fork` and `exec`.

use crate::confinement::{Failure, Step};

/// Empties the bounding, ambient, inheritable, permitted and effective sets.
pub(crate) fn drop_all() -> Result<(), Failure> {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
    }
    let mut cap = 0;
    loop {
        // SAFETY: prctl with integer arguments only.
        let ret = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if ret != 0 {
            let failure = Failure::last(Step::DropCapabilities);
            match failure.errno {
                // Past the last capability this kernel knows.
                libc::EINVAL => break,
                // Without CAP_SETPCAP the bounding set cannot be touched, but then there is
                // nothing in it that exec could grant: the process is not privileged.
                libc::EPERM => break,
                _ => return Err(failure),
            }
        }
        cap += 1;
    }
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [Data::default(); 2];
    // SAFETY: capset reads a valid header and two data structs, as version 3 requires.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if ret != 0 {
        return Err(Failure::last(Step::DropCapabilities));
    }
    Ok(())
}

/// Sets `no_new_privs`: setuid/setgid bits and file capabilities grant nothing from now on.
pub(crate) fn set_no_new_privs() -> Result<(), Failure> {
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if ret != 0 {
        return Err(Failure::last(Step::NoNewPrivs));
    }
    Ok(())
}
