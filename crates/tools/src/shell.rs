//! `shell`: runs a command through the sandbox after the gate approves it, streaming its output
//! as events and returning the capped output with its exit code.

use crate::arguments::parse_arguments;
use crate::output_cap::cap_output;
use crate::paths::resolve;
use crate::schema::parameters_schema;
use crate::{CommandAction, GateVerdict, Tool, ToolCall, ToolContext, ToolResult};
use async_trait::async_trait;
use cadre_protocol::{EventMsg, ExecStatus, ToolSpec};
use cadre_sandbox::{CommandOutput, CommandRequest, OutputChunk};
use schemars::JsonSchema;
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::mpsc;

/// Used when the model gives no `timeout_ms`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest a single command may run, whatever the model asks for.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

const EXPECTED_SHAPE: &str = r#"{"command": "cargo test" or ["cargo", "test"], "workdir": "crates/core", "timeout_ms": 60000}"#;

#[derive(Debug, Deserialize, JsonSchema)]
struct ShellArgs {
    /// The command: a string runs as a bash script (`bash -c`); an array runs as argv directly.
    command: ShellCommand,
    /// Directory to run in, relative to the session's working directory (default: that directory).
    workdir: Option<String>,
    /// Time limit in milliseconds (default 120000, at most 600000).
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum ShellCommand {
    Script(String),
    Argv(Vec<String>),
}

impl ShellCommand {
    fn argv(&self) -> Vec<String> {
        match self {
            ShellCommand::Script(script) => vec!["bash".into(), "-c".into(), script.clone()],
            ShellCommand::Argv(argv) => argv.clone(),
        }
    }

    fn display(&self) -> String {
        match self {
            ShellCommand::Script(script) => script.clone(),
            ShellCommand::Argv(argv) => argv
                .iter()
                .map(|arg| shell_quote(arg))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Quotes an argument for display so the command reads as it would be typed.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Runs shell commands.
pub struct ShellTool;

#[async_trait]
impl Tool for ShellTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "shell".into(),
            description: "Runs a command in the workspace and returns its combined stdout and \
                stderr (long output keeps its first and last lines) with the exit code. Pass a \
                string to run it with `bash -c`, or an array to run a program with arguments \
                directly. Use `workdir` instead of `cd`. Commands may be refused by the security \
                policy; the result then says why."
                .into(),
            parameters: parameters_schema::<ShellArgs>(),
        }
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        let args: ShellArgs = match parse_arguments("shell", &call.arguments, EXPECTED_SHAPE) {
            Ok(args) => args,
            Err(err) => return err,
        };
        let argv = args.command.argv();
        if argv.first().is_none_or(|program| program.trim().is_empty()) {
            return ToolResult::error(format!(
                "invalid arguments for `shell`: the command is empty. Expected a JSON object like {EXPECTED_SHAPE}"
            ));
        }
        let cwd = match &args.workdir {
            Some(dir) => resolve(&ctx.cwd, dir),
            None => ctx.cwd.clone(),
        };
        if !cwd.is_dir() {
            return ToolResult::error(format!(
                "workdir {} is not a directory; give a directory relative to {}",
                cwd.display(),
                ctx.cwd.display()
            ));
        }
        let timeout = args
            .timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_TIMEOUT)
            .clamp(Duration::from_millis(1), MAX_TIMEOUT);
        let action = CommandAction {
            call_id: call.call_id.clone(),
            argv,
            display: args.command.display(),
            cwd,
        };
        run_approved(ctx, action, timeout).await
    }
}

async fn run_approved(ctx: &ToolContext, action: CommandAction, timeout: Duration) -> ToolResult {
    let (reason, abort_turn) = match ctx.gate.before_command(&action).await {
        GateVerdict::Allow => return run_command(ctx, &action, timeout).await,
        GateVerdict::Deny { reason } => (reason, false),
        GateVerdict::Abort { reason } => (reason, true),
    };
    let _ = ctx.events.send(EventMsg::ExecCommandEnd {
        call_id: action.call_id.clone(),
        command: action.display.clone(),
        exit_code: None,
        output: reason.clone(),
        duration_ms: 0,
        status: ExecStatus::Declined,
    });
    ToolResult {
        output: format!("command refused, it did not run: {reason}"),
        success: false,
        abort_turn,
    }
}

