//! The Chat Completions wire: `POST {base_url}/chat/completions`, spoken by most local and
//! third-party servers (Ollama, vLLM, llama.cpp, LM Studio, OpenRouter).
//!
//! The conversation becomes a list of role messages; function calls ride on assistant messages as
//! `tool_calls` and their results come back as `tool` messages. The answer streams as chunks of
//! `choices[0].delta`, with tool calls arriving in fragments keyed by `index`, so the finished
//! items are only known at the end of the stream.

use crate::call_arguments;
use crate::failure::{AttemptFailure, ErrorDetails, classify_stream_error};
use crate::sse::SseEvent;
use crate::wire::WireDecoder;
use crate::{ModelEvent, Prompt};
use cadre_protocol::{IncompleteReason, ResponseItem, Role, TokenUsage};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn request_body(prompt: &Prompt, stream: bool) -> Value {
    let mut body = json!({
        "model": prompt.model,
        "messages": messages(prompt),
        "stream": stream,
    });
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    // `max_tokens` is what llama.cpp, vLLM, Ollama and LM Studio read (`max_completion_tokens`
    // is OpenAI's newer name, which not all of them know).
    if let Some(max) = prompt.max_output_tokens {
        body["max_tokens"] = json!(max);
    }
    // OpenAI rejects an empty `tools` array, and `tool_choice`/`parallel_tool_calls` without tools.
    if !prompt.tools.is_empty() {
        body["tools"] = prompt
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                })
            })
            .collect();
        body["tool_choice"] = json!("auto");
        body["parallel_tool_calls"] = json!(prompt.parallel_tool_calls);
    }
    body
}

/// An assistant message being assembled: its text and the function calls that follow it.
struct AssistantTurn {
    content: Option<String>,
    tool_calls: Vec<Value>,
}

impl AssistantTurn {
    fn into_message(self) -> Value {
        let content = self
            .content
            .filter(|c| !c.is_empty() || self.tool_calls.is_empty());
        let mut message = json!({"role": "assistant", "content": content});
        if !self.tool_calls.is_empty() {
            message["tool_calls"] = Value::Array(self.tool_calls);
        }
        message
    }
}

fn messages(prompt: &Prompt) -> Vec<Value> {
    let mut messages = Vec::new();
    if !prompt.instructions.is_empty() {
        messages.push(json!({"role": "system", "content": prompt.instructions}));
    }
    let mut assistant: Option<AssistantTurn> = None;
    for item in &prompt.input {
        match item {
            ResponseItem::Message {
                role: Role::Assistant,
                content,
            } => {
                messages.extend(assistant.take().map(AssistantTurn::into_message));
                assistant = Some(AssistantTurn {
                    content: Some(content.clone()),
                    tool_calls: Vec::new(),
                });
            }
            ResponseItem::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => assistant
                .get_or_insert_with(|| AssistantTurn {
                    content: None,
                    tool_calls: Vec::new(),
                })
                .tool_calls
                .push(json!({
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": call_arguments::for_wire(arguments)},
                })),
            // Chat Completions has no way to carry reasoning back.
            ResponseItem::Reasoning { .. } => {}
            ResponseItem::Message { role, content } => {
                messages.extend(assistant.take().map(AssistantTurn::into_message));
                // `developer` is a Responses-era role that many Chat servers do not know.
                let role = match role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                    Role::System | Role::Developer => "system",
                };
                messages.push(json!({"role": role, "content": content}));
            }
            ResponseItem::FunctionCallOutput { call_id, output } => {
                messages.extend(assistant.take().map(AssistantTurn::into_message));
                messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": output}));
            }
        }
    }
    messages.extend(assistant.take().map(AssistantTurn::into_message));
    messages
}

