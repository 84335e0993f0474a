//! JSONL output in the event shapes `codex exec --json` prints, so scripts written for it work.

use super::Renderer;
use cadre_protocol::{Event, EventMsg, ExecStatus, FileChangeKind, PlanItem, StepStatus};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;

pub struct JsonlRenderer {
    next_item: u64,
    /// Exec call id → item id and command.
    commands: HashMap<String, (String, String)>,
    /// The turn's todo list item id and its latest items.
    todo: Option<(String, Value)>,
}

impl JsonlRenderer {
    pub fn new() -> Self {
        JsonlRenderer {
            next_item: 0,
            commands: HashMap::new(),
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
                emit(json!({"type": "turn.failed", "error": {"message": reason.to_string()}}));
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
