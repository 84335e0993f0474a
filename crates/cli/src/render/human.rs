//! Readable output: the assistant's text as it arrives, each command with its result, each file
//! change, and a final line with token usage.

use super::Renderer;
use cadre_protocol::{
    Event, EventMsg, ExecStatus, FileChangeKind, IncompleteReason, StepStatus, TokenUsage,
};
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Lines of command output shown before the rest is summarised.
const OUTPUT_PREVIEW_LINES: usize = 12;

/// Silence from the model longer than this is shown as "waiting for the model (N s)".
pub const WAITING_NOTICE_AFTER: Duration = Duration::from_secs(3);
/// When stderr is not a terminal (a log), the notice is repeated this often, not every second.
const WAITING_NOTICE_EVERY_IN_LOGS: Duration = Duration::from_secs(30);

pub struct HumanRenderer {
    color: bool,
    /// Whether the cursor sits after streamed assistant text (no newline yet).
    mid_line: bool,
    streamed_message: bool,
    /// Whether a turn runs: between its start and its end, silence is the model's.
    turn_active: bool,
    /// Tool calls begun and not yet ended: while one runs, cadre is not waiting for the model.
    running_tools: HashSet<String>,
    waiting: WaitingNotice,
}

/// "waiting for the model (N s)" on stderr: one line updated in place on a terminal, a line
/// every [`WAITING_NOTICE_EVERY_IN_LOGS`] otherwise.
struct WaitingNotice {
    terminal: bool,
    /// The in-place line is on screen and must be cleared before anything else is printed.
    on_screen: bool,
    /// In a log: the silence after which the next line is written.
    next_line_at: Duration,
}

impl WaitingNotice {
    fn show(&mut self, idle: Duration) {
        let text = format!("waiting for the model ({} s)", idle.as_secs());
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r{text}\x1b[K");
            self.on_screen = true;
        } else if idle >= self.next_line_at {
            let _ = writeln!(err, "{text}");
            self.next_line_at = idle + WAITING_NOTICE_EVERY_IN_LOGS;
        }
        let _ = err.flush();
    }

    fn clear(&mut self) {
        self.next_line_at = WAITING_NOTICE_AFTER;
        if self.on_screen {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.on_screen = false;
        }
    }
}

impl HumanRenderer {
    pub fn new() -> Self {
        HumanRenderer {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            mid_line: false,
            streamed_message: false,
            turn_active: false,
            running_tools: HashSet::new(),
            waiting: WaitingNotice {
                terminal: std::io::stderr().is_terminal(),
                on_screen: false,
                next_line_at: WAITING_NOTICE_AFTER,
            },
        }
    }

