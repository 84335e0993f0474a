//! `cadre sandbox`: runs any command under a security profile, attached to the terminal, with
//! the sandbox settings `exec` would use in the same directory (`profile`, `[sandbox]`,
//! `[network] allow`, `[shell_environment_policy]`, `-c` overrides), so a command behaves here
//! as it does for the agent.

use crate::cli_env::CliEnv;
use cadre_core::ConfigToml;
use cadre_protocol::SecurityProfile;
use cadre_sandbox::Sandbox;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Profiles: offline (default: read everything, write only a private temp dir, no network), net-read-only (as offline, plus HTTP(S) through cadre's allowlisting proxy), workspace-write (write inside the workspace), workspace-net (workspace-write plus the proxy), trusted (no restriction)."
)]
pub struct SandboxArgs {
    /// The security profile to run the command under; defaults to `profile` from the
    /// configuration, else offline.
    #[arg(long, short = 'p', value_parser = parse_profile)]
    pub profile: Option<SecurityProfile>,
    /// The workspace (writable under the workspace profiles) and the command's working
    /// directory; defaults to the current directory.
    #[arg(long = "cd", short = 'C', value_name = "DIR")]
    pub cd: Option<PathBuf>,
    /// A domain the network profiles may reach through the proxy (`*.example.com` matches
    /// sub-domains). May be repeated; replaces `[network] allow` of the configuration, which
    /// applies otherwise (empty allows every public domain).
    #[arg(long = "allow-domain", value_name = "DOMAIN")]
    pub allow_domains: Vec<String>,
    /// Let the command write inside `.git` of the workspace (as `sandbox.allow_git_writes`).
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

pub fn run(args: SandboxArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let flags = ConfigToml {
        profile: args.profile,
        ..Default::default()
    };
    let config = env.load_config(args.cd, flags)?;
    let workspace = config.cwd.clone();
    let mut policy = config.sandbox_policy();
    if !args.allow_domains.is_empty() {
        policy.network_allow = args.allow_domains;
    }
    policy.allow_git_writes |= args.allow_git_writes;
    if let Some(git) = policy.protected_git_dirs().first() {
        note_read_only_git(git, policy.profile);
    }
    let profile = policy.profile;
    // No launcher: the command's process confines itself before it execs, so no second cadre
    // starts. Nothing here may start a runtime or threads first.
    let sandbox = Sandbox::new(policy, None)?;
    if profile != SecurityProfile::Trusted && sandbox.proxy().is_none() {
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

/// Says once, before the command runs, that `.git` will refuse its writes and what lifts that:
/// the command's own error will only say "Read-only file system".
#[allow(clippy::print_stderr)]
fn note_read_only_git(git: &std::path::Path, profile: SecurityProfile) {
    eprintln!(
        "cadre: {} is read-only under profile {profile}; `-c sandbox.allow_git_writes=true` or \
         `--allow-git-writes` lets the command write it",
        git.display()
    );
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
