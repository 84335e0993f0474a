//! The Responses API wire: `POST {base_url}/responses`.
//!
//! Requests carry the conversation as typed input items; the answer streams as named events
//! (`response.output_text.delta`, `response.output_item.done`, `response.completed`, ...). Items
//! are sent with `store: false`, so nothing refers to server-side state and item ids are not sent
//! back.

use crate::call_arguments;
use crate::failure::{AttemptFailure, ErrorDetails, classify_stream_error};
use crate::sse::SseEvent;
use crate::wire::WireDecoder;
use crate::{ModelEvent, Prompt};
use cadre_protocol::{IncompleteReason, ResponseItem, Role, TokenUsage};
use serde_json::{Value, json};

pub fn request_body(prompt: &Prompt, stream: bool) -> Value {
    let input: Vec<Value> = prompt.input.iter().filter_map(input_item).collect();
    let tools: Vec<Value> = prompt
        .tools
        .iter()
        .map(|tool| {
            json!({
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
                "strict": false,
            })
        })
        .collect();
    let mut body = json!({
        "model": prompt.model,
        "instructions": prompt.instructions,
        "input": input,
        "tools": tools,
        "tool_choice": "auto",
        "parallel_tool_calls": prompt.parallel_tool_calls,
        "stream": stream,
        "store": false,
    });
    if let Some(max) = prompt.max_output_tokens {
        body["max_output_tokens"] = json!(max);
    }
    body
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::Developer => "developer",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn input_item(item: &ResponseItem) -> Option<Value> {
    Some(match item {
        ResponseItem::Message { role, content } => {
            let part_type = if *role == Role::Assistant {
                "output_text"
            } else {
                "input_text"
            };
            json!({
                "type": "message",
                "role": role_name(*role),
                "content": [{"type": part_type, "text": content}],
            })
        }
        ResponseItem::FunctionCall {
            call_id,
            name,
            arguments,
            ..
        } => json!({
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": call_arguments::for_wire(arguments),
        }),
        ResponseItem::FunctionCallOutput { call_id, output } => json!({
            "type": "function_call_output",
            "call_id": call_id,
            "output": output,
        }),
        // Without the opaque state a reasoning item means nothing to the provider.
        ResponseItem::Reasoning {
            summary,
            encrypted_content: Some(encrypted_content),
            ..
        } => json!({
            "type": "reasoning",
            "summary": summary
                .iter()
                .map(|text| json!({"type": "summary_text", "text": text}))
                .collect::<Vec<_>>(),
            "encrypted_content": encrypted_content,
        }),
        ResponseItem::Reasoning { .. } => return None,
    })
}

fn parse_role(role: Option<&str>) -> Role {
    match role {
        Some("user") => Role::User,
        Some("system") => Role::System,
        Some("developer") => Role::Developer,
        _ => Role::Assistant,
    }
}

fn texts_of_type(parts: Option<&Value>, part_types: &[&str]) -> Vec<String> {
    parts
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|part| {
                    part.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| part_types.contains(&t))
                })
                .filter_map(|part| {
                    part.get("text")
                        .or_else(|| part.get("refusal"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn required_str<'a>(value: &'a Value, field: &str, what: &str) -> Result<&'a str, AttemptFailure> {
    value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| AttemptFailure::malformed(format!("{what} has no `{field}` string")))
}

fn optional_string(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_string)
}

