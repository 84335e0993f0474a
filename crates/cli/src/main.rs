//! The `cadre` binary: parses arguments and hands each subcommand to the crate that owns it.
//! No behaviour lives here beyond wiring and presentation.

mod cli_env;
mod closed_stdout;
mod commands;
mod render;
mod stop_signals;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// The version line: the crate version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CADRE_GIT_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "cadre",
    version = VERSION,
    about = "A terminal coding agent: runs models with sandboxed tools, teams of agents and cited research",
    long_about = None,
    propagate_version = true,
)]
struct Cli {
    /// Override a configuration value: `-c model="gpt-5"` (dotted path; the value is parsed as
    /// TOML, else taken as a string). May be repeated.
    #[arg(short = 'c', long = "config", global = true, value_name = "KEY=VALUE")]
    overrides: Vec<String>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a task non-interactively and print what the agent does.
    Exec(commands::exec::ExecArgs),
    /// List recorded sessions, or print one's transcript (`cadre sessions show ID`).
    Sessions(commands::sessions::SessionsArgs),
    /// Show the effective configuration, whether the provider answers, and what the sandbox
    /// supports on this machine.
    Doctor(commands::doctor::DoctorArgs),
    /// Run any command under a security profile.
    Sandbox(commands::sandbox::SandboxArgs),
    /// Inspect the command policy.
    Policy(commands::policy::PolicyArgs),
    /// Verify and read the audit log.
    Audit(commands::audit::AuditArgs),
    /// Turn a goal into a plan and run it with a team of agents.
    Supervisor(commands::supervisor::SupervisorArgs),
    /// List and inspect agent roles (built-in and from role files).
    Agents(commands::agents::AgentsArgs),
    /// Research a question across sources and write a cited report.
    DeepResearch(commands::research::ResearchArgs),
    /// Let a project's own files (.cadre/config.toml, policy, agent roles) take effect, as
    /// they are now; list or revoke that trust.
    ///
    /// A project's .cadre/config.toml, .cadre/policy.toml and agent role files (.cadre/agents,
    /// .claude/agents, .gemini/agents) can change what cadre may do, so they apply only once you
    /// have trusted their exact content. `cadre trust` records the SHA-256 of each of them as
    /// they are now; a file added or edited later is ignored again until you trust it anew. Read
    /// the files first: a trusted project file may choose the security profile and the approval
    /// mode. It can never move credentials (a provider's base_url, env_key, http_headers) or lift
    /// a forbid rule.
    Trust(commands::trust::TrustArgs),
    /// Print shell completions.
    Completion(commands::completion::CompletionArgs),
}

#[allow(clippy::print_stdout)]
fn print_version() {
    println!("cadre {VERSION}");
}

fn main() -> ExitCode {
    let mut raw = std::env::args_os();
    let first = raw.nth(1);
    if first
        .as_ref()
        .is_some_and(|a| a == cadre_sandbox::LAUNCHER_SUBCOMMAND)
    {
        cadre_sandbox::launcher_main(raw.collect());
    }
    closed_stdout::install_panic_hook();
    // `cadre --version` is what scripts and installers run to check cadre works: answer it
    // without building the whole command-line parser.
    if raw.len() == 0
        && first
            .as_ref()
            .is_some_and(|a| a == "--version" || a == "-V")
    {
        print_version();
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    let env = cli_env::CliEnv::new(cli.overrides);
    let result = match cli.command {
        None => {
            let _ = Cli::command().print_help();
            return ExitCode::SUCCESS;
        }
        Some(Command::Exec(args)) => commands::exec::run(args, &env),
        Some(Command::Sessions(args)) => commands::sessions::run(args, &env),
        Some(Command::Doctor(args)) => commands::doctor::run(args, &env),
        Some(Command::Sandbox(args)) => commands::sandbox::run(args, &env),
        Some(Command::Policy(args)) => commands::policy::run(args, &env),
        Some(Command::Audit(args)) => commands::audit::run(args, &env),
        Some(Command::Supervisor(args)) => commands::supervisor::run(args, &env),
        Some(Command::Agents(args)) => commands::agents::run(args, &env),
        Some(Command::DeepResearch(args)) => commands::research::run(args, &env),
        Some(Command::Trust(args)) => commands::trust::run(args, &env),
        Some(Command::Completion(args)) => commands::completion::run(args, Cli::command()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A reader that stopped early (`cadre ... | head`) is not an error of ours.
        Err(err) if closed_stdout::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            commands::report_error(&err);
            ExitCode::from(1)
        }
    }
}
