//! Applies a profile to the launcher process, in the order the kernel needs: mounts first (a
//! Landlock domain may not mount), then capabilities, `no_new_privs`, Landlock, and seccomp last
//! (it forbids the calls the steps before it make).

use crate::SandboxPolicy;
use crate::seccomp_filter::SocketRule;
use crate::{capabilities, landlock_rules, mount_namespace, seccomp_filter};
use cadre_protocol::SecurityProfile;
use std::path::{Path, PathBuf};

/// Confines the calling process for good. `private_tmp` is writable besides the policy's roots;
/// `proxy_port` is the only TCP port the network profiles may connect to.
pub(crate) fn apply(
    policy: &SandboxPolicy,
    private_tmp: Option<&Path>,
    proxy_port: Option<u16>,
) -> Result<(), String> {
    if policy.profile == SecurityProfile::Trusted {
        return Ok(());
    }
    let mut writable: Vec<PathBuf> = policy
        .writable_roots()
        .iter()
        .filter_map(|root| root.canonicalize().ok())
        .collect();
    if let Some(tmp) = private_tmp {
        writable.push(
            tmp.canonicalize()
                .map_err(|e| format!("the private temp dir {} is missing: {e}", tmp.display()))?,
        );
    }
    let protected: Vec<PathBuf> = policy
        .read_only_subpaths()
        .iter()
        .filter_map(|path| path.canonicalize().ok())
        .collect();
    let network = policy.profile.allows_network();
    if network && proxy_port.is_none() {
        return Err("the network profile was started without its proxy".into());
    }

    mount_namespace::enter()?;
    for root in &writable {
        mount_namespace::bind_onto_itself(root)?;
    }
    for path in &protected {
        mount_namespace::bind_onto_itself(path)?;
    }
    mount_namespace::make_read_only_except(|mount_point| {
        writable.iter().any(|root| mount_point.starts_with(root))
            && !protected.iter().any(|path| mount_point.starts_with(path))
    })?;
    // The working directory still points into the mounts as they were before the binds; walk
    // to it again so relative paths land on the new (writable or read-only) mounts.
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    std::env::set_current_dir(&cwd)
        .map_err(|e| format!("cannot re-enter {}: {e}", cwd.display()))?;
    capabilities::drop_all()?;
    capabilities::set_no_new_privs()?;
    landlock_rules::restrict(&writable, if network { proxy_port } else { None })?;
    seccomp_filter::install(if network {
        SocketRule::TcpOnly
    } else {
        SocketRule::None
    })
}