/// Converts one output item; item types cadre does not use (built-in tool calls...) give `None`.
fn output_item(item: &Value) -> Result<Option<ResponseItem>, AttemptFailure> {
    let item_type = required_str(item, "type", "an output item")?;
    Ok(Some(match item_type {
        "message" => ResponseItem::Message {
            role: parse_role(item.get("role").and_then(Value::as_str)),
            content: texts_of_type(item.get("content"), &["output_text", "refusal"]).concat(),
        },
        "function_call" => {
            let arguments = match item.get("arguments") {
                Some(Value::String(arguments)) => arguments.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            ResponseItem::FunctionCall {
                id: optional_string(item, "id"),
                call_id: required_str(item, "call_id", "a function_call item")?.to_string(),
                name: required_str(item, "name", "a function_call item")?.to_string(),
                arguments,
            }
        }
        "reasoning" => {
            let mut summary = texts_of_type(item.get("summary"), &["summary_text"]);
            if summary.is_empty() {
                summary = texts_of_type(item.get("content"), &["reasoning_text"]);
            }
            ResponseItem::Reasoning {
                id: optional_string(item, "id"),
                summary,
                encrypted_content: optional_string(item, "encrypted_content"),
            }
        }
        _ => return Ok(None),
    }))
}

pub fn parse_usage(usage: Option<&Value>) -> Option<TokenUsage> {
    let usage = usage.filter(|u| u.is_object())?;
    let number = |value: Option<&Value>| value.and_then(Value::as_u64).unwrap_or(0);
    let input_tokens = number(usage.get("input_tokens"));
    let output_tokens = number(usage.get("output_tokens"));
    let total_tokens = usage
        .get("total_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(input_tokens + output_tokens);
    Some(TokenUsage {
        input_tokens,
        cached_input_tokens: number(usage.pointer("/input_tokens_details/cached_tokens")),
        output_tokens,
        reasoning_output_tokens: number(usage.pointer("/output_tokens_details/reasoning_tokens")),
        total_tokens,
    })
}

/// Why a response stopped early: `status: "incomplete"` with `incomplete_details.reason`.
fn incomplete_reason(response: &Value) -> Option<IncompleteReason> {
    let reason = response
        .pointer("/incomplete_details/reason")
        .and_then(Value::as_str);
    match reason {
        Some("content_filter") => Some(IncompleteReason::ContentFilter),
        Some(_) => Some(IncompleteReason::MaxOutputTokens),
        None if response.get("status").and_then(Value::as_str) == Some("incomplete") => {
            Some(IncompleteReason::MaxOutputTokens)
        }
        None => None,
    }
}

fn response_failure(response: &Value) -> AttemptFailure {
    let details = response
        .get("error")
        .filter(|e| e.is_object())
        .map(|error| ErrorDetails::from_value(&json!({ "error": error })))
        .unwrap_or_default();
    classify_stream_error(&details)
}

#[derive(Debug, Default)]
pub struct ResponsesDecoder {
    response_id: Option<String>,
    complete: bool,
}

impl WireDecoder for ResponsesDecoder {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), AttemptFailure> {
        if event.data.trim() == "[DONE]" {
            return Ok(());
        }
        let data: Value = serde_json::from_str(&event.data).map_err(|error| {
            AttemptFailure::malformed(format!("event data is not JSON ({error}): {}", event.data))
        })?;
        let event_type = data
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or_default();
        let delta = || required_str(&data, "delta", event_type).map(|delta| delta.to_string());
        match event_type {
            "response.created" | "response.in_progress" => {
                if let Some(id) = data.pointer("/response/id").and_then(Value::as_str) {
                    self.response_id = Some(id.to_string());
                }
            }
            "response.output_text.delta" => out.push(ModelEvent::TextDelta { delta: delta()? }),
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                out.push(ModelEvent::ReasoningDelta { delta: delta()? })
            }
            "response.output_item.done" => {
                let item = data.get("item").ok_or_else(|| {
                    AttemptFailure::malformed("response.output_item.done has no `item`")
                })?;
                if let Some(item) = output_item(item)? {
                    out.push(ModelEvent::ItemDone(item));
                }
            }
            "response.completed" | "response.incomplete" => {
                let response = data.get("response").ok_or_else(|| {
                    AttemptFailure::malformed(format!("{event_type} has no `response`"))
                })?;
                if let Some(id) = response.get("id").and_then(Value::as_str) {
                    self.response_id = Some(id.to_string());
                }
                out.push(ModelEvent::Completed {
                    response_id: self.response_id.clone(),
                    usage: parse_usage(response.get("usage")),
                    incomplete: incomplete_reason(response),
                });
                self.complete = true;
            }
            "response.failed" => {
                return Err(response_failure(
                    data.get("response").unwrap_or(&Value::Null),
                ));
            }
            "error" => return Err(classify_stream_error(&ErrorDetails::from_value(&data))),
            _ => {}
        }
        Ok(())
    }

    fn is_complete(&self) -> bool {
        self.complete
    }

    fn on_end(&mut self, _out: &mut Vec<ModelEvent>) -> Result<(), AttemptFailure> {
        if self.complete {
            Ok(())
        } else {
            Err(AttemptFailure::transient(
                "the stream ended before response.completed",
            ))
        }
    }
}

