//! Sorting a failed attempt into "try again" or "give up", whether it failed with an HTTP status
//! or with an error event inside the stream.

use crate::ModelError;
use std::time::Duration;

/// How one attempt ended, when it did not end with a complete answer.
#[derive(Debug)]
pub enum AttemptFailure {
    /// Worth sending again, after `retry_after` if the server asked for a specific wait.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Sending again would fail the same way.
    Fatal(ModelError),
}

impl AttemptFailure {
    pub fn transient(reason: impl Into<String>) -> Self {
        AttemptFailure::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn malformed(reason: impl Into<String>) -> Self {
        AttemptFailure::Fatal(ModelError::MalformedStream(reason.into()))
    }
}

/// The `code`, `type` and `message` an OpenAI-style error body carries, wherever the provider put
/// them (`{"error": {...}}`, `{"error": "text"}`, or vLLM's flat `{"message": ..., "code": ...}`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErrorDetails {
    pub code: Option<String>,
    pub kind: Option<String>,
    pub message: Option<String>,
}

impl ErrorDetails {
    pub fn from_value(value: &serde_json::Value) -> ErrorDetails {
        let text = |v: Option<&serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let error = match value.get("error") {
            Some(serde_json::Value::String(message)) => {
                return ErrorDetails {
                    message: Some(message.clone()),
                    ..ErrorDetails::default()
                };
            }
            Some(inner) if inner.is_object() => inner,
            _ => value,
        };
        ErrorDetails {
            code: text(error.get("code")),
            kind: text(error.get("type")),
            message: text(error.get("message")),
        }
    }

    pub fn from_body(body: &str) -> ErrorDetails {
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(value) => ErrorDetails::from_value(&value),
            Err(_) => ErrorDetails {
                message: Some(body.trim().to_string()).filter(|m| !m.is_empty()),
                ..ErrorDetails::default()
            },
        }
    }

    pub fn is_context_length_exceeded(&self) -> bool {
        if self.code.as_deref() == Some("context_length_exceeded") {
            return true;
        }
        let message = self.message.as_deref().unwrap_or_default().to_lowercase();
        message.contains("context length")
            || message.contains("context_length_exceeded")
            || message.contains("context window")
    }

    /// A short human description: the message, then the code when it adds something.
    pub fn describe(&self, fallback: &str) -> String {
        match (&self.message, &self.code) {
            (Some(message), Some(code)) => format!("{message} ({code})"),
            (Some(message), None) => message.clone(),
            (None, Some(code)) => code.clone(),
            (None, None) => fallback.to_string(),
        }
    }
}

/// An error event inside a stream (`response.failed`, an `error` event, or an `error` object in a
/// Chat chunk). Rate limits and server trouble are retried; a prompt that does not fit, quota
/// exhaustion and invalid requests are not.
pub fn classify_stream_error(details: &ErrorDetails) -> AttemptFailure {
    if details.is_context_length_exceeded() {
        return AttemptFailure::Fatal(ModelError::ContextLengthExceeded {
            message: details.describe("context_length_exceeded"),
        });
    }
    let code = details.code.as_deref().unwrap_or_default();
    let kind = details.kind.as_deref().unwrap_or_default();
    let description = details.describe("the provider reported an error");
    if code == "insufficient_quota" {
        return AttemptFailure::Fatal(ModelError::Http {
            status: 429,
            body: description,
        });
    }
    if kind == "invalid_request_error" || code == "invalid_prompt" {
        return AttemptFailure::Fatal(ModelError::Http {
            status: 400,
            body: description,
        });
    }
    AttemptFailure::transient(format!("the provider reported an error: {description}"))
}

/// Keeps error bodies readable in messages.
pub fn truncate_body(body: &str) -> String {
    const LIMIT: usize = 2000;
    let body = body.trim();
    if body.len() <= LIMIT {
        return body.to_string();
    }
    let mut end = LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_details_are_found_in_every_common_shape() {
        let openai = json!({"error": {"message": "too long", "type": "invalid_request_error", "code": "context_length_exceeded"}});
        assert_eq!(
            ErrorDetails::from_value(&openai),
            ErrorDetails {
                code: Some("context_length_exceeded".into()),
                kind: Some("invalid_request_error".into()),
                message: Some("too long".into()),
            }
        );
        let ollama = json!({"error": "model \"x\" not found"});
        assert_eq!(
            ErrorDetails::from_value(&ollama).message.as_deref(),
            Some("model \"x\" not found")
        );
        let vllm = json!({"object": "error", "message": "bad", "code": 400});
        let details = ErrorDetails::from_value(&vllm);
        assert_eq!(details.code.as_deref(), Some("400"));
        assert_eq!(details.message.as_deref(), Some("bad"));
        assert_eq!(
            ErrorDetails::from_body("plain text").message.as_deref(),
            Some("plain text")
        );
    }

    #[test]
    fn context_length_is_recognised_by_code_or_message() {
        let by_message = ErrorDetails {
            message: Some("This model's maximum context length is 8192 tokens".into()),
            ..ErrorDetails::default()
        };
        assert!(by_message.is_context_length_exceeded());
        let unrelated = ErrorDetails {
            message: Some("bad temperature".into()),
            ..ErrorDetails::default()
        };
        assert!(!unrelated.is_context_length_exceeded());
    }

    #[test]
    fn stream_errors_split_into_transient_and_fatal() {
        let details = |code: &str| ErrorDetails {
            code: Some(code.into()),
            message: Some("m".into()),
            kind: None,
        };
        assert!(matches!(
            classify_stream_error(&details("server_error")),
            AttemptFailure::Transient { .. }
        ));
        assert!(matches!(
            classify_stream_error(&details("rate_limit_exceeded")),
            AttemptFailure::Transient { .. }
        ));
        assert!(matches!(
            classify_stream_error(&details("context_length_exceeded")),
            AttemptFailure::Fatal(ModelError::ContextLengthExceeded { .. })
        ));
        assert!(matches!(
            classify_stream_error(&details("insufficient_quota")),
            AttemptFailure::Fatal(ModelError::Http { status: 429, .. })
        ));
    }

    #[test]
    fn long_bodies_are_truncated_on_a_character_boundary() {
        let body = "é".repeat(3000);
        let truncated = truncate_body(&body);
        assert!(truncated.len() <= 2004);
        assert!(truncated.ends_with('…'));
    }
}