async fn run_command(ctx: &ToolContext, action: &CommandAction, timeout: Duration) -> ToolResult {
    let _ = ctx.events.send(EventMsg::ExecCommandBegin {
        call_id: action.call_id.clone(),
        command: action.display.clone(),
        cwd: action.cwd.clone(),
    });
    let request = CommandRequest {
        argv: action.argv.clone(),
        cwd: action.cwd.clone(),
        timeout: Some(timeout),
    };
    let (chunk_tx, mut chunk_rx) = mpsc::unbounded_channel::<OutputChunk>();
    let mut deltas = DeltaForwarder::new(ctx, &action.call_id);
    let run = ctx.sandbox.run(request, ctx.cancel.clone(), Some(chunk_tx));
    tokio::pin!(run);
    let result = loop {
        tokio::select! {
            biased;
            Some(chunk) = chunk_rx.recv() => deltas.forward(&chunk.bytes),
            result = &mut run => break result,
        }
    };
    // Chunks read before the process ended but not yet forwarded; background children that
    // still hold the pipes open are not waited for.
    while let Ok(chunk) = chunk_rx.try_recv() {
        deltas.forward(&chunk.bytes);
    }
    deltas.finish();

    match result {
        Ok(output) => finish(ctx, action, timeout, output).await,
        Err(err) => {
            let message = err.to_string();
            let _ = ctx.events.send(EventMsg::ExecCommandEnd {
                call_id: action.call_id.clone(),
                command: action.display.clone(),
                exit_code: None,
                output: message.clone(),
                duration_ms: 0,
                status: ExecStatus::Failed,
            });
            ctx.gate
                .after_command(action, ExecStatus::Failed, None, 0, &message)
                .await;
            ToolResult::error(format!("command could not run: {message}"))
        }
    }
}

async fn finish(
    ctx: &ToolContext,
    action: &CommandAction,
    timeout: Duration,
    output: CommandOutput,
) -> ToolResult {
    let status = if output.timed_out {
        ExecStatus::TimedOut
    } else if output.cancelled {
        ExecStatus::Interrupted
    } else if output.success() {
        ExecStatus::Completed
    } else {
        ExecStatus::Failed
    };
    // A process killed by a signal reports the shell's convention, 128 + signal number.
    let exit_code = output
        .exit_code
        .or_else(|| output.signal.map(|signal| 128 + signal));
    let mut text = cap_output(&String::from_utf8_lossy(&output.aggregated));
    if output.timed_out {
        text.push_str(&format!(
            "\n[command timed out after {} ms and was killed]",
            timeout.as_millis()
        ));
    } else if output.cancelled {
        text.push_str("\n[command interrupted by the user]");
    } else if status == ExecStatus::Failed
        && let Some(hint) = ctx.sandbox.policy().git_write_hint(&text)
    {
        text.push_str(&format!("\n[{hint}]"));
    }
    let duration_ms = u64::try_from(output.duration.as_millis()).unwrap_or(u64::MAX);
    let _ = ctx.events.send(EventMsg::ExecCommandEnd {
        call_id: action.call_id.clone(),
        command: action.display.clone(),
        exit_code,
        output: text.clone(),
        duration_ms,
        status,
    });
    ctx.gate
        .after_command(action, status, exit_code, duration_ms, &text)
        .await;

    let mut body = serde_json::json!({
        "output": text,
        "metadata": {
            "exit_code": exit_code,
            "duration_seconds": (output.duration.as_secs_f64() * 10.0).round() / 10.0,
        },
    });
    if output.timed_out {
        body["timed_out"] = serde_json::Value::Bool(true);
    }
    ToolResult {
        output: body.to_string(),
        success: status == ExecStatus::Completed,
        abort_turn: false,
    }
}

/// Turns raw output chunks into `ExecCommandOutputDelta` events, holding back a multi-byte
/// character split across two chunks so it is not shown as two replacement characters.
struct DeltaForwarder<'a> {
    ctx: &'a ToolContext,
    call_id: &'a str,
    pending: Vec<u8>,
}

impl<'a> DeltaForwarder<'a> {
    fn new(ctx: &'a ToolContext, call_id: &'a str) -> Self {
        DeltaForwarder {
            ctx,
            call_id,
            pending: Vec::new(),
        }
    }

    fn forward(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        let complete = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // An incomplete character at the end: keep it for the next chunk.
            Err(err) if err.error_len().is_none() => err.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let rest = self.pending.split_off(complete);
        let ready = std::mem::replace(&mut self.pending, rest);
        self.send(&ready);
    }

    fn finish(&mut self) {
        let rest = std::mem::take(&mut self.pending);
        self.send(&rest);
    }

    fn send(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let _ = self.ctx.events.send(EventMsg::ExecCommandOutputDelta {
            call_id: self.call_id.to_string(),
            chunk: String::from_utf8_lossy(bytes).into_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_commands_run_through_bash_and_arrays_run_directly() {
        let script = ShellCommand::Script("echo hi | wc -c".into());
        assert_eq!(script.argv(), ["bash", "-c", "echo hi | wc -c"]);
        assert_eq!(script.display(), "echo hi | wc -c");
        let argv = ShellCommand::Argv(vec!["grep".into(), "a b".into(), "it's".into()]);
        assert_eq!(argv.argv(), ["grep", "a b", "it's"]);
        assert_eq!(argv.display(), r"grep 'a b' 'it'\''s'");
    }

    #[test]
    fn schema_accepts_a_string_or_an_array() {
        let schema = ShellTool.spec().parameters;
        assert_eq!(schema["required"], serde_json::json!(["command"]));
        let variants = schema["properties"]["command"]["anyOf"].as_array().unwrap();
        assert_eq!(variants[0]["type"], "string");
        assert_eq!(variants[1]["type"], "array");
        assert_eq!(schema["properties"]["timeout_ms"]["type"], "integer");
    }
}
