//! JSONL output in the event shapes `codex exec --json` prints, so scripts written for it work.

use super::Renderer;
use cadre_protocol::{
    Event, EventMsg, ExecStatus, FileChangeKind, IncompleteReason, PlanItem, StepStatus,
};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;

pub struct JsonlRenderer {
    next_item: u64,
    /// Exec call id → item id and command.
    commands: HashMap<String, (String, String)>,
    /// Call id of a tool that is not a command → item id and arguments.
    tool_calls: HashMap<String, (String, Value)>,
    /// The turn's todo list item id and its latest items.
    todo: Option<(String, Value)>,
}

impl JsonlRenderer {
    pub fn new() -> Self {
        JsonlRenderer {
            next_item: 0,
            commands: HashMap::new(),
            tool_calls: HashMap::new(),
            todo: None,
        }
    }

    fn item_id(&mut self) -> String {
        let id = format!("item_{}", self.next_item);
        self.next_item += 1;
        id
    }

    fn close_todo(&mut self) {
        if let Some((id, items)) = self.todo.take() {
            emit(
                json!({"type": "item.completed", "item": {"id": id, "type": "todo_list", "items": items}}),
            );
        }
    }
}

impl Default for JsonlRenderer {
    fn default() -> Self {
        Self::new()
    }
}

fn emit(value: Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, &value);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// `item.started` / `item.completed` around one item, as Codex prints them.
#[derive(Serialize)]
struct ItemEvent<T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    item: T,
}

/// A call of a tool that is not a command (read_file, list_dir, grep, spawn_agent...), in the
/// shape of Codex's `mcp_tool_call` item; cadre's own tools name the server `cadre`.
#[derive(Serialize)]
struct ToolCallItem {
    id: String,
    #[serde(rename = "type")]
    item_type: &'static str,
    server: &'static str,
    tool: String,
    arguments: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<ToolCallResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ItemError>,
    status: ToolCallStatus,
}

#[derive(Serialize)]
struct ToolCallResult {
    content: Vec<TextContent>,
    structured_content: Option<Value>,
}

#[derive(Serialize)]
struct TextContent {
    #[serde(rename = "type")]
    kind: &'static str,
    text: String,
}