    /// Keeps track of whether silence now means the model has not answered yet.
    fn track(&mut self, msg: &EventMsg) {
        match msg {
            EventMsg::TurnStarted { .. } => self.turn_active = true,
            EventMsg::TurnComplete { .. }
            | EventMsg::TurnAborted { .. }
            | EventMsg::TurnFailed { .. }
            | EventMsg::ShutdownComplete => {
                self.turn_active = false;
                self.running_tools.clear();
            }
            EventMsg::ExecCommandBegin { call_id, .. }
            | EventMsg::PatchApplyBegin { call_id, .. }
            | EventMsg::ToolCallBegin { call_id, .. } => {
                self.running_tools.insert(call_id.clone());
            }
            EventMsg::ExecCommandEnd { call_id, .. }
            | EventMsg::PatchApplyEnd { call_id, .. }
            | EventMsg::ToolCallEnd { call_id, .. } => {
                self.running_tools.remove(call_id);
            }
            _ => {}
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn usage_line(&mut self, usage: &TokenUsage) {
        let text = self.paint(
            "2",
            &format!(
                "tokens used: {} input ({} cached), {} output",
                usage.input_tokens, usage.cached_input_tokens, usage.output_tokens
            ),
        );
        self.line(&text);
    }

    fn line(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        if self.mid_line {
            let _ = out.write_all(b"\n");
            self.mid_line = false;
        }
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

/// A tool's result in one line: its first non-empty line (cut at 100 characters) and how many
/// lines there are in all.
fn one_line_summary(output: &str) -> String {
    const WIDTH: usize = 100;
    let lines = output.lines().count();
    let first = output
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("(no output)");
    let first = match first.char_indices().nth(WIDTH) {
        Some((cut, _)) => format!("{}…", &first[..cut]),
        None => first.to_string(),
    };
    match lines {
        0 | 1 => first,
        n => format!("{first} (+{} more lines)", n - 1),
    }
}

impl Default for HumanRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer for HumanRenderer {
    fn idle(&mut self, idle: Duration) {
        // Mid-line, the model has begun its answer (and `\r` would overwrite it).
        if self.turn_active
            && self.running_tools.is_empty()
            && !self.mid_line
            && idle >= WAITING_NOTICE_AFTER
        {
            self.waiting.show(idle);
        }
    }

    fn render(&mut self, event: &Event) {
        self.waiting.clear();
        self.track(&event.msg);
        match &event.msg {
            EventMsg::SessionConfigured {
                session_id,
                model,
                provider,
                profile,
                resumed,
                ..
            } => {
                let verb = if *resumed { "resumed" } else { "session" };
                let header = format!(
                    "cadre {} · model {model} ({provider}) · profile {profile} · {verb} {session_id}",
                    env!("CARGO_PKG_VERSION")
                );
                let header = self.paint("2", &header);
                self.line(&header);
            }
            EventMsg::AgentMessageDelta { delta, .. } => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(delta.as_bytes());
                let _ = out.flush();
                self.mid_line = !delta.ends_with('\n');
                self.streamed_message = true;
            }
            EventMsg::AgentMessage { text, .. } => {
                if self.streamed_message {
                    self.streamed_message = false;
                    if self.mid_line {
                        let _ = std::io::stdout().lock().write_all(b"\n");
                        self.mid_line = false;
                    }
                } else {
                    self.line(text);
                }
            }
            EventMsg::Reasoning { text, .. } => {
                let text = self.paint("2;3", &format!("thinking: {text}"));
                self.line(&text);
            }
            EventMsg::ExecCommandBegin { command, .. } => {
                let text = self.paint("1", &format!("$ {command}"));
                self.line(&text);
            }
            EventMsg::ExecCommandEnd {
                command,
                status: ExecStatus::Declined,
                output,
                ..
            } => {
                // A refused command never began: name it, and say why and what would allow it.
                let text = self.paint("1", &format!("$ {command}"));
                self.line(&text);
                let text = self.paint("33", &format!("  ✗ refused: {output}"));
                self.line(&text);
            }
            EventMsg::ExecCommandEnd {
                exit_code,
                output,
                duration_ms,
                status,
                ..
            } => {
                let lines: Vec<&str> = output.lines().collect();
                for line in lines.iter().take(OUTPUT_PREVIEW_LINES) {
                    let text = self.paint("2", &format!("  {line}"));
                    self.line(&text);
                }
                if lines.len() > OUTPUT_PREVIEW_LINES {
                    // cadre's own note on the command (a timeout, a read-only `.git`) ends the
                    // output in brackets: it stays visible when the rest is summarised.
                    let note = lines
                        .last()
                        .filter(|l| l.starts_with('[') && l.ends_with(']'))
                        .copied();
                    let hidden = lines.len() - OUTPUT_PREVIEW_LINES - usize::from(note.is_some());
                    let text = self.paint("2", &format!("  … {hidden} more lines"));
                    self.line(&text);
                    if let Some(note) = note {
                        let text = self.paint("33", &format!("  {note}"));
                        self.line(&text);
                    }
                }
                let summary = match status {
                    ExecStatus::TimedOut => {
                        self.paint("31", &format!("  ✗ timed out after {duration_ms} ms"))
                    }
                    ExecStatus::Interrupted => self.paint("31", "  ✗ interrupted"),
                    _ if *exit_code == Some(0) => {
                        self.paint("32", &format!("  ✓ exit 0 in {duration_ms} ms"))
                    }
                    _ => self.paint(
                        "31",
                        &format!(
                            "  ✗ exit {} in {duration_ms} ms",
                            exit_code.map_or("signal".to_string(), |c| c.to_string())
                        ),
                    ),
                };
                self.line(&summary);
            }
            EventMsg::PatchApplyEnd {
                changes,
                success,
                error,
                ..
            } => {
                for change in changes {
                    let mark = match change.kind {
                        FileChangeKind::Add => "A",
                        FileChangeKind::Update => "M",
                        FileChangeKind::Delete => "D",
                    };
                    let target = match &change.move_path {
                        Some(to) => format!("{} → {}", change.path.display(), to.display()),
                        None => change.path.display().to_string(),
                    };
                    let text = self.paint("36", &format!("{mark} {target}"));
                    self.line(&text);
                }
                if !success {
                    let text = self.paint(
                        "31",
                        &format!(
                            "  ✗ patch not applied: {}",
                            error.as_deref().unwrap_or("unknown error")
                        ),
                    );
                    self.line(&text);
                }
            }
            EventMsg::PlanUpdate { plan, .. } => {
                self.line("plan:");
                for item in plan {
                    let mark = match item.status {
                        StepStatus::Completed => "[x]",
                        StepStatus::InProgress => "[>]",
                        StepStatus::Pending => "[ ]",
                    };
                    self.line(&format!("  {mark} {}", item.step));
                }
            }
            EventMsg::ToolCallBegin {
                tool, arguments, ..
            } => {
                let args = arguments
                    .get("path")
                    .or_else(|| arguments.get("pattern"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let text = self.paint("2", &format!("· {tool} {args}"));
                self.line(&text);
            }
            EventMsg::ToolCallEnd {
                success, output, ..
            } => {
                let summary = one_line_summary(output);
                let text = if *success {
                    self.paint("2", &format!("  ↳ {summary}"))
                } else {
                    self.paint("31", &format!("  ✗ {summary}"))
                };
                self.line(&text);
            }
            EventMsg::ToolCallInvalid { tool, error, .. } => {
                let text = self.paint(
                    "31",
                    &format!("✗ {tool} not run: its arguments are not valid JSON ({error})"),
                );
                self.line(&text);
            }
            EventMsg::ResponseIncomplete {
                reason,
                max_output_tokens,
            } => {
                let message = match (reason, max_output_tokens) {
                    (IncompleteReason::MaxOutputTokens, Some(max)) => format!(
                        "note: the answer was cut off at the output limit ({max} tokens; model_max_output_tokens)"
                    ),
                    (IncompleteReason::MaxOutputTokens, None) => {
                        "note: the answer was cut off at the output limit".to_string()
                    }
                    (IncompleteReason::ContentFilter, _) => {
                        "note: the answer was stopped by the provider's content filter".to_string()
                    }
                };
                let text = self.paint("33", &message);
                self.line(&text);
            }
            EventMsg::StreamRetry {
                attempt,
                max_attempts,
                delay_ms,
                reason,
            } => {
                let text = self.paint(
                    "33",
                    &format!("retrying ({attempt}/{max_attempts}) in {delay_ms} ms: {reason}"),
                );
                self.line(&text);
            }
            EventMsg::ApprovalResolved { decision, by, .. } => {
                let text = self.paint(
                    "33",
                    &format!("approval: {decision:?} by {by}").to_lowercase(),
                );
                self.line(&text);
            }
            EventMsg::Warning { message } => {
                let text = self.paint("33", &format!("warning: {message}"));
                self.line(&text);
            }
            EventMsg::Error { message } => {
                let text = self.paint("31", &format!("error: {message}"));
                self.line(&text);
            }
            EventMsg::TurnComplete { usage, .. } => self.usage_line(usage),
            EventMsg::TurnAborted { reason, usage, .. } => {
                let text = self.paint("31", &format!("turn stopped: {reason}"));
                self.line(&text);
                self.usage_line(usage);
            }
            EventMsg::TurnFailed { error, .. } => {
                let text = self.paint("31", &format!("error: {error}"));
                self.line(&text);
            }
            _ => {}
        }
    }

    fn finish(&mut self) {
        if self.mid_line {
            self.line("");
        }
    }
}
