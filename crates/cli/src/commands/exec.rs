//! `cadre exec`: one task, no human at the keyboard, progress printed as it happens.

use crate::cli_env::CliEnv;
use crate::render::{Renderer, human::HumanRenderer, jsonl::JsonlRenderer};
use anyhow::{Context, bail};
use cadre_core::{ConfigToml, SessionOptions};
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
    /// Continue the most recent session.
    #[arg(long)]
    last: bool,
    /// The session id (or a unique prefix of it); with --last, this is the prompt.
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
    /// workspace-write, workspace-net, trusted.
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
    /// Work in this directory (the workspace) instead of the current one.
    #[arg(short = 'C', long = "cd", value_name = "DIR", global = true)]
    pub cd: Option<PathBuf>,
    /// Print one JSON object per event (JSONL) instead of readable text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Write the agent's last message to FILE.
    #[arg(short = 'o', long, value_name = "FILE", global = true)]
    pub output_last_message: Option<PathBuf>,
}

pub fn run(args: ExecArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let (options, prompt, resume) = match args.command {
        None => (args.options, args.prompt, None),
        Some(ExecCommand::Resume(resume)) => {
            let (selector, prompt) = if resume.last {
                (ResumeSelector::Last, resume.prompt.or(resume.session_id))
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

enum ResumeSelector {
    Last,
    Id(String),
}

fn read_prompt(prompt: Option<String>) -> anyhow::Result<String> {
    match prompt.as_deref() {
        Some("-") | None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the prompt from standard input")?;
            if text.trim().is_empty() {
                bail!("no prompt: pass the task as an argument or on standard input");
            }
            Ok(text)
        }
        Some(text) => Ok(text.to_string()),
    }
}

async fn run_async(
    options: ExecOptions,
    prompt: String,
    resume: Option<ResumeSelector>,
    env: &CliEnv,
) -> anyhow::Result<u8> {
    let flags = ConfigToml {
        model: options.model.clone(),
        profile: options.profile,
        approval_policy: options.approval,
        ..Default::default()
    };
    let config = env.load_config(options.cd.clone(), flags)?;
    let resume_path = match resume {
        None => None,
        Some(ResumeSelector::Last) => {
            Some(cadre_core::transcript::find_last(&config.sessions_dir())?)
        }
        Some(ResumeSelector::Id(id)) => Some(cadre_core::transcript::find_by_id(
            &config.sessions_dir(),
            &id,
        )?),
    };
    let session_id = match &resume_path {
        Some(path) => cadre_core::transcript::load(path)?.meta.id,
        None => cadre_core::new_session_id(),
    };
    let (policy, audit) = env.gate_parts(&config, &session_id).await?;
    let tools = crate::commands::supervisor::exec_tools(&config, policy.clone(), audit.clone())?;
    let mut handle = cadre_core::spawn(SessionOptions {
        launcher: std::env::current_exe().ok(),
        config,
        resume: resume_path,
        interactive: false,
        policy,
        audit,
        agent_id: None,
        parent_session_id: None,
        tools: Some(tools),
        extra_instructions: None,
        session_id: Some(session_id),
    })
    .await?;
    handle.submit(Op::UserInput { text: prompt });
    handle.submit(Op::Shutdown);

    let ops = handle.op_sender();
    tokio::spawn(async move {
        // The first Ctrl-C interrupts the turn cleanly; a second one quits at once. A repeat
        // within a moment is the same keypress delivered twice (once by the terminal, once by
        // a wrapper such as the npm launcher that forwards it), not a second request.
        let mut first_press: Option<std::time::Instant> = None;
        while tokio::signal::ctrl_c().await.is_ok() {
            match first_press {
                None => {
                    first_press = Some(std::time::Instant::now());
                    let _ = ops.send(Op::Interrupt);
                }
                Some(at) if at.elapsed() > std::time::Duration::from_millis(500) => {
                    std::process::exit(130);
                }
                Some(_) => {}
            }
        }
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
            EventMsg::TurnComplete {
                last_agent_message, ..
            } => {
                status = 0;
                last_message = last_agent_message.clone();
            }
            EventMsg::TurnAborted { reason, .. } => {
                status = if reason.contains("interrupted") {
                    130
                } else {
                    1
                };
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
