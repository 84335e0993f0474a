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

/// What an error body says went wrong, as far as cadre's decisions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// The prompt (plus the output cap) does not fit the model's context window.
    ContextOverflow,
    /// The server could not parse the request it was sent (llama.cpp answers HTTP 500 for an
    /// earlier call's arguments that are not JSON): sending it again fails the same way.
    UnparseableRequest,
    QuotaExhausted,
    InvalidRequest,
    Other,
}

/// Lower-case phrases by which servers say the prompt does not fit:
/// OpenAI Chat ("This model's maximum context length is 8192 tokens. However, your messages
/// resulted in ..."), OpenAI Responses ("Your input exceeds the context window of this model"),
/// llama.cpp ("the request exceeds the available context size, try increasing it"), vLLM ("This
/// model's maximum context length is 4096 tokens. However, you requested ..." and "The decoder
/// prompt (length 5000) is longer than the maximum model length of 4096"), Ollama ("the input
/// length exceeds the context length"), LM Studio ("Input length 6491 exceeds context length
/// 1500", "the model is loaded with context length of only 2048 tokens, which is not enough",
/// "Context size has been exceeded").
const CONTEXT_OVERFLOW_WORDINGS: &[&str] = &[
    "context_length_exceeded",
    "maximum context length",
    "exceeds the context window",
    "context window of this model",
    "exceeds the available context size",
    "longer than the maximum model length",
    "exceeds the context length",
    "exceeds context length",
    "loaded with context length of only",
    "context size has been exceeded",
    "context length exceeded",
];

/// Lower-case phrases by which servers say they could not parse the request: llama.cpp's
/// "Failed to parse tool call arguments as JSON: [json.exception.parse_error.101] ..." and its
/// other "Failed to parse ..." answers (messages, tools, input).
const UNPARSEABLE_REQUEST_WORDINGS: &[&str] = &[
    "failed to parse tool call arguments",
    "json.exception.parse_error",
    "failed to parse messages",
    "failed to parse tools",
    "failed to parse input",
];

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

    /// What kind of failure the body describes, from its code, type and wording. Each server
    /// words the common failures its own way; this is the one place that knows the wordings.
    pub fn kind(&self) -> ProviderErrorKind {
        let code = self.code.as_deref().unwrap_or_default();
        let kind = self.kind.as_deref().unwrap_or_default();
        let message = self.message.as_deref().unwrap_or_default().to_lowercase();
        let says = |phrases: &[&str]| phrases.iter().any(|p| message.contains(p));
        if code == "context_length_exceeded"
            || kind == "exceed_context_size_error"
            || says(CONTEXT_OVERFLOW_WORDINGS)
        {
            return ProviderErrorKind::ContextOverflow;
        }
        if says(UNPARSEABLE_REQUEST_WORDINGS) {
            return ProviderErrorKind::UnparseableRequest;
        }
        if code == "insufficient_quota" {
            return ProviderErrorKind::QuotaExhausted;
        }
        if kind == "invalid_request_error" || code == "invalid_prompt" {
            return ProviderErrorKind::InvalidRequest;
        }
        ProviderErrorKind::Other
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
    let description = details.describe("the provider reported an error");
    match details.kind() {
        ProviderErrorKind::ContextOverflow => {
            AttemptFailure::Fatal(ModelError::ContextLengthExceeded {
                message: details.describe("context_length_exceeded"),
            })
        }
        ProviderErrorKind::UnparseableRequest => {
            AttemptFailure::Fatal(ModelError::UnparseableRequest {
                status: None,
                message: description,
            })
        }
        ProviderErrorKind::QuotaExhausted => AttemptFailure::Fatal(ModelError::Http {
            status: 429,
            body: description,
        }),
        ProviderErrorKind::InvalidRequest => AttemptFailure::Fatal(ModelError::Http {
            status: 400,
            body: description,
        }),
        ProviderErrorKind::Other => {
            AttemptFailure::transient(format!("the provider reported an error: {description}"))
        }
    }
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
        assert_eq!(by_message.kind(), ProviderErrorKind::ContextOverflow);
        let unrelated = ErrorDetails {
            message: Some("bad temperature".into()),
            ..ErrorDetails::default()
        };
        assert_eq!(unrelated.kind(), ProviderErrorKind::Other);
    }

    fn kind_of(body: serde_json::Value) -> ProviderErrorKind {
        ErrorDetails::from_value(&body).kind()
    }

    #[test]
    fn openai_overflow_is_recognised() {
        assert_eq!(
            kind_of(
                json!({"error": {"message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})
            ),
            ProviderErrorKind::ContextOverflow
        );
        assert_eq!(
            kind_of(
                json!({"error": {"message": "Your input exceeds the context window of this model. Please adjust your input and try again.", "type": "invalid_request_error", "code": null}})
            ),
            ProviderErrorKind::ContextOverflow
        );
    }

    #[test]
    fn llama_cpp_overflow_is_recognised_by_type_and_by_wording() {
        assert_eq!(
            kind_of(
                json!({"error": {"code": 500, "message": "the request exceeds the available context size. try increasing the context size or enable context shift", "type": "exceed_context_size_error", "n_prompt_tokens": 1407, "n_ctx": 256}})
            ),
            ProviderErrorKind::ContextOverflow
        );
        assert_eq!(
            kind_of(
                json!({"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it", "type": "invalid_request_error"}})
            ),
            ProviderErrorKind::ContextOverflow
        );
    }

    #[test]
    fn vllm_overflow_is_recognised_in_its_wordings() {
        for message in [
            "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
            "This model's maximum context length is 2048 tokens. However, your request has 8 input tokens plus 2045 'max_tokens'. Please reduce one or the other.",
            "The decoder prompt (length 5000) is longer than the maximum model length of 4096. Make sure that `max_model_len` is no smaller than the number of text tokens.",
        ] {
            assert_eq!(
                kind_of(
                    json!({"object": "error", "message": message, "type": "BadRequestError", "param": null, "code": 400})
                ),
                ProviderErrorKind::ContextOverflow,
                "{message}"
            );
        }
    }

    #[test]
    fn ollama_and_lm_studio_overflow_is_recognised() {
        assert_eq!(
            kind_of(json!({"error": "the input length exceeds the context length"})),
            ProviderErrorKind::ContextOverflow
        );
        for message in [
            "Input length 6491 exceeds context length 1500",
            "Trying to keep the first 3000 tokens when context the overflows. However, the model is loaded with context length of only 2048 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input",
            "Context size has been exceeded.",
        ] {
            assert_eq!(
                kind_of(json!({"error": message})),
                ProviderErrorKind::ContextOverflow,
                "{message}"
            );
        }
    }

    #[test]
    fn unparseable_requests_are_recognised() {
        assert_eq!(
            kind_of(
                json!({"error": {"code": 500, "message": "Failed to parse tool call arguments as JSON: [json.exception.parse_error.101] parse error at line 1, column 17: syntax error while parsing value - unexpected end of input", "type": "server_error"}})
            ),
            ProviderErrorKind::UnparseableRequest
        );
        assert_eq!(
            kind_of(
                json!({"error": {"code": 500, "message": "model is loading", "type": "unavailable_error"}})
            ),
            ProviderErrorKind::Other
        );
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
