//! `cadre policy`: check what the command policy decides, and show the rule files in effect.

use crate::cli_env::CliEnv;
use anyhow::Context;
use cadre_policy::{Decision, Evaluation, POLICY_FILE_NAME, Policy, RuleSource};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PolicyCommand {
    /// Show whether a command would be allowed, asked about or forbidden, and which rule says so.
    Check(CheckArgs),
    /// Show the rule files in effect (and, with --all, every rule).
    Show(ShowArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Make the exit status reflect the decision: 0 allow, 10 ask, 20 forbid.
    #[arg(long)]
    exit_code: bool,
    /// One argument is read as a shell script (`cadre policy check -- 'ls | wc -l'`); several
    /// are a program and its arguments, run without a shell.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also list the built-in rules.
    #[arg(long)]
    all: bool,
}

pub fn run(args: PolicyArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    let cadre_home = cadre_home()?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let policy = Policy::load(&cadre_home, &cwd)?;
    match args.command {
        PolicyCommand::Check(check) => run_check(&policy, check),
        PolicyCommand::Show(show) => run_show(&policy, &cadre_home, show),
    }
}

/// `$CADRE_HOME`, else `~/.cadre`.
fn cadre_home() -> anyhow::Result<PathBuf> {
    if let Some(home) = std::env::var_os("CADRE_HOME").filter(|home| !home.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    let home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .context("cannot find the cadre home: set CADRE_HOME or HOME")?;
    Ok(PathBuf::from(home).join(".cadre"))
}

fn run_check(policy: &Policy, args: CheckArgs) -> anyhow::Result<u8> {
    let evaluation = match args.command.as_slice() {
        [script] => policy.check_script(script),
        argv => policy.check_argv(argv),
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&evaluation)?)?,
        Format::Text => write_evaluation(&mut out, &evaluation)?,
    }
    if !args.exit_code {
        return Ok(0);
    }
    Ok(match evaluation.decision {
        Decision::Allow => 0,
        Decision::Ask => 10,
        Decision::Forbid => 20,
    })
}

fn write_evaluation(out: &mut impl Write, evaluation: &Evaluation) -> std::io::Result<()> {
    writeln!(out, "decision: {}", evaluation.decision)?;
    writeln!(out, "rule:     {}", evaluation.rule)?;
    writeln!(out, "reason:   {}", evaluation.reason)?;
    if evaluation.parts.len() > 1 {
        writeln!(out, "parts:")?;
        for part in &evaluation.parts {
            writeln!(
                out,
                "  {:<6}  {}  [{}: {}]",
                part.decision.as_str(),
                part.command,
                part.rule,
                part.reason
            )?;
        }
    }
    Ok(())
}

fn run_show(policy: &Policy, cadre_home: &std::path::Path, args: ShowArgs) -> anyhow::Result<u8> {
    let rules: Vec<_> = policy
        .rules()
        .into_iter()
        .filter(|rule| args.all || rule.source != RuleSource::Builtin)
        .collect();
    let mut out = std::io::stdout().lock();
    if let Format::Json = args.format {
        let json = serde_json::json!({ "sources": policy.sources(), "rules": rules });
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        return Ok(0);
    }
    let sources = policy.sources();
    writeln!(out, "Rule files, highest precedence first:")?;
    if sources.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for source in &sources {
        writeln!(out, "  {}", source.display())?;
    }
    let user_file = cadre_home.join(POLICY_FILE_NAME);
    if !sources.contains(&user_file) {
        writeln!(out, "User rules would be read from {}", user_file.display())?;
    }
    writeln!(
        out,
        "Built-in rules always apply after these; a forbid rule from any source wins."
    )?;
    if !rules.is_empty() {
        writeln!(out, "\nRules:")?;
        for rule in &rules {
            writeln!(
                out,
                "  {:<6}  {:<36}  {}  ({})",
                rule.decision.as_str(),
                rule.id,
                rule.pattern,
                rule.reason
            )?;
        }
    }
    Ok(0)
}
