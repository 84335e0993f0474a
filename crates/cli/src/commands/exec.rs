//! `cadre exec`: one task, no human at the keyboard, progress printed as it happens.

use crate::cli_env::CliEnv;
use crate::render::{Renderer, human::HumanRenderer, jsonl::JsonlRenderer};
use crate::stop_signals::{StopSignals, stop_on_signals};
use anyhow::{Context, bail};
use cadre_app::{ResumeSelector, SessionRequest};
use cadre_core::ConfigToml;
use cadre_protocol::{ApprovalMode, EventMsg, Op, SecurityProfile};
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(subcommand_negates_reqs = true)]
pub struct ExecArgs {
    #[command(subcommand)]
    command: Option<ExecCommand>,

    /// The task. `-` or nothing reads it from standard input.
    prompt: Option<String>,

    #[command(flatten)]
    options: ExecOptions,
}

#[derive(Debug, clap::Subcommand)]
enum ExecCommand {
    /// Continue an earlier session: `cadre exec resume --last "follow-up"` or
    /// `cadre exec resume <SESSION_ID> "follow-up"`.
    Resume(ResumeArgs),
}

#[derive(Debug, clap::Args)]
struct ResumeArgs {
    /// Continue the most recent session you started in this directory (sub-agents' sessions
    /// are skipped).
    #[arg(long)]
    last: bool,
    /// With --last: the most recent session of any directory.
    #[arg(long, requires = "last")]
    all: bool,
    /// The session id: the full id, a unique prefix of it, or the short id `cadre sessions`
    /// shows. With --last, this is the prompt.
    session_id: Option<String>,
    /// The follow-up task. `-` or nothing reads it from standard input.
    prompt: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExecOptions {
    /// Model to use (overrides `model` in config).
    #[arg(short, long, global = true)]
    pub model: Option<String>,
    /// Security profile for the commands the agent runs: offline (default), net-read-only,
    /// workspace-write, workspace-net, trusted. A resumed session keeps its own profile unless
    /// this is given.
    #[arg(long, value_name = "PROFILE", global = true)]
    pub profile: Option<SecurityProfile>,
    /// When to ask before running a command: untrusted, on-request (default), on-failure, never.
    /// With no one to ask, a command that needs approval is refused and the refusal recorded.
    #[arg(
        short = 'a',
        long = "ask-for-approval",
        value_name = "MODE",
        global = true
    )]
    pub approval: Option<ApprovalMode>,
    /// Let the agent work on its own inside the workspace: `--profile workspace-write
    /// --ask-for-approval on-request`.
    #[arg(long, global = true, conflicts_with_all = ["profile", "approval"])]
    pub full_auto: bool,
    /// Work in this directory (the workspace) instead of the current one. A resumed session
    /// keeps its own directory unless this is given.
    #[arg(short = 'C', long = "cd", value_name = "DIR", global = true)]
    pub cd: Option<PathBuf>,
    /// Print one JSON object per event (JSONL) instead of readable text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Write the agent's last message to FILE.
    #[arg(short = 'o', long, value_name = "FILE", global = true)]
    pub output_last_message: Option<PathBuf>,
}

impl ExecOptions {
    /// The configuration values these flags set.
    pub fn config_flags(&self) -> ConfigToml {
        let (profile, approval_policy) = if self.full_auto {
            (
                Some(SecurityProfile::WorkspaceWrite),
                Some(ApprovalMode::OnRequest),
            )
        } else {
            (self.profile, self.approval)
        };
        ConfigToml {
            model: self.model.clone(),
            profile,
            approval_policy,
            ..Default::default()
        }
    }
}

pub fn run(args: ExecArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let (options, prompt, resume) = match args.command {
        None => (args.options, args.prompt, None),
        Some(ExecCommand::Resume(resume)) => {
            let (selector, prompt) = if resume.last {
                let selector = ResumeSelector::Last {
                    any_directory: resume.all,
                };
                (selector, resume.prompt.or(resume.session_id))
            } else {
                let id = resume
                    .session_id
                    .context("name the session to resume, or use --last")?;
                (ResumeSelector::Id(id), resume.prompt)
            };
            (args.options, prompt, Some(selector))
        }
    };
    let prompt = read_prompt(prompt)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(options, prompt, resume, env))
}

/// The task from the argument or standard input; empty or blank text is refused the same way
/// wherever it came from.
fn read_prompt(prompt: Option<String>) -> anyhow::Result<String> {
    let text = match prompt {
        Some(text) if text != "-" => text,
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the prompt from standard input")?;
            text
        }
    };
    if text.trim().is_empty() {
        bail!("no prompt: the task is empty; pass it as an argument or on standard input");
    }
    Ok(text)
}

async fn run_async(
    options: ExecOptions,
    prompt: String,
    resume: Option<ResumeSelector>,
    env: &CliEnv,
) -> anyhow::Result<u8> {
    // Listening before the session starts: a signal from now on stops it cleanly.
    let signals = StopSignals::listen()?;
    let started = env
        .app
        .start_session(SessionRequest {
            cd: options.cd.clone(),
            flags: options.config_flags(),
            resume,
            interactive: false,
        })
        .await?;
    env.warn_untrusted(&started.config);
    crate::commands::supervisor::report_role_problems(&started.role_problems);
    let mut handle = started.handle;
    handle.submit(Op::UserInput { text: prompt });
    handle.submit(Op::Shutdown);
    let ops = handle.op_sender();
    let stopped_by = stop_on_signals(signals, move || {
        let _ = ops.send(Op::Interrupt);
    });

    let mut renderer: Box<dyn Renderer> = if options.json {
        Box::new(JsonlRenderer::new())
    } else {
        Box::new(HumanRenderer::new())
    };
    let mut status = 1u8;
    let mut last_message = None;
    let mut last_event = std::time::Instant::now();
    loop {
        // Wake up once a second of silence so the renderer can say what cadre waits for.
        let event = tokio::select! {
            event = handle.events.recv() => event,
            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                renderer.idle(last_event.elapsed());
                continue;
            }
        };
        let Some(event) = event else { break };
        last_event = std::time::Instant::now();
        renderer.render(&event);
        match &event.msg {
            // A signal that came before the turn began found nothing to interrupt.
            EventMsg::TurnStarted { .. } if stopped_by.get().is_some() => {
                handle.submit(Op::Interrupt);
            }
            EventMsg::TurnComplete {
                last_agent_message, ..
            } => {
                status = 0;
                last_message = last_agent_message.clone();
            }
            EventMsg::TurnAborted { .. } => {
                status = stopped_by.get().map_or(1, |signal| signal.exit_status());
            }
            EventMsg::TurnFailed { .. } => status = 1,
            EventMsg::ShutdownComplete => break,
            _ => {}
        }
    }
    renderer.finish();
    if let Some(path) = options.output_last_message {
        std::fs::write(&path, last_message.unwrap_or_default())
            .with_context(|| format!("cannot write the last message to {}", path.display()))?;
    }
    Ok(status)
}
