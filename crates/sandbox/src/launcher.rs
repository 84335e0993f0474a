//! The launcher: a process that applies a policy to itself, then execs the command, so the
//! confinement is in place before any of the command's code runs. cadre itself confines its
//! commands in the forked child without it (see `exec`); the launcher remains for callers that
//! want a separate process to do it, with the same code.
//!
//! `cadre __sandbox-exec --policy JSON [--tmpdir DIR] [--proxy-port PORT] -- PROGRAM [ARGS...]`

use crate::SandboxPolicy;
use std::ffi::OsString;
use std::path::PathBuf;

/// Exit status when the launcher itself fails (the shell's "cannot execute").
const LAUNCH_FAILED: i32 = 126;

pub(crate) fn main(args: Vec<OsString>) -> ! {
    let mut iter = args.into_iter();
    let mut policy_json = None;
    let mut private_tmp = None;
    let mut proxy_port = None;
    let mut argv = Vec::new();
    while let Some(arg) = iter.next() {
        if arg == "--policy" {
            policy_json = iter.next();
        } else if arg == "--tmpdir" {
            private_tmp = iter.next().map(PathBuf::from);
        } else if arg == "--proxy-port" {
            proxy_port = iter.next().and_then(|p| p.to_str()?.parse::<u16>().ok());
        } else if arg == "--" {
            argv.extend(iter.by_ref());
        }
    }
    let Some(policy_json) = policy_json else {
        fail("missing --policy");
    };
    let policy: SandboxPolicy = match serde_json::from_str(&policy_json.to_string_lossy()) {
        Ok(policy) => policy,
        Err(e) => fail(&format!("invalid --policy: {e}")),
    };
    let Some((program, rest)) = argv.split_first() else {
        fail("missing command after --");
    };
    confine(&policy, private_tmp, proxy_port);
    exec(program, rest)
}

#[cfg(unix)]
fn exec(program: &OsString, args: &[OsString]) -> ! {
    use std::os::unix::process::CommandExt;
    let err = std::process::Command::new(program).args(args).exec();
    fail(&format!("cannot run {}: {err}", program.to_string_lossy()));
}

#[cfg(not(unix))]
fn exec(program: &OsString, args: &[OsString]) -> ! {
    match std::process::Command::new(program).args(args).status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(err) => fail(&format!("cannot run {}: {err}", program.to_string_lossy())),
    }
}

#[cfg(target_os = "linux")]
fn confine(policy: &SandboxPolicy, private_tmp: Option<PathBuf>, proxy_port: Option<u16>) {
    let result = std::env::current_dir()
        .map_err(|e| format!("cannot read the working directory: {e}"))
        .and_then(|cwd| {
            crate::confinement::Confinement::prepare(
                policy,
                private_tmp.as_deref(),
                proxy_port,
                &cwd,
            )
        })
        .and_then(|confinement| match confinement {
            Some(mut confinement) => confinement.apply().map_err(|f| f.to_string()),
            None => Ok(()),
        });
    if let Err(reason) = result {
        fail(&format!(
            "refusing to run under the `{}` profile: the kernel cannot enforce it ({reason}). Run `cadre doctor` to see what this machine supports; use a kernel with Landlock ABI 6 or newer and user namespaces, or choose `--profile trusted` knowingly",
            policy.profile
        ));
    }
}

#[cfg(not(target_os = "linux"))]
fn confine(policy: &SandboxPolicy, _private_tmp: Option<PathBuf>, _proxy_port: Option<u16>) {
    if policy.profile != cadre_protocol::SecurityProfile::Trusted {
        fail(&format!(
            "refusing to run under the `{}` profile: only Linux can enforce it; choose `--profile trusted` knowingly",
            policy.profile
        ));
    }
}

fn fail(message: &str) -> ! {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "cadre sandbox: {message}");
    std::process::exit(LAUNCH_FAILED)
}
