//! Readable output: the assistant's text as it arrives, each command with its result, each file
//! change, and a final line with token usage.

use super::Renderer;
use cadre_protocol::{
    Event, EventMsg, ExecStatus, FileChangeKind, IncompleteReason, StepStatus, TokenUsage,
};
use std::io::{IsTerminal, Write};

/// Lines of command output shown before the rest is summarised.
const OUTPUT_PREVIEW_LINES: usize = 12;

pub struct HumanRenderer {
    color: bool,
    /// Whether the cursor sits after streamed assistant text (no newline yet).
    mid_line: bool,
    streamed_message: bool,
}

impl HumanRenderer {
    pub fn new() -> Self {
        HumanRenderer {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            mid_line: false,
            streamed_message: false,
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
    fn render(&mut self, event: &Event) {
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
                    let text = self.paint(
                        "2",
                        &format!("  … {} more lines", lines.len() - OUTPUT_PREVIEW_LINES),
                    );
                    self.line(&text);
                }
                let summary = match status {
                    ExecStatus::Declined => self.paint("33", "  ✗ declined"),
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
