//! JSONL output in the event shapes `codex exec --json` prints, so scripts written for it work.
//!
//! The schema is the serde types below ([`ThreadEvent`] and its [`ThreadItem`]s);
//! [`ExecJsonl`] turns a session's core events into them. `cadre exec --json` prints them as
//! they are, `cadre supervisor --json` prints the same ones for each agent with its `agent_id`.

use super::Renderer;
use cadre_protocol::{
    Event, EventMsg, ExecStatus, FileChangeKind, IncompleteReason, PlanItem, StepStatus,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

/// One line of the JSONL stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum ThreadEvent {
    #[serde(rename = "thread.started")]
    ThreadStarted { thread_id: String },
    #[serde(rename = "turn.started")]
    TurnStarted {},
    #[serde(rename = "item.started")]
    ItemStarted { item: ThreadItem },
    #[serde(rename = "item.updated")]
    ItemUpdated { item: ThreadItem },
    #[serde(rename = "item.completed")]
    ItemCompleted { item: ThreadItem },
    #[serde(rename = "turn.completed")]
    TurnCompleted { usage: Usage },
    #[serde(rename = "turn.failed")]
    TurnFailed { error: ErrorMessage },
    #[serde(rename = "error")]
    Error { message: String },
}

/// An item of a turn: its id (unique within one session's stream) and what it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreadItem {
    pub id: String,
    #[serde(flatten)]
    pub details: ItemDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemDetails {
    AgentMessage {
        text: String,
    },
    Reasoning {
        text: String,
    },
    CommandExecution {
        command: String,
        aggregated_output: String,
        exit_code: Option<i32>,
        status: CommandStatus,
    },
    FileChange {
        changes: Vec<FileUpdate>,
        status: PatchStatus,
    },
    TodoList {
        items: Vec<TodoItem>,
    },
    /// A call of a tool that is not a command (read_file, list_dir, grep, spawn_agent...), in
    /// the shape of Codex's `mcp_tool_call` item; cadre's own tools name the server `cadre`.
    McpToolCall {
        server: &'static str,
        tool: String,
        arguments: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<ToolCallResult>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<ErrorMessage>,
        status: ToolCallStatus,
    },
    Error {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCallResult {
    pub content: Vec<TextContent>,
    pub structured_content: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextContent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallStatus {
    InProgress,
    Completed,
    Failed,
}

/// A tool call item of cadre's own tools, before its outcome is known.
fn tool_call(tool: &str, arguments: Value) -> ItemDetails {
    ItemDetails::McpToolCall {
        server: "cadre",
        tool: tool.to_string(),
        arguments,
        result: None,
        error: None,
        status: ToolCallStatus::InProgress,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandStatus {
    InProgress,
    Completed,
    Failed,
    Declined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatchStatus {
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileUpdate {
    pub path: PathBuf,
    pub kind: FileUpdateKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileUpdateKind {
    Add,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TodoItem {
    pub text: String,
    pub completed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorMessage {
    pub message: String,
}

/// Turns one session's core events into [`ThreadEvent`]s, numbering its items.
#[derive(Debug, Default)]
pub struct ExecJsonl {
    next_item: u64,
    /// Exec call id → item id.
    commands: HashMap<String, String>,
    /// Call id of a tool that is not a command → item id and arguments.
    tool_calls: HashMap<String, (String, Value)>,
    /// The turn's todo list item id and its latest items.
    todo: Option<(String, Vec<TodoItem>)>,
}

impl ExecJsonl {
    fn item_id(&mut self) -> String {
        let id = format!("item_{}", self.next_item);
        self.next_item += 1;
        id
    }

    fn completed(&mut self, details: ItemDetails) -> ThreadEvent {
        ThreadEvent::ItemCompleted {
            item: ThreadItem {
                id: self.item_id(),
                details,
            },
        }
    }

    fn close_todo(&mut self, out: &mut Vec<ThreadEvent>) {
        if let Some((id, items)) = self.todo.take() {
            out.push(ThreadEvent::ItemCompleted {
                item: ThreadItem {
                    id,
                    details: ItemDetails::TodoList { items },
                },
            });
        }
    }

    /// The stream's events for one core event (none for events the schema does not show).
    pub fn translate(&mut self, event: &Event) -> Vec<ThreadEvent> {
        let mut out = Vec::new();
        match &event.msg {
            EventMsg::SessionConfigured { session_id, .. } => {
                out.push(ThreadEvent::ThreadStarted {
                    thread_id: session_id.clone(),
                })
            }
            EventMsg::TurnStarted { .. } => out.push(ThreadEvent::TurnStarted {}),
            EventMsg::AgentMessage { text, .. } => {
                out.push(self.completed(ItemDetails::AgentMessage { text: text.clone() }))
            }
            EventMsg::Reasoning { text, .. } => {
                out.push(self.completed(ItemDetails::Reasoning { text: text.clone() }))
            }
            EventMsg::ExecCommandBegin {
                call_id, command, ..
            } => {
                let id = self.item_id();
                self.commands.insert(call_id.clone(), id.clone());
                out.push(ThreadEvent::ItemStarted {
                    item: ThreadItem {
                        id,
                        details: ItemDetails::CommandExecution {
                            command: command.clone(),
                            aggregated_output: String::new(),
                            exit_code: None,
                            status: CommandStatus::InProgress,
                        },
                    },
                });
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
                    Some(id) => id,
                    None => self.item_id(),
                };
                let status = match status {
                    ExecStatus::Completed if *exit_code == Some(0) => CommandStatus::Completed,
                    ExecStatus::Declined => CommandStatus::Declined,
                    _ => CommandStatus::Failed,
                };
                out.push(ThreadEvent::ItemCompleted {
                    item: ThreadItem {
                        id,
                        details: ItemDetails::CommandExecution {
                            command: command.clone(),
                            aggregated_output: output.clone(),
                            exit_code: *exit_code,
                            status,
                        },
                    },
                });
            }
            EventMsg::ToolCallBegin {
                call_id,
                tool,
                arguments,
            } => {
                let id = self.item_id();
                self.tool_calls
                    .insert(call_id.clone(), (id.clone(), arguments.clone()));
                out.push(ThreadEvent::ItemStarted {
                    item: ThreadItem {
                        id,
                        details: tool_call(tool, arguments.clone()),
                    },
                });
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
                let (result, error, status) = if *success {
                    let content = vec![TextContent {
                        kind: "text",
                        text: output.clone(),
                    }];
                    let result = ToolCallResult {
                        content,
                        structured_content: None,
                    };
                    (Some(result), None, ToolCallStatus::Completed)
                } else {
                    let error = ErrorMessage {
                        message: output.clone(),
                    };
                    (None, Some(error), ToolCallStatus::Failed)
                };
                out.push(ThreadEvent::ItemCompleted {
                    item: ThreadItem {
                        id,
                        details: ItemDetails::McpToolCall {
                            server: "cadre",
                            tool: tool.clone(),
                            arguments,
                            result,
                            error,
                            status,
                        },
                    },
                });
            }
            EventMsg::ToolCallInvalid { tool, error, .. } => {
                out.push(self.completed(ItemDetails::McpToolCall {
                    server: "cadre",
                    tool: tool.clone(),
                    arguments: Value::Null,
                    result: None,
                    error: Some(ErrorMessage {
                        message: format!("not run: the arguments are not valid JSON ({error})"),
                    }),
                    status: ToolCallStatus::Failed,
                }))
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
                out.push(self.completed(ItemDetails::Error { message }))
            }
            EventMsg::PatchApplyEnd {
                changes, success, ..
            } => {
                let changes = changes
                    .iter()
                    .map(|c| FileUpdate {
                        path: c.path.clone(),
                        kind: match c.kind {
                            FileChangeKind::Add => FileUpdateKind::Add,
                            FileChangeKind::Update => FileUpdateKind::Update,
                            FileChangeKind::Delete => FileUpdateKind::Delete,
                        },
                    })
                    .collect();
                let status = if *success {
                    PatchStatus::Completed
                } else {
                    PatchStatus::Failed
                };
                out.push(self.completed(ItemDetails::FileChange { changes, status }));
            }
            EventMsg::PlanUpdate { plan, .. } => {
                let items = todo_items(plan);
                let details = ItemDetails::TodoList {
                    items: items.clone(),
                };
                match &mut self.todo {
                    Some((id, current)) => {
                        *current = items;
                        out.push(ThreadEvent::ItemUpdated {
                            item: ThreadItem {
                                id: id.clone(),
                                details,
                            },
                        });
                    }
                    None => {
                        let id = self.item_id();
                        out.push(ThreadEvent::ItemStarted {
                            item: ThreadItem {
                                id: id.clone(),
                                details,
                            },
                        });
                        self.todo = Some((id, items));
                    }
                }
            }
            EventMsg::StreamRetry {
                attempt,
                max_attempts,
                delay_ms,
                reason,
            } => out.push(self.completed(ItemDetails::Error {
                message: format!(
                    "Reconnecting... {attempt}/{max_attempts} in {delay_ms} ms: {reason}"
                ),
            })),
            EventMsg::Warning { message } => out.push(self.completed(ItemDetails::Error {
                message: message.clone(),
            })),
            EventMsg::ApprovalResolved { decision, by, .. } => {
                out.push(self.completed(ItemDetails::Error {
                    message: format!("approval {decision:?} by {by}").to_lowercase(),
                }))
            }
            EventMsg::Error { message } => out.push(ThreadEvent::Error {
                message: message.clone(),
            }),
            EventMsg::TurnComplete { usage, .. } => {
                self.close_todo(&mut out);
                out.push(ThreadEvent::TurnCompleted {
                    usage: Usage {
                        input_tokens: usage.input_tokens,
                        cached_input_tokens: usage.cached_input_tokens,
                        output_tokens: usage.output_tokens,
                    },
                });
            }
            EventMsg::TurnAborted { reason, .. } => {
                self.close_todo(&mut out);
                out.push(ThreadEvent::TurnFailed {
                    error: ErrorMessage {
                        message: reason.to_string(),
                    },
                });
            }
            EventMsg::TurnFailed { error, .. } => {
                self.close_todo(&mut out);
                out.push(ThreadEvent::Error {
                    message: error.clone(),
                });
                out.push(ThreadEvent::TurnFailed {
                    error: ErrorMessage {
                        message: error.clone(),
                    },
                });
            }
            _ => {}
        }
        out
    }
}

fn todo_items(plan: &[PlanItem]) -> Vec<TodoItem> {
    plan.iter()
        .map(|p| TodoItem {
            text: p.step.clone(),
            completed: p.status == StepStatus::Completed,
        })
        .collect()
}

/// Writes one value as a line of JSON on stdout.
pub fn emit_line(value: &impl Serialize) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, value);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// `cadre exec --json`: the session's events in the schema above.
#[derive(Debug, Default)]
pub struct JsonlRenderer {
    translator: ExecJsonl,
}

impl JsonlRenderer {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Renderer for JsonlRenderer {
    fn render(&mut self, event: &Event) {
        for line in self.translator.translate(event) {
            emit_line(&line);
        }
    }
}
