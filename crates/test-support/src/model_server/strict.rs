//! Strict mode: the requests OpenAI's APIs refuse with HTTP 400, refused here the same way, so a
//! client that would break against the real service breaks in tests too.
//!
//! On the Responses wire: an empty `input`, a `function_call` with no `function_call_output` for
//! its `call_id`, and an output whose `call_id` no earlier call has. On the Chat wire: no
//! messages, an assistant message with `tool_calls` not followed by a `tool` message for each
//! id, and a `tool` message that answers no call of the assistant message before it.

use super::{RecordedRequest, Wire};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Why a request was refused: the message and the parameter, as OpenAI words them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
    pub param: &'static str,
}

impl Violation {
    /// The error body OpenAI sends with the 400.
    pub fn body(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": "invalid_request_error",
            "param": self.param,
            "code": null,
        }})
    }
}

/// The first reason OpenAI would refuse `request`, if any.
pub fn check(request: &RecordedRequest) -> Option<Violation> {
    match request.wire() {
        Wire::Responses => check_responses(&request.body),
        Wire::Chat => check_chat(&request.body),
    }
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn check_responses(body: &Value) -> Option<Violation> {
    let input = match body.get("input") {
        Some(Value::String(text)) if !text.is_empty() => return None,
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => {
            return Some(Violation {
                message: "Invalid 'input': empty input. Expected a non-empty string or array."
                    .into(),
                param: "input",
            });
        }
    };
    // With `previous_response_id` the calls live on the server; outputs may answer them.
    let chained = body
        .get("previous_response_id")
        .is_some_and(|v| !v.is_null());
    let mut calls = HashSet::new();
    let mut answered = HashSet::new();
    for item in input {
        match str_of(item, "type") {
            "function_call" => {
                calls.insert(str_of(item, "call_id"));
            }
            "function_call_output" => {
                let call_id = str_of(item, "call_id");
                if !chained && !calls.contains(call_id) {
                    return Some(Violation {
                        message: format!(
                            "No tool call found for function call output with call_id {call_id}."
                        ),
                        param: "input",
                    });
                }
                answered.insert(call_id);
            }
            _ => {}
        }
    }
    input
        .iter()
        .filter(|item| str_of(item, "type") == "function_call")
        .map(|item| str_of(item, "call_id"))
        .find(|call_id| !answered.contains(call_id))
        .map(|call_id| Violation {
            message: format!("No tool output found for function call {call_id}."),
            param: "input",
        })
}

fn check_chat(body: &Value) -> Option<Violation> {
    let messages = match body.get("messages").and_then(Value::as_array) {
        Some(messages) if !messages.is_empty() => messages,
        _ => {
            return Some(Violation {
                message: "[] is too short - 'messages'".into(),
                param: "messages",
            });
        }
    };
    // The ids of the assistant message whose `tool` answers are being read, and those answered.
    let mut open: Option<(Vec<&str>, HashSet<&str>)> = None;
    for message in messages {
        let role = str_of(message, "role");
        if role == "tool" {
            let call_id = str_of(message, "tool_call_id");
            match &mut open {
                Some((ids, answered)) if ids.contains(&call_id) => {
                    answered.insert(call_id);
                }
                _ => {
                    return Some(Violation {
                        message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".into(),
                        param: "messages",
                    });
                }
            }
            continue;
        }
        if let Some(violation) = open.take().and_then(unanswered) {
            return Some(violation);
        }
        if role == "assistant" {
            let ids: Vec<&str> = message
                .get("tool_calls")
                .and_then(Value::as_array)
                .map(|calls| calls.iter().map(|call| str_of(call, "id")).collect())
                .unwrap_or_default();
            if !ids.is_empty() {
                open = Some((ids, HashSet::new()));
            }
        }
    }
    open.and_then(unanswered)
}

fn unanswered((ids, answered): (Vec<&str>, HashSet<&str>)) -> Option<Violation> {
    let missing: Vec<&str> = ids
        .into_iter()
        .filter(|id| !answered.contains(id))
        .collect();
    (!missing.is_empty()).then(|| Violation {
        message: format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            missing.join(", ")
        ),
        param: "messages",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, body: Value) -> RecordedRequest {
        RecordedRequest {
            path: path.into(),
            query: String::new(),
            headers: Vec::new(),
            body,
        }
    }

    fn responses(input: Value) -> Option<String> {
        check(&request(
            "/v1/responses",
            json!({"model": "m", "input": input}),
        ))
        .map(|violation| violation.message)
    }

    fn chat(messages: Value) -> Option<String> {
        check(&request(
            "/v1/chat/completions",
            json!({"model": "m", "messages": messages}),
        ))
        .map(|violation| violation.message)
    }

    #[test]
    fn responses_needs_input_and_pairs_calls_with_outputs() {
        let user = json!({"type": "message", "role": "user", "content": "go"});
        let call =
            json!({"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"});
        let output = json!({"type": "function_call_output", "call_id": "c1", "output": "ok"});
        assert_eq!(responses(json!([user, call, output])), None);
        assert_eq!(responses(json!("go")), None);
        assert!(responses(json!([])).unwrap().contains("empty input"));
        assert!(responses(json!("")).unwrap().contains("empty input"));
        assert_eq!(
            responses(json!([user, call])).unwrap(),
            "No tool output found for function call c1."
        );
        assert_eq!(
            responses(json!([user, output])).unwrap(),
            "No tool call found for function call output with call_id c1."
        );
        assert_eq!(
            responses(json!([user, output, call])).unwrap(),
            "No tool call found for function call output with call_id c1."
        );
    }

    #[test]
    fn chat_needs_messages_and_tool_answers_right_after_their_calls() {
        let user = json!({"role": "user", "content": "go"});
        let calls = json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "shell", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "shell", "arguments": "{}"}},
        ]});
        let answer_a = json!({"role": "tool", "tool_call_id": "a", "content": "1"});
        let answer_b = json!({"role": "tool", "tool_call_id": "b", "content": "2"});
        let done = json!({"role": "assistant", "content": "done"});
        assert_eq!(
            chat(json!([user, calls, answer_a, answer_b, done, user])),
            None
        );
        assert!(chat(json!([])).unwrap().contains("too short"));
        assert!(
            chat(json!([user, calls, answer_a]))
                .unwrap()
                .ends_with("did not have response messages: b")
        );
        assert!(
            chat(json!([user, calls, answer_a, user, answer_b]))
                .unwrap()
                .ends_with("did not have response messages: b")
        );
        assert!(
            chat(json!([user, answer_a]))
                .unwrap()
                .contains("must be a response to a preceeding message with 'tool_calls'")
        );
        let unknown = json!({"role": "tool", "tool_call_id": "z", "content": "?"});
        assert!(
            chat(json!([user, calls, answer_a, answer_b, unknown]))
                .unwrap()
                .contains("must be a response")
        );
    }
}