pub fn parse_usage(usage: Option<&Value>) -> Option<TokenUsage> {
    let usage = usage.filter(|u| u.is_object())?;
    let number = |value: Option<&Value>| value.and_then(Value::as_u64).unwrap_or(0);
    let input_tokens = number(usage.get("prompt_tokens"));
    let output_tokens = number(usage.get("completion_tokens"));
    Some(TokenUsage {
        input_tokens,
        cached_input_tokens: number(usage.pointer("/prompt_tokens_details/cached_tokens")),
        output_tokens,
        reasoning_output_tokens: number(
            usage.pointer("/completion_tokens_details/reasoning_tokens"),
        ),
        total_tokens: usage
            .get("total_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(input_tokens + output_tokens),
    })
}

#[derive(Debug, Default)]
struct PartialToolCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

#[derive(Debug, Default)]
pub struct ChatDecoder {
    response_id: Option<String>,
    text: String,
    reasoning: String,
    tool_calls: BTreeMap<u64, PartialToolCall>,
    finish_reason: Option<String>,
    usage: Option<TokenUsage>,
    complete: bool,
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl ChatDecoder {
    /// Applies a streamed `delta` or a whole `message`: both carry the same fields.
    fn apply_delta(
        &mut self,
        delta: &Value,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), AttemptFailure> {
        if let Some(text) = text_of(delta.get("content")).filter(|t| !t.is_empty()) {
            self.text.push_str(&text);
            out.push(ModelEvent::TextDelta { delta: text });
        }
        let reasoning = text_of(delta.get("reasoning_content"))
            .or_else(|| text_of(delta.get("reasoning")))
            .filter(|t| !t.is_empty());
        if let Some(reasoning) = reasoning {
            self.reasoning.push_str(&reasoning);
            out.push(ModelEvent::ReasoningDelta { delta: reasoning });
        }
        let Some(fragments) = delta.get("tool_calls").filter(|v| !v.is_null()) else {
            return Ok(());
        };
        let fragments = fragments
            .as_array()
            .ok_or_else(|| AttemptFailure::malformed("`tool_calls` is not an array"))?;
        for (position, fragment) in fragments.iter().enumerate() {
            let index = fragment
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(position as u64);
            let call = self.tool_calls.entry(index).or_default();
            if let Some(id) = fragment
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
            {
                call.id = Some(id.to_string());
            }
            let function = fragment.get("function");
            if let Some(name) = function
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .filter(|name| call.name.is_empty() && !name.is_empty())
            {
                call.name = name.to_string();
            }
            if let Some(arguments) = text_of(function.and_then(|f| f.get("arguments"))) {
                call.arguments.push_str(&arguments);
            }
        }
        Ok(())
    }

    fn apply_chunk(
        &mut self,
        chunk: &Value,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), AttemptFailure> {
        if chunk.get("error").is_some_and(|e| !e.is_null()) {
            return Err(classify_stream_error(&ErrorDetails::from_value(chunk)));
        }
        if let Some(id) = chunk.get("id").and_then(Value::as_str) {
            self.response_id = Some(id.to_string());
        }
        let usage = parse_usage(chunk.get("usage"));
        if usage.is_some() {
            self.usage = usage;
        }
        let choices = match chunk.get("choices") {
            Some(Value::Array(choices)) => choices,
            Some(Value::Null) | None if usage.is_some() => return Ok(()),
            _ => {
                return Err(AttemptFailure::malformed(format!(
                    "a chunk has no `choices` array: {chunk}"
                )));
            }
        };
        let first = choices
            .iter()
            .find(|choice| choice.get("index").and_then(Value::as_u64).unwrap_or(0) == 0);
        let Some(choice) = first else {
            return Ok(());
        };
        let delta = choice.get("delta").or_else(|| choice.get("message"));
        if let Some(delta) = delta {
            self.apply_delta(delta, out)?;
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<ModelEvent>) -> Result<(), AttemptFailure> {
        if !self.reasoning.is_empty() {
            out.push(ModelEvent::ItemDone(ResponseItem::Reasoning {
                id: None,
                summary: vec![std::mem::take(&mut self.reasoning)],
                encrypted_content: None,
            }));
        }
        if !self.text.is_empty() {
            out.push(ModelEvent::ItemDone(ResponseItem::assistant(
                std::mem::take(&mut self.text),
            )));
        }
        for (index, call) in std::mem::take(&mut self.tool_calls) {
            if call.name.is_empty() {
                return Err(AttemptFailure::malformed(format!(
                    "tool call {index} has no function name"
                )));
            }
            out.push(ModelEvent::ItemDone(ResponseItem::FunctionCall {
                id: None,
                call_id: call.id.unwrap_or_else(|| format!("call_{index}")),
                name: call.name,
                arguments: call.arguments,
            }));
        }
        let incomplete = match self.finish_reason.as_deref() {
            Some("length") => Some(IncompleteReason::MaxOutputTokens),
            Some("content_filter") => Some(IncompleteReason::ContentFilter),
            _ => None,
        };
        out.push(ModelEvent::Completed {
            response_id: self.response_id.clone(),
            usage: self.usage,
            incomplete,
        });
        self.complete = true;
        Ok(())
    }
}

impl WireDecoder for ChatDecoder {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), AttemptFailure> {
        if self.complete {
            return Ok(());
        }
        if event.data.trim() == "[DONE]" {
            return self.finish(out);
        }
        let chunk: Value = serde_json::from_str(&event.data).map_err(|error| {
            AttemptFailure::malformed(format!("chunk is not JSON ({error}): {}", event.data))
        })?;
        self.apply_chunk(&chunk, out)
    }

    fn is_complete(&self) -> bool {
        self.complete
    }

    fn has_final_content(&self) -> bool {
        self.complete || self.finish_reason.is_some()
    }

    fn on_end(&mut self, out: &mut Vec<ModelEvent>) -> Result<(), AttemptFailure> {
        if self.complete {
            return Ok(());
        }
        // Some servers close the stream without `[DONE]`; a finish reason shows the answer ended.
        if self.finish_reason.is_some() {
            return self.finish(out);
        }
        Err(AttemptFailure::transient(
            "the stream ended before the answer finished (no finish_reason, no [DONE])",
        ))
    }
}

/// A whole (non-streamed) chat completion, turned into the events a stream would have produced.
pub fn decode_full(completion: &Value) -> Result<Vec<ModelEvent>, AttemptFailure> {
    let mut decoder = ChatDecoder::default();
    let mut out = Vec::new();
    decoder.apply_chunk(completion, &mut out)?;
    decoder.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelError;
    use cadre_protocol::ToolSpec;

    fn call(call_id: &str, name: &str, arguments: &str) -> ResponseItem {
        ResponseItem::FunctionCall {
            id: None,
            call_id: call_id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    fn output(call_id: &str, text: &str) -> ResponseItem {
        ResponseItem::FunctionCallOutput {
            call_id: call_id.into(),
            output: text.into(),
        }
    }

    #[test]
    fn request_body_matches_chat_completions() {
        let prompt = Prompt {
            model: "llama3".into(),
            instructions: "Be brief.".into(),
            input: vec![
                ResponseItem::user("look around"),
                ResponseItem::Reasoning {
                    id: None,
                    summary: vec!["hidden".into()],
                    encrypted_content: Some("x".into()),
                },
                ResponseItem::assistant("Looking."),
                call("call_1", "shell", "{\"command\":\"ls\"}"),
                call("call_2", "read_file", "{\"path\":\"a\"}"),
                output("call_1", "a"),
                output("call_2", "text"),
                call("call_3", "shell", "{}"),
                output("call_3", "ok"),
                ResponseItem::assistant("Done."),
            ],
            tools: vec![ToolSpec {
                name: "shell".into(),
                description: "Runs a command".into(),
                parameters: json!({"type": "object"}),
            }],
            parallel_tool_calls: false,
            max_output_tokens: None,
        };
        assert_eq!(
            request_body(&prompt, true),
            json!({
                "model": "llama3",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "look around"},
                    {"role": "assistant", "content": "Looking.", "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "shell", "arguments": "{\"command\":\"ls\"}"}},
                        {"id": "call_2", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"a\"}"}},
                    ]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "a"},
                    {"role": "tool", "tool_call_id": "call_2", "content": "text"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_3", "type": "function", "function": {"name": "shell", "arguments": "{}"}},
                    ]},
                    {"role": "tool", "tool_call_id": "call_3", "content": "ok"},
                    {"role": "assistant", "content": "Done."},
                ],
                "stream": true,
                "stream_options": {"include_usage": true},
                "tools": [{"type": "function", "function": {"name": "shell", "description": "Runs a command", "parameters": {"type": "object"}}}],
                "tool_choice": "auto",
                "parallel_tool_calls": false,
            })
        );
    }

    #[test]
    fn invalid_call_arguments_never_go_back_on_the_wire() {
        let prompt = Prompt {
            model: "m".into(),
            instructions: String::new(),
            input: vec![
                ResponseItem::user("read it"),
                call("call_1", "read_file", r#"{"path": "READ"#),
                output("call_1", "not run"),
                call("call_2", "list_dir", ""),
                output("call_2", "a"),
            ],
            tools: vec![],
            parallel_tool_calls: false,
            max_output_tokens: Some(64),
        };
        let body = request_body(&prompt, true);
        let arguments: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m.pointer("/tool_calls/0/function/arguments"))
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(arguments, vec!["{}", "{}"]);
        assert_eq!(body["max_tokens"], json!(64));
    }

    #[test]
    fn finish_reason_length_marks_the_answer_incomplete() {
        let events = decode(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"read_file","arguments":"{\"path\": \"READ"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
            "[DONE]",
        ])
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            events,
            vec![
                ModelEvent::ItemDone(call("c1", "read_file", r#"{"path": "READ"#)),
                ModelEvent::Completed {
                    response_id: None,
                    usage: None,
                    incomplete: Some(IncompleteReason::MaxOutputTokens),
                },
            ]
        );
    }

    #[test]
    fn request_without_tools_omits_tool_fields() {
        let prompt = Prompt {
            model: "m".into(),
            instructions: String::new(),
            input: vec![ResponseItem::user("hi")],
            tools: vec![],
            parallel_tool_calls: true,
            max_output_tokens: None,
        };
        assert_eq!(
            request_body(&prompt, false),
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": false})
        );
    }

    fn decode(chunks: &[&str]) -> Result<Vec<ModelEvent>, AttemptFailure> {
        let mut decoder = ChatDecoder::default();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.on_event(
                &SseEvent {
                    event: None,
                    data: chunk.to_string(),
                },
                &mut out,
            )?;
        }
        decoder.on_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn fragments_are_accumulated_into_items() {
        let events = decode(&[
            r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
            r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"reasoning":"think"},"finish_reason":null}]}"#,
            r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
            r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
            r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"read_file","arguments":""}}]}}]}"#,
            r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"shell","arguments":"{\"comm"}}]}}]}"#,
            r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"and\":\"ls\"}"}},{"index":1,"function":{"arguments":"{}"}}]}}]}"#,
            r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":2}}}"#,
            "[DONE]",
        ])
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            events,
            vec![
                ModelEvent::ReasoningDelta {
                    delta: "think".into()
                },
                ModelEvent::TextDelta {
                    delta: "Hel".into()
                },
                ModelEvent::TextDelta { delta: "lo".into() },
                ModelEvent::ItemDone(ResponseItem::Reasoning {
                    id: None,
                    summary: vec!["think".into()],
                    encrypted_content: None,
                }),
                ModelEvent::ItemDone(ResponseItem::assistant("Hello")),
                ModelEvent::ItemDone(call("call_a", "shell", "{\"command\":\"ls\"}")),
                ModelEvent::ItemDone(call("call_b", "read_file", "{}")),
                ModelEvent::Completed {
                    response_id: Some("chatcmpl-1".into()),
                    usage: Some(TokenUsage {
                        input_tokens: 9,
                        cached_input_tokens: 1,
                        output_tokens: 4,
                        reasoning_output_tokens: 2,
                        total_tokens: 13,
                    }),
                    incomplete: None,
                },
            ]
        );
    }

    #[test]
    fn end_without_done_is_complete_only_after_a_finish_reason() {
        let finished = decode(&[
            r#"{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}"#,
        ])
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(finished.len(), 3);
        let cut = decode(&[r#"{"choices":[{"index":0,"delta":{"content":"ok"}}]}"#]);
        assert!(matches!(cut, Err(AttemptFailure::Transient { .. })));
    }

    #[test]
    fn malformed_chunks_are_fatal() {
        for chunk in ["not json", r#"{"id":"x"}"#] {
            assert!(
                matches!(
                    decode(&[chunk]),
                    Err(AttemptFailure::Fatal(ModelError::MalformedStream(_)))
                ),
                "{chunk}"
            );
        }
        let nameless = decode(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
        ]);
        assert!(matches!(
            nameless,
            Err(AttemptFailure::Fatal(ModelError::MalformedStream(_)))
        ));
    }

    #[test]
    fn error_chunks_are_classified() {
        let result = decode(&[
            r#"{"error":{"message":"This model's maximum context length is 4096 tokens","code":"context_length_exceeded"}}"#,
        ]);
        assert!(matches!(
            result,
            Err(AttemptFailure::Fatal(
                ModelError::ContextLengthExceeded { .. }
            ))
        ));
        let overloaded = decode(&[r#"{"error":{"message":"overloaded","code":502}}"#]);
        assert!(matches!(overloaded, Err(AttemptFailure::Transient { .. })));
    }

    #[test]
    fn a_whole_completion_produces_the_same_events() {
        let events = decode_full(&json!({
            "id": "chatcmpl-2",
            "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant",
                "content": "Reading.",
                "reasoning_content": "need file",
                "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"a\"}"}}],
            }}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        }))
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            events,
            vec![
                ModelEvent::TextDelta {
                    delta: "Reading.".into()
                },
                ModelEvent::ReasoningDelta {
                    delta: "need file".into()
                },
                ModelEvent::ItemDone(ResponseItem::Reasoning {
                    id: None,
                    summary: vec!["need file".into()],
                    encrypted_content: None,
                }),
                ModelEvent::ItemDone(ResponseItem::assistant("Reading.")),
                ModelEvent::ItemDone(call("call_x", "read_file", "{\"path\":\"a\"}")),
                ModelEvent::Completed {
                    response_id: Some("chatcmpl-2".into()),
                    usage: Some(TokenUsage {
                        input_tokens: 5,
                        output_tokens: 3,
                        total_tokens: 8,
                        ..TokenUsage::default()
                    }),
                    incomplete: None,
                },
            ]
        );
    }
}