/// A whole (non-streamed) response object, turned into the events a stream would have produced.
pub fn decode_full(response: &Value) -> Result<Vec<ModelEvent>, AttemptFailure> {
    if response.get("error").is_some_and(|e| e.is_object())
        || response.get("status").and_then(Value::as_str) == Some("failed")
    {
        return Err(response_failure(response));
    }
    let output = response
        .get("output")
        .and_then(Value::as_array)
        .ok_or_else(|| AttemptFailure::malformed("the response has no `output` array"))?;
    let mut events = Vec::new();
    for item in output {
        let Some(item) = output_item(item)? else {
            continue;
        };
        match &item {
            ResponseItem::Message { content, .. } if !content.is_empty() => {
                events.push(ModelEvent::TextDelta {
                    delta: content.clone(),
                })
            }
            ResponseItem::Reasoning { summary, .. } if !summary.is_empty() => {
                events.push(ModelEvent::ReasoningDelta {
                    delta: summary.join("\n\n"),
                })
            }
            _ => {}
        }
        events.push(ModelEvent::ItemDone(item));
    }
    events.push(ModelEvent::Completed {
        response_id: optional_string(response, "id"),
        usage: parse_usage(response.get("usage")),
        incomplete: incomplete_reason(response),
    });
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelError;
    use cadre_protocol::ToolSpec;

    fn prompt() -> Prompt {
        Prompt {
            model: "gpt-test".into(),
            instructions: "Be brief.".into(),
            input: vec![
                ResponseItem::user("list files"),
                ResponseItem::Reasoning {
                    id: Some("rs_1".into()),
                    summary: vec!["thinking".into()],
                    encrypted_content: Some("opaque".into()),
                },
                ResponseItem::Reasoning {
                    id: Some("rs_2".into()),
                    summary: vec!["plain".into()],
                    encrypted_content: None,
                },
                ResponseItem::assistant("Sure."),
                ResponseItem::FunctionCall {
                    id: Some("fc_1".into()),
                    call_id: "call_1".into(),
                    name: "shell".into(),
                    arguments: "{\"command\":\"ls\"}".into(),
                },
                ResponseItem::FunctionCallOutput {
                    call_id: "call_1".into(),
                    output: "a.txt".into(),
                },
            ],
            tools: vec![ToolSpec {
                name: "shell".into(),
                description: "Runs a command".into(),
                parameters: json!({"type": "object", "properties": {"command": {"type": "string"}}}),
            }],
            parallel_tool_calls: true,
            max_output_tokens: None,
        }
    }

    #[test]
    fn request_body_matches_the_responses_api() {
        assert_eq!(
            request_body(&prompt(), true),
            json!({
                "model": "gpt-test",
                "instructions": "Be brief.",
                "input": [
                    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
                    {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thinking"}], "encrypted_content": "opaque"},
                    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Sure."}]},
                    {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{\"command\":\"ls\"}"},
                    {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"},
                ],
                "tools": [{
                    "type": "function",
                    "name": "shell",
                    "description": "Runs a command",
                    "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
                    "strict": false,
                }],
                "tool_choice": "auto",
                "parallel_tool_calls": true,
                "stream": true,
                "store": false,
            })
        );
    }

    #[test]
    fn invalid_call_arguments_never_go_back_on_the_wire() {
        let mut prompt = prompt();
        prompt.input = vec![
            ResponseItem::FunctionCall {
                id: None,
                call_id: "call_1".into(),
                name: "read_file".into(),
                arguments: r#"{"path": "READ"#.into(),
            },
            ResponseItem::FunctionCallOutput {
                call_id: "call_1".into(),
                output: "not run".into(),
            },
        ];
        prompt.max_output_tokens = Some(64);
        let body = request_body(&prompt, true);
        assert_eq!(body["input"][0]["arguments"], json!("{}"));
        assert_eq!(body["max_output_tokens"], json!(64));
        assert!(
            request_body(&super::tests::prompt(), true)
                .get("max_output_tokens")
                .is_none()
        );
    }

    #[test]
    fn an_incomplete_response_says_why() {
        let events = decode(&[(
            "response.incomplete",
            json!({"type": "response.incomplete", "response": {"id": "resp_2", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}}),
        )])
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            events,
            vec![ModelEvent::Completed {
                response_id: Some("resp_2".into()),
                usage: None,
                incomplete: Some(IncompleteReason::MaxOutputTokens),
            }]
        );
    }

    fn decode(events: &[(&str, Value)]) -> Result<Vec<ModelEvent>, AttemptFailure> {
        let mut decoder = ResponsesDecoder::default();
        let mut out = Vec::new();
        for (name, data) in events {
            decoder.on_event(
                &SseEvent {
                    event: Some(name.to_string()),
                    data: data.to_string(),
                },
                &mut out,
            )?;
        }
        decoder.on_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn stream_events_become_model_events() {
        let events = decode(&[
            ("response.created", json!({"type": "response.created", "response": {"id": "resp_1"}})),
            ("response.reasoning_summary_text.delta", json!({"type": "response.reasoning_summary_text.delta", "delta": "hmm"})),
            ("response.output_item.done", json!({"type": "response.output_item.done", "item": {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "hmm"}]}})),
            ("response.output_text.delta", json!({"type": "response.output_text.delta", "delta": "Hi"})),
            ("response.some_future_event", json!({"type": "response.some_future_event"})),
            ("response.output_item.done", json!({"type": "response.output_item.done", "item": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi", "annotations": []}]}})),
            ("response.output_item.done", json!({"type": "response.output_item.done", "item": {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "shell", "arguments": "{}"}})),
            ("response.completed", json!({"type": "response.completed", "response": {"id": "resp_1", "usage": {
                "input_tokens": 10, "input_tokens_details": {"cached_tokens": 4},
                "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 17}}})),
        ])
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            events,
            vec![
                ModelEvent::ReasoningDelta {
                    delta: "hmm".into()
                },
                ModelEvent::ItemDone(ResponseItem::Reasoning {
                    id: Some("rs_1".into()),
                    summary: vec!["hmm".into()],
                    encrypted_content: None,
                }),
                ModelEvent::TextDelta { delta: "Hi".into() },
                ModelEvent::ItemDone(ResponseItem::assistant("Hi")),
                ModelEvent::ItemDone(ResponseItem::FunctionCall {
                    id: Some("fc_1".into()),
                    call_id: "call_9".into(),
                    name: "shell".into(),
                    arguments: "{}".into(),
                }),
                ModelEvent::Completed {
                    response_id: Some("resp_1".into()),
                    usage: Some(TokenUsage {
                        input_tokens: 10,
                        cached_input_tokens: 4,
                        output_tokens: 7,
                        reasoning_output_tokens: 2,
                        total_tokens: 17,
                    }),
                    incomplete: None,
                },
            ]
        );
    }

    #[test]
    fn stream_without_completion_is_transient() {
        let result = decode(&[(
            "response.output_text.delta",
            json!({"type": "response.output_text.delta", "delta": "Hi"}),
        )]);
        assert!(matches!(result, Err(AttemptFailure::Transient { .. })));
    }

    #[test]
    fn missing_fields_and_bad_json_are_malformed() {
        let result = decode(&[(
            "response.output_text.delta",
            json!({"type": "response.output_text.delta"}),
        )]);
        assert!(matches!(
            result,
            Err(AttemptFailure::Fatal(ModelError::MalformedStream(_)))
        ));
        let mut decoder = ResponsesDecoder::default();
        let result = decoder.on_event(
            &SseEvent {
                event: None,
                data: "{nope".into(),
            },
            &mut Vec::new(),
        );
        assert!(matches!(
            result,
            Err(AttemptFailure::Fatal(ModelError::MalformedStream(_)))
        ));
    }

    #[test]
    fn failed_responses_are_classified() {
        let failed = |code: &str| {
            decode(&[(
                "response.failed",
                json!({"type": "response.failed", "response": {"id": "r", "status": "failed", "error": {"code": code, "message": "m"}}}),
            )])
        };
        assert!(matches!(
            failed("context_length_exceeded"),
            Err(AttemptFailure::Fatal(
                ModelError::ContextLengthExceeded { .. }
            ))
        ));
        assert!(matches!(
            failed("server_error"),
            Err(AttemptFailure::Transient { .. })
        ));
        let error_event = decode(&[(
            "error",
            json!({"type": "error", "code": "rate_limit_exceeded", "message": "slow down"}),
        )]);
        assert!(matches!(error_event, Err(AttemptFailure::Transient { .. })));
    }

    #[test]
    fn a_whole_response_object_produces_the_same_events() {
        let events = decode_full(&json!({
            "id": "resp_2",
            "object": "response",
            "status": "completed",
            "output": [
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]},
                {"type": "function_call", "call_id": "c", "name": "read_file", "arguments": "{\"path\":\"a\"}"},
                {"type": "web_search_call", "id": "ws"},
            ],
            "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
        }))
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            events,
            vec![
                ModelEvent::TextDelta {
                    delta: "Done.".into()
                },
                ModelEvent::ItemDone(ResponseItem::assistant("Done.")),
                ModelEvent::ItemDone(ResponseItem::FunctionCall {
                    id: None,
                    call_id: "c".into(),
                    name: "read_file".into(),
                    arguments: "{\"path\":\"a\"}".into(),
                }),
                ModelEvent::Completed {
                    response_id: Some("resp_2".into()),
                    usage: Some(TokenUsage {
                        input_tokens: 3,
                        output_tokens: 2,
                        total_tokens: 5,
                        ..TokenUsage::default()
                    }),
                    incomplete: None,
                },
            ]
        );
    }
}
