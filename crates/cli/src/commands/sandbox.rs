//! `cadre sandbox`: runs any command under a security profile, attached to the terminal.

use crate::cli_env::CliEnv;
use anyhow::Context;
use cadre_protocol::SecurityProfile;
use cadre_sandbox::{Sandbox, SandboxPolicy};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Profiles: offline (default: read everything, write only a private temp dir, no network), net-read-only (as offline, plus HTTP(S) through cadre's allowlisting proxy), workspace-write (write inside the workspace), workspace-net (workspace-write plus the proxy), trusted (no restriction)."
)]
pub struct SandboxArgs {
    /// The security profile to run the command under.
    #[arg(long, short = 'p', default_value = "offline", value_parser = parse_profile)]
    pub profile: SecurityProfile,
    /// The workspace (writable under the workspace profiles) and the command's working
    /// directory; defaults to the current directory.
    #[arg(long = "cd", short = 'C', value_name = "DIR")]
    pub cd: Option<PathBuf>,
    /// A domain the network profiles may reach through the proxy (`*.example.com` matches
    /// sub-domains). May be repeated; none allows every public domain.
    #[arg(long = "allow-domain", value_name = "DOMAIN")]
    pub allow_domains: Vec<String>,
    /// Let the command write inside `.git` of the workspace.
    #[arg(long)]
    pub allow_git_writes: bool,
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

fn parse_profile(name: &str) -> Result<SecurityProfile, String> {
    name.parse()
}

pub fn run(args: SandboxArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    let workspace = match args.cd {
        Some(dir) => dir,
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let workspace = workspace
        .canonicalize()
        .with_context(|| format!("cannot use {} as the workspace", workspace.display()))?;
    let mut policy = SandboxPolicy::new(args.profile, &workspace);
    policy.network_allow = args.allow_domains;
    policy.allow_git_writes = args.allow_git_writes;
    // No launcher: the command's process confines itself before it execs, so no second cadre
    // starts. Nothing here may start a runtime or threads first.
    let sandbox = Sandbox::new(policy, None)?;
    if args.profile != SecurityProfile::Trusted && sandbox.proxy().is_none() {
        // Nothing of cadre has to outlive the command: confine this process and become the
        // command (no fork, no wait; its exit status and signals are cadre's own, so a command
        // killed by signal N ends cadre by signal N, which a shell reports as 128+N).
        return Err(sandbox.exec_in_place(&args.command, &workspace).into());
    }
    // The network profiles' proxy runs in this process: the command runs in a confined child
    // (the proxy threads are fine: the child only makes raw syscalls before it execs). `trusted`
    // keeps cadre as the command's parent too, as it always was.
    let status = sandbox.run_interactive(&args.command, &workspace)?;
    Ok(exit_code(status))
}

/// The command's exit status, or 128+N when signal N ended it (as shells report it).
fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return code as u8;
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return 128u8.wrapping_add(signal as u8);
    }
    1
}
