//! `cadre sessions`: the recorded sessions, as a table or JSON, and one session's transcript
//! printed the way `cadre exec` printed it.

use crate::cli_env::CliEnv;
use crate::render::{Renderer, human::HumanRenderer, jsonl::JsonlRenderer};
use anyhow::Context;
use cadre_core::ConfigToml;
use cadre_core::transcript::{self, SessionSummary, TranscriptLine};
use cadre_protocol::{
    AbortReason, ApprovalMode, Event, EventMsg, ExecStatus, ResponseItem, Role, TokenUsage,
};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SessionsArgs {
    #[command(subcommand)]
    command: Option<SessionsCommand>,
    #[command(flatten)]
    list: ListArgs,
}

#[derive(Debug, clap::Subcommand)]
enum SessionsCommand {
    /// The sessions you started in this directory, the most recent first (the default).
    List(ListArgs),
    /// Print a session's transcript the way `cadre exec` printed it.
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Sessions of every directory, not only this one.
    #[arg(long)]
    all: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The session: its full id, a unique prefix of it, or the short id the list shows.
    session_id: String,
    /// Print the events as JSONL, as `cadre exec --json` does.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Short id, start, turns, tokens, directory and first prompt, one session per line.
    Table,
    /// A JSON array with one object per session.
    Json,
}

/// One session as `cadre sessions --format json` prints it.
#[derive(Debug, Serialize)]
struct SessionEntry {
    id: String,
    /// The id the table shows; `cadre exec resume` accepts it.
    short_id: String,
    started: String,
    cwd: PathBuf,
    first_prompt: Option<String>,
    turns: usize,
    usage: TokenUsage,
    model: String,
    transcript: PathBuf,
}

impl From<&SessionSummary> for SessionEntry {
    fn from(summary: &SessionSummary) -> Self {
        SessionEntry {
            id: summary.meta.id.clone(),
            short_id: transcript::short_id(&summary.meta.id).to_string(),
            started: summary.meta.created_at.clone(),
            cwd: summary.cwd.clone(),
            first_prompt: summary.first_prompt.clone(),
            turns: summary.turns,
            usage: summary.usage,
            model: summary.meta.model.clone(),
            transcript: summary.path.clone(),
        }
    }
}

pub fn run(args: SessionsArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let config = env.load_config(None, ConfigToml::default())?;
    match args.command {
        None => list(&config, &args.list),
        Some(SessionsCommand::List(list_args)) => list(&config, &list_args),
        Some(SessionsCommand::Show(show_args)) => show(&config, &show_args),
    }
}

fn list(config: &cadre_core::Config, args: &ListArgs) -> anyhow::Result<u8> {
    let sessions: Vec<SessionSummary> = transcript::list_sessions(&config.sessions_dir())
        .into_iter()
        .filter(|s| s.is_top_level() && (args.all || s.works_in(&config.cwd)))
        .collect();
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        let entries: Vec<SessionEntry> = sessions.iter().map(SessionEntry::from).collect();
        serde_json::to_writer_pretty(&mut out, &entries)?;
        writeln!(out)?;
        return Ok(0);
    }
    if sessions.is_empty() {
        let scope = if args.all {
            String::new()
        } else {
            format!(" in {} (--all lists every directory)", config.cwd.display())
        };
        writeln!(out, "no sessions{scope}")?;
        return Ok(0);
    }
    writeln!(
        out,
        "{:<12}  {:<16}  {:>5}  {:>8}  {:<30}  FIRST PROMPT",
        "ID", "STARTED", "TURNS", "TOKENS", "DIRECTORY"
    )?;
    for session in &sessions {
        let started = chrono::DateTime::parse_from_rfc3339(&session.meta.created_at)
            .map(|t| {
                t.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|_| session.meta.created_at.clone());
        let prompt = one_line(session.first_prompt.as_deref().unwrap_or(""), 60);
        writeln!(
            out,
            "{:<12}  {:<16}  {:>5}  {:>8}  {:<30}  {prompt}",
            transcript::short_id(&session.meta.id),
            started,
            session.turns,
            session.usage.input_tokens + session.usage.output_tokens,
            session.cwd.display(),
        )?;
    }
    Ok(0)
}

/// `text` on one line, cut to `width` characters.
fn one_line(text: &str, width: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        return flat;
    }
    let mut cut: String = flat.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn show(config: &cadre_core::Config, args: &ShowArgs) -> anyhow::Result<u8> {
    let path = transcript::find_by_id(&config.sessions_dir(), &args.session_id)?;
    let (meta, lines) = transcript::read_lines(&path)
        .with_context(|| format!("cannot read the session {}", args.session_id))?;
    let mut renderer: Box<dyn Renderer> = if args.json {
        Box::new(JsonlRenderer::new())
    } else {
        Box::new(HumanRenderer::new())
    };
    let mut replay = Replay::default();
    renderer.render(&Event::new(EventMsg::SessionConfigured {
        session_id: meta.id.clone(),
        model: meta.model.clone(),
        provider: meta.provider.clone(),
        profile: meta.profile,
        approval_mode: ApprovalMode::default(),
        cwd: meta.cwd.clone(),
        transcript_path: path.clone(),
        resumed: false,
    }));
    for line in lines {
        for msg in replay.events(line, !args.json) {
            renderer.render(&Event::new(msg));
        }
    }
    renderer.finish();
    Ok(0)
}

