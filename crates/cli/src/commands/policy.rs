//! `cadre policy`: check what the command policy decides, and show the rule files in effect.

use crate::cli_env::CliEnv;
use cadre_core::ConfigToml;
use cadre_core::gate::{CommandFate, PolicyDecision, PolicyVerdict, approval_hint, command_fate};
use cadre_policy::{Decision, Evaluation, POLICY_FILE_NAME, Policy, RuleSource};
use cadre_protocol::{ApprovalMode, SecurityProfile};
use serde::Serialize;
use std::io::Write;

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
    /// Say what `cadre exec` would do under this profile (default: the configured one).
    #[arg(long, value_name = "PROFILE")]
    profile: Option<SecurityProfile>,
    /// ... and under this approval mode (default: the configured one).
    #[arg(short = 'a', long = "ask-for-approval", value_name = "MODE")]
    approval: Option<ApprovalMode>,
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

pub fn run(args: PolicyArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let flags = match &args.command {
        PolicyCommand::Check(check) => ConfigToml {
            profile: check.profile,
            approval_policy: check.approval,
            ..Default::default()
        },
        PolicyCommand::Show(_) => ConfigToml::default(),
    };
    let config = env.load_config(None, flags)?;
    let policy = env.policy(&config)?;
    match args.command {
        PolicyCommand::Check(check) => run_check(&policy, &config, check),
        PolicyCommand::Show(show) => run_show(&policy, &config.cadre_home, show),
    }
}

/// `cadre policy check`'s answer: the policy's evaluation and what `exec` would do with it.
#[derive(Serialize)]
struct CheckReport<'a> {
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    exec: ExecAnswer,
}

#[derive(Serialize)]
struct ExecAnswer {
    /// `run_sandboxed`, `run_unconfined` or `refuse` (exec has nobody to ask).
    action: ExecAction,
    profile: SecurityProfile,
    approval: ApprovalMode,
    /// Interactively (the UI), a person would be asked first.
    asks_interactively: bool,
    /// Why it is refused, and what would let it run.
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum ExecAction {
    RunSandboxed,
    RunUnconfined,
    Refuse,
}

fn exec_answer(evaluation: &Evaluation, config: &cadre_core::Config) -> ExecAnswer {
    let verdict = PolicyVerdict::from(evaluation.clone());
    let (profile, approval) = (config.profile, config.approval);
    let interactive = command_fate(&verdict, profile, approval, true);
    let (action, why) = match command_fate(&verdict, profile, approval, false) {
        CommandFate::Run { sandboxed: true } => (ExecAction::RunSandboxed, None),
        CommandFate::Run { sandboxed: false } => (ExecAction::RunUnconfined, None),
        CommandFate::Refuse | CommandFate::Ask => {
            let why = if verdict.decision == PolicyDecision::Forbid {
                format!(
                    "forbidden by rule `{}`; no approval lifts a forbid rule",
                    verdict.rule
                )
            } else {
                format!(
                    "approval mode {approval} asks first (rule `{}`) and exec has no one to ask; {}",
                    verdict.rule,
                    approval_hint(profile)
                )
            };
            (ExecAction::Refuse, Some(why))
        }
    };
    ExecAnswer {
        action,
        profile,
        approval,
        asks_interactively: interactive == CommandFate::Ask,
        why,
    }
}

fn run_check(policy: &Policy, config: &cadre_core::Config, args: CheckArgs) -> anyhow::Result<u8> {
    let evaluation = match args.command.as_slice() {
        [script] => policy.check_script(script),
        argv => policy.check_argv(argv),
    };
    let exec = exec_answer(&evaluation, config);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let report = CheckReport {
                evaluation: &evaluation,
                exec,
            };
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?
        }
        Format::Text => {
            write_evaluation(&mut out, &evaluation)?;
            let under = format!("profile {}, approval {}", exec.profile, exec.approval);
            match (exec.action, &exec.why) {
                (ExecAction::RunSandboxed, _) => {
                    writeln!(out, "exec:     runs in the sandbox ({under})")?
                }
                (ExecAction::RunUnconfined, _) => {
                    writeln!(out, "exec:     runs unconfined ({under})")?
                }
                (ExecAction::Refuse, why) => writeln!(
                    out,
                    "exec:     refused ({under}): {}",
                    why.as_deref().unwrap_or_default()
                )?,
            }
            if exec.asks_interactively {
                writeln!(out, "          interactively, cadre asks first")?;
            }
        }
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