#[derive(Serialize)]
struct ItemError {
    message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum ToolCallStatus {
    InProgress,
    Completed,
    Failed,
}

/// Codex's `error` item, which its exec prints for warnings that do not end the turn.
#[derive(Serialize)]
struct ErrorItem {
    id: String,
    #[serde(rename = "type")]
    item_type: &'static str,
    message: String,
}

fn emit_item<T: Serialize>(kind: &'static str, item: T) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, &ItemEvent { kind, item });
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

fn tool_call_item(id: String, tool: &str, arguments: Value) -> ToolCallItem {
    ToolCallItem {
        id,
        item_type: "mcp_tool_call",
        server: "cadre",
        tool: tool.to_string(),
        arguments,
        result: None,
        error: None,
        status: ToolCallStatus::InProgress,
    }
}

fn todo_items(plan: &[PlanItem]) -> Value {
    Value::Array(
        plan.iter()
            .map(|p| json!({"text": p.step, "completed": p.status == StepStatus::Completed}))
            .collect(),
    )
}

fn usage_json(usage: &cadre_protocol::TokenUsage) -> Value {
    json!({
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "output_tokens": usage.output_tokens,
    })
}

impl Renderer for JsonlRenderer {
    fn render(&mut self, event: &Event) {
        match &event.msg {
            EventMsg::SessionConfigured { session_id, .. } => {
                emit(json!({"type": "thread.started", "thread_id": session_id}))
            }
            EventMsg::TurnStarted { .. } => emit(json!({"type": "turn.started"})),
            EventMsg::AgentMessage { text, .. } => {
                let id = self.item_id();
                emit(
                    json!({"type": "item.completed", "item": {"id": id, "type": "agent_message", "text": text}}),
                );
            }
            EventMsg::Reasoning { text, .. } => {
                let id = self.item_id();
                emit(
                    json!({"type": "item.completed", "item": {"id": id, "type": "reasoning", "text": text}}),
                );
            }
            EventMsg::ExecCommandBegin {
                call_id, command, ..
            } => {
                let id = self.item_id();
                self.commands
                    .insert(call_id.clone(), (id.clone(), command.clone()));
                emit(json!({"type": "item.started", "item": {
                    "id": id, "type": "command_execution", "command": command,
                    "aggregated_output": "", "exit_code": null, "status": "in_progress"}}));
            }
            EventMsg::ExecCommandEnd {
                call_id,
                command,
                exit_code,
                output,
                status,
                ..
            } => {
                let id = match self.commands.remove(call_id) {
                    Some((id, _)) => id,
                    None => self.item_id(),
                };
                let status = match status {
                    ExecStatus::Completed if *exit_code == Some(0) => "completed",
                    ExecStatus::Declined => "declined",
                    _ => "failed",
                };
                emit(json!({"type": "item.completed", "item": {
                    "id": id, "type": "command_execution", "command": command,
                    "aggregated_output": output, "exit_code": exit_code, "status": status}}));
            }
            EventMsg::ToolCallBegin {
                call_id,
                tool,
                arguments,
            } => {
                let id = self.item_id();
                self.tool_calls
                    .insert(call_id.clone(), (id.clone(), arguments.clone()));
                emit_item("item.started", tool_call_item(id, tool, arguments.clone()));
            }
            EventMsg::ToolCallEnd {
                call_id,
                tool,
                success,
                output,
            } => {
                let (id, arguments) = match self.tool_calls.remove(call_id) {
                    Some(started) => started,
                    None => (self.item_id(), Value::Null),
                };
                let mut item = tool_call_item(id, tool, arguments);
                if *success {
                    item.status = ToolCallStatus::Completed;
                    item.result = Some(ToolCallResult {
                        content: vec![TextContent {
                            kind: "text",
                            text: output.clone(),
                        }],
                        structured_content: None,
                    });
                } else {
                    item.status = ToolCallStatus::Failed;
                    item.error = Some(ItemError {
                        message: output.clone(),
                    });
                }
                emit_item("item.completed", item);
            }
            EventMsg::ToolCallInvalid { tool, error, .. } => {
                let mut item = tool_call_item(self.item_id(), tool, Value::Null);
                item.status = ToolCallStatus::Failed;
                item.error = Some(ItemError {
                    message: format!("not run: the arguments are not valid JSON ({error})"),
                });
                emit_item("item.completed", item);
            }
            EventMsg::ResponseIncomplete {
                reason,
                max_output_tokens,
            } => {
                let message = match (reason, max_output_tokens) {
                    (IncompleteReason::MaxOutputTokens, Some(max)) => {
                        format!("the model's answer was cut off at the output limit ({max} tokens)")
                    }
                    (IncompleteReason::MaxOutputTokens, None) => {
                        "the model's answer was cut off at the output limit".to_string()
                    }
                    (IncompleteReason::ContentFilter, _) => {
                        "the model's answer was stopped by the provider's content filter"
                            .to_string()
                    }
                };
                emit_item(
                    "item.completed",
                    ErrorItem {
                        id: self.item_id(),
                        item_type: "error",
                        message,
                    },
                );
            }
            EventMsg::PatchApplyEnd {
                changes, success, ..
            } => {
                let id = self.item_id();
                let changes: Vec<Value> = changes
                    .iter()
                    .map(|c| {
                        let kind = match c.kind {
                            FileChangeKind::Add => "add",
                            FileChangeKind::Update => "update",
                            FileChangeKind::Delete => "delete",
                        };
                        json!({"path": c.path, "kind": kind})
                    })
                    .collect();
                emit(json!({"type": "item.completed", "item": {
                    "id": id, "type": "file_change", "changes": changes,
                    "status": if *success { "completed" } else { "failed" }}}));
            }
            EventMsg::PlanUpdate { plan, .. } => {
                let items = todo_items(plan);
                match &mut self.todo {
                    Some((id, current)) => {
                        *current = items.clone();
                        emit(
                            json!({"type": "item.updated", "item": {"id": id, "type": "todo_list", "items": items}}),
                        );
                    }
                    None => {
                        let id = self.item_id();
                        emit(
                            json!({"type": "item.started", "item": {"id": id, "type": "todo_list", "items": items}}),
                        );
                        self.todo = Some((id, items));
                    }
                }
            }
            EventMsg::StreamRetry {
                attempt,
                max_attempts,
                delay_ms,
                reason,
            } => {
                let id = self.item_id();
                emit(
                    json!({"type": "item.completed", "item": {"id": id, "type": "error",
                    "message": format!("Reconnecting... {attempt}/{max_attempts} in {delay_ms} ms: {reason}")}}),
                );
            }
            EventMsg::Warning { message } => {
                let id = self.item_id();
                emit(
                    json!({"type": "item.completed", "item": {"id": id, "type": "error", "message": message}}),
                );
            }
            EventMsg::ApprovalResolved { decision, by, .. } => {
                let id = self.item_id();
                emit(
                    json!({"type": "item.completed", "item": {"id": id, "type": "error",
                    "message": format!("approval {decision:?} by {by}").to_lowercase()}}),
                );
            }
            EventMsg::Error { message } => emit(json!({"type": "error", "message": message})),
            EventMsg::TurnComplete { usage, .. } => {
                self.close_todo();
                emit(json!({"type": "turn.completed", "usage": usage_json(usage)}));
            }
            EventMsg::TurnAborted { reason, .. } => {
                self.close_todo();
                emit(json!({"type": "turn.failed", "error": {"message": reason}}));
            }
            EventMsg::TurnFailed { error, .. } => {
                self.close_todo();
                emit(json!({"type": "error", "message": error}));
                emit(json!({"type": "turn.failed", "error": {"message": error}}));
            }
            _ => {}
        }
    }
}