/// Turns transcript lines back into the events `exec` rendered when they happened.
#[derive(Default)]
struct Replay {
    /// Call id → tool name and the command shown for a shell call.
    calls: HashMap<String, (String, String)>,
    /// The next user message is a turn's task.
    awaiting_prompt: bool,
    next_item: u64,
}

impl Replay {
    fn item_id(&mut self) -> String {
        self.next_item += 1;
        format!("item_{}", self.next_item)
    }

    fn events(&mut self, line: TranscriptLine, human: bool) -> Vec<EventMsg> {
        let awaiting_prompt = std::mem::replace(&mut self.awaiting_prompt, false);
        match line {
            TranscriptLine::SessionMeta(_) => Vec::new(),
            TranscriptLine::TurnStarted { turn_id, .. } => {
                self.awaiting_prompt = true;
                vec![EventMsg::TurnStarted { turn_id }]
            }
            TranscriptLine::TurnCompleted { turn_id, usage, .. } => vec![EventMsg::TurnComplete {
                turn_id,
                usage,
                last_agent_message: None,
            }],
            TranscriptLine::TurnAborted {
                turn_id,
                reason,
                why,
                usage,
                ..
            } => vec![EventMsg::TurnAborted {
                turn_id,
                reason: why.unwrap_or(AbortReason::Tool { message: reason }),
                usage,
            }],
            TranscriptLine::TurnFailed {
                turn_id,
                error,
                usage,
                ..
            } => vec![EventMsg::TurnFailed {
                turn_id,
                error,
                usage,
            }],
            TranscriptLine::EnvironmentChanged { cwd, profile, .. } => vec![EventMsg::Warning {
                message: format!("resumed in {} under profile {profile}", cwd.display()),
            }],
            TranscriptLine::Item { item } => self.item_events(item, awaiting_prompt, human),
        }
    }

    fn item_events(
        &mut self,
        item: ResponseItem,
        awaiting_prompt: bool,
        human: bool,
    ) -> Vec<EventMsg> {
        match item {
            ResponseItem::Message {
                role: Role::User,
                content,
            } if awaiting_prompt && human => {
                // The human renderer has no event for the task; show it as exec's caller typed it.
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "› {}", content.trim_end().replace('\n', "\n  "));
                Vec::new()
            }
            ResponseItem::Message {
                role: Role::Assistant,
                content,
            } => vec![EventMsg::AgentMessage {
                item_id: self.item_id(),
                text: content,
            }],
            ResponseItem::Reasoning { summary, .. } if !summary.is_empty() => {
                vec![EventMsg::Reasoning {
                    item_id: self.item_id(),
                    text: summary.join("\n\n"),
                }]
            }
            ResponseItem::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => {
                let parsed: serde_json::Value =
                    serde_json::from_str(&arguments).unwrap_or(serde_json::Value::Null);
                if name == "shell" {
                    let command = shell_command_text(&parsed);
                    self.calls.insert(call_id.clone(), (name, command.clone()));
                    vec![EventMsg::ExecCommandBegin {
                        call_id,
                        command,
                        cwd: PathBuf::new(),
                    }]
                } else {
                    self.calls
                        .insert(call_id.clone(), (name.clone(), String::new()));
                    vec![EventMsg::ToolCallBegin {
                        call_id,
                        tool: name,
                        arguments: parsed,
                    }]
                }
            }
            ResponseItem::FunctionCallOutput { call_id, output } => {
                match self.calls.remove(&call_id) {
                    Some((name, command)) if name == "shell" => {
                        vec![shell_end(call_id, command, &output)]
                    }
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }
}

/// The command of a shell call's arguments, as `exec` showed it.
fn shell_command_text(arguments: &serde_json::Value) -> String {
    match arguments.get("command") {
        Some(serde_json::Value::String(script)) => script.clone(),
        Some(serde_json::Value::Array(argv)) => argv
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        _ => arguments.to_string(),
    }
}

/// The end of a shell call from the output the model was given (`{"output", "metadata"}`, or a
/// plain refusal or abort text).
fn shell_end(call_id: String, command: String, output: &str) -> EventMsg {
    let parsed: Option<serde_json::Value> = serde_json::from_str(output).ok();
    let Some(body) = parsed.filter(|v| v.get("output").is_some()) else {
        let status = if output == cadre_core::ABORTED_CALL_OUTPUT {
            ExecStatus::Interrupted
        } else {
            ExecStatus::Declined
        };
        return EventMsg::ExecCommandEnd {
            call_id,
            command,
            exit_code: None,
            output: output.to_string(),
            duration_ms: 0,
            status,
        };
    };
    let exit_code = body
        .pointer("/metadata/exit_code")
        .and_then(serde_json::Value::as_i64)
        .map(|code| code as i32);
    let duration_ms = body
        .pointer("/metadata/duration_seconds")
        .and_then(serde_json::Value::as_f64)
        .map_or(0, |secs| (secs * 1000.0) as u64);
    let status = if body.get("timed_out").is_some() {
        ExecStatus::TimedOut
    } else if exit_code == Some(0) {
        ExecStatus::Completed
    } else {
        ExecStatus::Failed
    };
    EventMsg::ExecCommandEnd {
        call_id,
        command,
        exit_code,
        output: body["output"].as_str().unwrap_or_default().to_string(),
        duration_ms,
        status,
    }
}
