//! A scripted model server: an OpenAI-compatible HTTP server on 127.0.0.1 that answers each model
//! request with the next [`Reply`] of a script (or with what a handler returns), rendered in the
//! wire format of the endpoint hit.
//!
//! It serves `POST /v1/responses` and `POST /v1/chat/completions` (also without `/v1`), streaming
//! the same event shapes OpenAI sends when the request has `"stream": true` and a single JSON body
//! otherwise. Every request is recorded so tests can assert on what the client sent. The server
//! runs on its own thread with its own tokio runtime, so synchronous tests that spawn the `cadre`
//! binary and async tests can both use it; it stops when the [`ModelServer`] is dropped.
//!
//! ```no_run
//! use cadre_test_support::model_server::{ModelServer, Reply};
//! use serde_json::json;
//!
//! let server = ModelServer::start(vec![
//!     Reply::tool_call("shell", json!({"command": "ls"})),
//!     Reply::text("There is one file.").with_usage(120, 8),
//! ]);
//! // point the client at server.base_url(), run it, then:
//! assert_eq!(server.requests()[1].tool_outputs()[0].0, "call_1");
//! ```
//!
//! The server is strict by default: a request that OpenAI's APIs would refuse (a tool call
//! without its output, an output without its call, an empty `input` or `messages`; see
//! [`strict`]) gets the same HTTP 400 and OpenAI-shaped error, and is recorded but plays no
//! reply. A test that must send such a request opts out with [`ModelServer::lenient`].
//!
//! A script file for the `cadre-scripted-model` binary is a JSON array of replies in their serde
//! form, for example:
//!
//! ```json
//! [
//!   {"kind": "answer", "tool_calls": [{"name": "shell", "arguments": {"command": "ls"}}]},
//!   {"kind": "answer", "text": "Done.", "reasoning": "Looked.", "usage": {"input_tokens": 9, "output_tokens": 2}},
//!   {"kind": "http_error", "status": 429, "body": {"error": {"message": "slow down"}}, "retry_after": 1},
//!   {"kind": "failed", "code": "server_error", "message": "boom"},
//!   {"kind": "cut_off"}, {"kind": "silent"}, {"kind": "malformed"}
//! ]
//! ```

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub mod strict;

/// Usage reported when a reply does not set its own.
pub const DEFAULT_USAGE: ScriptedUsage = ScriptedUsage {
    input_tokens: 10,
    output_tokens: 5,
    cached_input_tokens: 0,
    reasoning_tokens: 0,
};

/// One answer of the script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    /// A successful answer: optional reasoning, optional text, any number of function calls.
    Answer(Answer),
    /// An HTTP error status with a JSON body, optionally with `Retry-After` / `retry-after-ms`.
    HttpError {
        status: u16,
        #[serde(default)]
        body: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// HTTP 200, then an error inside the stream (`response.failed` on Responses, an `error`
    /// chunk on Chat).
    Failed { code: String, message: String },
    /// A few text deltas, then the connection is closed without completing the answer.
    CutOff,
    /// Response headers, then nothing until the client gives up.
    Silent,
    /// An event whose `data:` is not JSON.
    Malformed,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A reasoning summary (`reasoning_content` on Chat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ScriptedCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ScriptedUsage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCall {
    pub name: String,
    /// Sent as its JSON text; a JSON string is sent verbatim (to script invalid arguments).
    pub arguments: Value,
    /// Defaults to `call_N`, numbered across the whole server from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default)]
    pub cached_input_tokens: u64,
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::Answer(Answer {
            text: Some(text.into()),
            ..Answer::default()
        })
    }

    /// One function call; its call id is generated (`call_1`, `call_2`, ...).
    pub fn tool_call(name: impl Into<String>, arguments: Value) -> Reply {
        Reply::tool_calls(vec![(name, arguments)])
    }

    /// One function call with a fixed call id.
    pub fn tool_call_with_id(
        call_id: impl Into<String>,
        name: impl Into<String>,
        arguments: Value,
    ) -> Reply {
        Reply::Answer(Answer {
            tool_calls: vec![ScriptedCall {
                name: name.into(),
                arguments,
                call_id: Some(call_id.into()),
            }],
            ..Answer::default()
        })
    }

    /// Several function calls in one answer (parallel tool calls).
    pub fn tool_calls<N: Into<String>>(calls: Vec<(N, Value)>) -> Reply {
        Reply::Answer(Answer {
            tool_calls: calls
                .into_iter()
                .map(|(name, arguments)| ScriptedCall {
                    name: name.into(),
                    arguments,
                    call_id: None,
                })
                .collect(),
            ..Answer::default()
        })
    }

    pub fn http_error(status: u16, body: Value) -> Reply {
        Reply::HttpError {
            status,
            body,
            retry_after: None,
            retry_after_ms: None,
        }
    }

    /// HTTP 400 with OpenAI's `context_length_exceeded` error body.
    pub fn context_length_exceeded() -> Reply {
        Reply::http_error(
            400,
            json!({"error": {
                "message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }}),
        )
    }

    /// An error reported inside an otherwise successful stream.
    pub fn failed(code: impl Into<String>, message: impl Into<String>) -> Reply {
        Reply::Failed {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn cut_off() -> Reply {
        Reply::CutOff
    }

    pub fn silent() -> Reply {
        Reply::Silent
    }

    pub fn malformed() -> Reply {
        Reply::Malformed
    }

    fn answer_mut(&mut self, builder: &str) -> &mut Answer {
        match self {
            Reply::Answer(answer) => answer,
            other => panic!("Reply::{builder} applies to answers, not to {other:?}"),
        }
    }

    /// Adds (or replaces) the assistant text of an answer.
    pub fn with_text(mut self, text: impl Into<String>) -> Reply {
        self.answer_mut("with_text").text = Some(text.into());
        self
    }

    /// Adds a reasoning summary, streamed before the text.
    pub fn with_reasoning(mut self, summary: impl Into<String>) -> Reply {
        self.answer_mut("with_reasoning").reasoning = Some(summary.into());
        self
    }

    pub fn with_usage(mut self, input_tokens: u64, output_tokens: u64) -> Reply {
        self.answer_mut("with_usage").usage = Some(ScriptedUsage {
            input_tokens,
            output_tokens,
            cached_input_tokens: 0,
            reasoning_tokens: 0,
        });
        self
    }

    pub fn with_full_usage(mut self, usage: ScriptedUsage) -> Reply {
        self.answer_mut("with_full_usage").usage = Some(usage);
        self
    }

    fn error_headers_mut(&mut self, builder: &str) -> (&mut Option<u64>, &mut Option<u64>) {
        match self {
            Reply::HttpError {
                retry_after,
                retry_after_ms,
                ..
            } => (retry_after, retry_after_ms),
            other => panic!("Reply::{builder} applies to HTTP errors, not to {other:?}"),
        }
    }

    /// Sends `Retry-After: secs` with an HTTP error.
    pub fn retry_after(mut self, secs: u64) -> Reply {
        *self.error_headers_mut("retry_after").0 = Some(secs);
        self
    }

    /// Sends `retry-after-ms: ms` with an HTTP error.
    pub fn retry_after_ms(mut self, ms: u64) -> Reply {
        *self.error_headers_mut("retry_after_ms").1 = Some(ms);
        self
    }
}

/// Which API a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Responses,
    Chat,
}

/// A request as the server received it. Header names are lowercase.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub path: String,
    /// The query string, without `?` (empty when there was none).
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Value::String` with the raw text when it was not JSON).
    pub body: Value,
}

fn content_text(content: Option<&Value>) -> Option<String> {
    match content? {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect::<String>(),
        ),
        _ => None,
    }
}

fn str_field(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl RecordedRequest {
    pub fn wire(&self) -> Wire {
        if self.path.ends_with("/responses") {
            Wire::Responses
        } else {
            Wire::Chat
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    /// Whether the request asked for a streamed answer.
    pub fn is_stream(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool) == Some(true)
    }

    /// The conversation entries: `input` on Responses, `messages` on Chat.
    fn entries(&self) -> &[Value] {
        let key = match self.wire() {
            Wire::Responses => "input",
            Wire::Chat => "messages",
        };
        self.body
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// `instructions` on Responses; the leading system message on Chat.
    pub fn instructions(&self) -> Option<String> {
        match self.wire() {
            Wire::Responses => self
                .body
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_string),
            Wire::Chat => self
                .entries()
                .first()
                .filter(|m| m.get("role").and_then(Value::as_str) == Some("system"))
                .and_then(|m| content_text(m.get("content"))),
        }
    }

    /// Names of the function tools offered.
    pub fn tool_names(&self) -> Vec<String> {
        let tools = self
            .body
            .get("tools")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        tools
            .iter()
            .map(|tool| match self.wire() {
                Wire::Responses => str_field(tool, "name"),
                Wire::Chat => str_field(tool.get("function").unwrap_or(&Value::Null), "name"),
            })
            .collect()
    }

    /// `(role, text)` of every message in the conversation, tool results excluded.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.entries()
            .iter()
            .filter(|entry| match self.wire() {
                Wire::Responses => {
                    entry
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("message")
                        == "message"
                }
                Wire::Chat => entry.get("role").and_then(Value::as_str) != Some("tool"),
            })
            .filter_map(|entry| {
                Some((
                    str_field(entry, "role"),
                    content_text(entry.get("content"))?,
                ))
            })
            .collect()
    }

    /// The text of the last user message.
    pub fn last_user_text(&self) -> Option<String> {
        self.messages()
            .into_iter()
            .rev()
            .find(|(role, _)| role == "user")
            .map(|(_, text)| text)
    }

    /// `(call_id, output)` of every tool result in the conversation.
    pub fn tool_outputs(&self) -> Vec<(String, String)> {
        self.entries()
            .iter()
            .filter_map(|entry| match self.wire() {
                Wire::Responses => (entry.get("type").and_then(Value::as_str)
                    == Some("function_call_output"))
                .then(|| {
                    let output = match entry.get("output") {
                        Some(Value::String(text)) => text.clone(),
                        other => content_text(other).unwrap_or_default(),
                    };
                    (str_field(entry, "call_id"), output)
                }),
                Wire::Chat => {
                    (entry.get("role").and_then(Value::as_str) == Some("tool")).then(|| {
                        (
                            str_field(entry, "tool_call_id"),
                            content_text(entry.get("content")).unwrap_or_default(),
                        )
                    })
                }
            })
            .collect()
    }

    /// `(call_id, name, arguments)` of every function call in the conversation.
    pub fn function_calls(&self) -> Vec<(String, String, String)> {
        match self.wire() {
            Wire::Responses => self
                .entries()
                .iter()
                .filter(|e| e.get("type").and_then(Value::as_str) == Some("function_call"))
                .map(|e| {
                    (
                        str_field(e, "call_id"),
                        str_field(e, "name"),
                        str_field(e, "arguments"),
                    )
                })
                .collect(),
            Wire::Chat => self
                .entries()
                .iter()
                .filter_map(|e| e.get("tool_calls").and_then(Value::as_array))
                .flatten()
                .map(|call| {
                    let function = call.get("function").unwrap_or(&Value::Null);
                    (
                        str_field(call, "id"),
                        str_field(function, "name"),
                        str_field(function, "arguments"),
                    )
                })
                .collect(),
        }
    }
}

type Handler = Box<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

enum ReplySource {
    Script(Mutex<VecDeque<Reply>>),
    Handler(Handler),
}

struct ServerState {
    source: ReplySource,
    requests: Mutex<Vec<RecordedRequest>>,
    latency_ms: AtomicU64,
    next_id: AtomicU64,
    next_call: AtomicU64,
    ignore_stream: AtomicBool,
    strict: AtomicBool,
}

impl ServerState {
    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn next_call_id(&self) -> String {
        format!(
            "call_{}",
            self.next_call.fetch_add(1, Ordering::Relaxed) + 1
        )
    }
}

/// The running server; dropping it stops the server (open connections are closed).
pub struct ModelServer {
    address: SocketAddr,
    state: Arc<ServerState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ModelServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl ModelServer {
    /// Plays `replies` in order, one per model request, on an ephemeral port. When they run out,
    /// requests get HTTP 400 with a `script_exhausted` error.
    pub fn start(replies: Vec<Reply>) -> ModelServer {
        Self::start_on(0, replies)
    }

    /// Like [`ModelServer::start`] on a given port (0 picks a free one).
    pub fn start_on(port: u16, replies: Vec<Reply>) -> ModelServer {
        Self::spawn(port, ReplySource::Script(Mutex::new(replies.into())))
    }

    /// Answers every request with what `handler` returns.
    pub fn with_handler(
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> ModelServer {
        Self::with_handler_on(0, handler)
    }

    /// Like [`ModelServer::with_handler`] on a given port (0 picks a free one).
    pub fn with_handler_on(
        port: u16,
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> ModelServer {
        Self::spawn(port, ReplySource::Handler(Box::new(handler)))
    }

    /// Waits `latency` before starting each answer (applies to requests from now on).
    pub fn with_latency(self, latency: Duration) -> Self {
        self.state
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::Relaxed);
        self
    }

    /// Answers with one JSON body even when a request asks for a stream, like servers that
    /// ignore `stream: true`.
    pub fn ignoring_stream(self) -> Self {
        self.state.ignore_stream.store(true, Ordering::Relaxed);
        self
    }

    /// Answers requests that OpenAI would refuse instead of refusing them (see [`strict`]), for
    /// the tests that send such a request on purpose.
    pub fn lenient(self) -> Self {
        self.state.strict.store(false, Ordering::Relaxed);
        self
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every model request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Appends `replies` to the script, for a test that learns what to answer only after the
    /// server has started (a path of its own, say). A handler server ignores them.
    pub fn push_replies(&self, replies: Vec<Reply>) {
        if let ReplySource::Script(script) = &self.state.source {
            lock(script).extend(replies);
        }
    }

    /// How many scripted replies have not been played yet (0 for a handler server).
    pub fn replies_left(&self) -> usize {
        match &self.state.source {
            ReplySource::Script(replies) => lock(replies).len(),
            ReplySource::Handler(_) => 0,
        }
    }

    fn spawn(port: u16, source: ReplySource) -> ModelServer {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|error| {
            panic!("scripted model server: cannot bind port {port}: {error}")
        });
        listener
            .set_nonblocking(true)
            .expect("scripted model server: set_nonblocking");
        let address = listener
            .local_addr()
            .expect("scripted model server: address");
        let state = Arc::new(ServerState {
            source,
            requests: Mutex::new(Vec::new()),
            latency_ms: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
            next_call: AtomicU64::new(0),
            ignore_stream: AtomicBool::new(false),
            strict: AtomicBool::new(true),
        });
        let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        let thread = std::thread::Builder::new()
            .name("scripted-model-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("scripted model server: tokio runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("scripted model server: listener");
                    tokio::select! {
                        _ = axum::serve(listener, app).into_future() => {}
                        _ = shutdown_signal => {}
                    }
                });
            })
            .expect("scripted model server: thread");
        ModelServer {
            address,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A test that panicked while holding the lock should not hide its own failure behind ours.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn handle(State(state): State<Arc<ServerState>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let wire = match path.as_str() {
        "/v1/responses" | "/responses" => Wire::Responses,
        "/v1/chat/completions" | "/chat/completions" => Wire::Chat,
        "/v1/models" | "/models" if request.method() == Method::GET => {
            return json_response(
                StatusCode::OK,
                &json!({"object": "list", "data": [{"id": "scripted-model", "object": "model", "owned_by": "cadre"}]}),
            );
        }
        _ => {
            return json_response(
                StatusCode::NOT_FOUND,
                &json!({"error": {"message": format!("no such endpoint: {path}"), "type": "invalid_request_error", "code": "unknown_url"}}),
            );
        }
    };
    if request.method() != Method::POST {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"error": {"message": "use POST", "type": "invalid_request_error"}}),
        );
    }
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let bytes = axum::body::to_bytes(request.into_body(), 256 << 20)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    let recorded = RecordedRequest {
        path,
        query,
        headers,
        body,
    };
    let request_number = {
        let mut requests = lock(&state.requests);
        requests.push(recorded.clone());
        requests.len()
    };
    if state.strict.load(Ordering::Relaxed)
        && let Some(violation) = strict::check(&recorded)
    {
        return json_response(StatusCode::BAD_REQUEST, &violation.body());
    }
    let reply = match &state.source {
        ReplySource::Script(replies) => lock(replies).pop_front(),
        ReplySource::Handler(handler) => Some(handler(&recorded)),
    };
    let latency = state.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let Some(reply) = reply else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": {
                "message": format!("the scripted model server has no reply left for request {request_number}: the script is exhausted"),
                "type": "invalid_request_error",
                "code": "script_exhausted",
            }}),
        );
    };
    let context = RenderContext {
        wire,
        stream: recorded.is_stream() && !state.ignore_stream.load(Ordering::Relaxed),
        include_usage: recorded
            .body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true),
        model: recorded.model().unwrap_or("scripted-model").to_string(),
        id: state.next_id(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
    };
    render(&reply, &context, &state)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// How a body ends after its scripted chunks.
enum Ending {
    Close,
    /// Drop the connection mid-body.
    Abort,
    /// Never send anything else.
    Hang,
}

fn chunked_response(content_type: &'static str, chunks: Vec<String>, ending: Ending) -> Response {
    use futures::StreamExt;
    let chunks = futures::stream::iter(
        chunks
            .into_iter()
            .map(|chunk| Ok::<Bytes, std::io::Error>(Bytes::from(chunk))),
    );
    let body = match ending {
        Ending::Close => Body::from_stream(chunks),
        // The pause lets the server flush what came before; an immediate error would drop it.
        Ending::Abort => Body::from_stream(chunks.chain(futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(std::io::Error::other("scripted cut-off"))
        }))),
        Ending::Hang => Body::from_stream(chunks.chain(futures::stream::pending())),
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

struct RenderContext {
    wire: Wire,
    stream: bool,
    include_usage: bool,
    model: String,
    id: u64,
    created: u64,
}

const EVENT_STREAM: &str = "text/event-stream";
const JSON: &str = "application/json";

fn render(reply: &Reply, context: &RenderContext, state: &ServerState) -> Response {
    match reply {
        Reply::Answer(answer) => {
            let calls: Vec<(String, String, String)> = answer
                .tool_calls
                .iter()
                .map(|call| {
                    let call_id = call.call_id.clone().unwrap_or_else(|| state.next_call_id());
                    let arguments = match &call.arguments {
                        Value::String(raw) => raw.clone(),
                        other => other.to_string(),
                    };
                    (call_id, call.name.clone(), arguments)
                })
                .collect();
            let usage = answer.usage.unwrap_or(DEFAULT_USAGE);
            match (context.wire, context.stream) {
                (Wire::Responses, true) => chunked_response(
                    EVENT_STREAM,
                    responses::stream(answer, &calls, &usage, context),
                    Ending::Close,
                ),
                (Wire::Responses, false) => json_response(
                    StatusCode::OK,
                    &responses::whole(answer, &calls, &usage, context),
                ),
                (Wire::Chat, true) => chunked_response(
                    EVENT_STREAM,
                    chat::stream(answer, &calls, &usage, context),
                    Ending::Close,
                ),
                (Wire::Chat, false) => json_response(
                    StatusCode::OK,
                    &chat::whole(answer, &calls, &usage, context),
                ),
            }
        }
        Reply::HttpError {
            status,
            body,
            retry_after,
            retry_after_ms,
        } => {
            let mut response = json_response(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                body,
            );
            let headers = response.headers_mut();
            if let Some(secs) = retry_after {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            if let Some(ms) = retry_after_ms {
                headers.insert("retry-after-ms", HeaderValue::from(*ms));
            }
            response
        }
        Reply::Failed { code, message } => {
            let error = json!({"code": code, "message": message});
            match (context.wire, context.stream) {
                (Wire::Responses, true) => {
                    let mut events = responses::EventWriter::new();
                    events.push("response.created", json!({"response": responses::envelope(context, "in_progress", json!([]), Value::Null)}));
                    let mut failed = responses::envelope(context, "failed", json!([]), Value::Null);
                    failed["error"] = error;
                    events.push("response.failed", json!({"response": failed}));
                    chunked_response(EVENT_STREAM, events.finish(), Ending::Close)
                }
                (Wire::Responses, false) => {
                    let mut failed = responses::envelope(context, "failed", json!([]), Value::Null);
                    failed["error"] = error;
                    json_response(StatusCode::OK, &failed)
                }
                (Wire::Chat, true) => chunked_response(
                    EVENT_STREAM,
                    vec![
                        chat::data(&chat::chunk(
                            context,
                            json!({"role": "assistant", "content": ""}),
                            None,
                        )),
                        chat::data(&json!({"error": error})),
                    ],
                    Ending::Close,
                ),
                (Wire::Chat, false) => json_response(StatusCode::OK, &json!({"error": error})),
            }
        }
        Reply::CutOff => {
            let partial = Answer {
                text: Some("This answer will never be finished".into()),
                ..Answer::default()
            };
            let chunks = match (context.wire, context.stream) {
                (Wire::Responses, true) => {
                    responses::stream(&partial, &[], &DEFAULT_USAGE, context)
                }
                (Wire::Chat, true) => chat::stream(&partial, &[], &DEFAULT_USAGE, context),
                (_, false) => {
                    return chunked_response(JSON, vec!["{\"id\": \"cut".into()], Ending::Abort);
                }
            };
            // Keep the opening and two deltas; drop everything that would finish the answer.
            let keep = match context.wire {
                Wire::Responses => 6,
                Wire::Chat => 3,
            };
            chunked_response(
                EVENT_STREAM,
                chunks.into_iter().take(keep).collect(),
                Ending::Abort,
            )
        }
        Reply::Silent => chunked_response(
            if context.stream { EVENT_STREAM } else { JSON },
            Vec::new(),
            Ending::Hang,
        ),
        Reply::Malformed => {
            if !context.stream {
                return chunked_response(JSON, vec!["{this is not json".into()], Ending::Close);
            }
            let chunks = match context.wire {
                Wire::Responses => {
                    let mut events = responses::EventWriter::new();
                    events.push("response.created", json!({"response": responses::envelope(context, "in_progress", json!([]), Value::Null)}));
                    let mut chunks = events.finish();
                    chunks.push(
                        "event: response.output_text.delta\ndata: {this is not json\n\n".into(),
                    );
                    chunks
                }
                Wire::Chat => vec![
                    chat::data(&chat::chunk(
                        context,
                        json!({"role": "assistant", "content": ""}),
                        None,
                    )),
                    "data: {this is not json\n\n".into(),
                ],
            };
            chunked_response(EVENT_STREAM, chunks, Ending::Close)
        }
    }
}

/// Splits text the way a model streams it: word by word, spaces kept.
fn text_pieces(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_string).collect()
}

/// Splits function-call arguments in two, as providers send them in fragments.
fn argument_pieces(arguments: &str) -> Vec<String> {
    let mut middle = arguments.len() / 2;
    while !arguments.is_char_boundary(middle) {
        middle -= 1;
    }
    let (first, second) = arguments.split_at(middle);
    [first, second]
        .into_iter()
        .filter(|piece| !piece.is_empty())
        .map(str::to_string)
        .collect()
}

/// The Responses API's event stream and response object.
mod responses {
    use super::{Answer, RenderContext, ScriptedUsage, argument_pieces, text_pieces};
    use serde_json::{Value, json};

    pub struct EventWriter {
        chunks: Vec<String>,
        sequence_number: u64,
    }

    impl EventWriter {
        pub fn new() -> Self {
            EventWriter {
                chunks: Vec::new(),
                sequence_number: 0,
            }
        }

        pub fn push(&mut self, event_type: &str, mut data: Value) {
            data["type"] = json!(event_type);
            data["sequence_number"] = json!(self.sequence_number);
            self.sequence_number += 1;
            self.chunks
                .push(format!("event: {event_type}\ndata: {data}\n\n"));
        }

        pub fn finish(self) -> Vec<String> {
            self.chunks
        }
    }

    pub fn usage(usage: &ScriptedUsage) -> Value {
        json!({
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "total_tokens": usage.input_tokens + usage.output_tokens,
        })
    }

    pub fn envelope(context: &RenderContext, status: &str, output: Value, usage: Value) -> Value {
        json!({
            "id": format!("resp_{}", context.id),
            "object": "response",
            "created_at": context.created,
            "status": status,
            "error": null,
            "incomplete_details": null,
            "model": context.model,
            "output": output,
            "parallel_tool_calls": true,
            "store": false,
            "usage": usage,
        })
    }

    fn reasoning_item(context: &RenderContext, summary: &str) -> Value {
        json!({
            "id": format!("rs_{}", context.id),
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": summary}],
        })
    }

    fn message_item(context: &RenderContext, status: &str, text: Option<&str>) -> Value {
        let content = match text {
            Some(text) => json!([{"type": "output_text", "text": text, "annotations": []}]),
            None => json!([]),
        };
        json!({
            "id": format!("msg_{}", context.id),
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        })
    }

    fn call_item(status: &str, call: &(String, String, String), arguments: &str) -> Value {
        let (call_id, name, _) = call;
        json!({
            "id": format!("fc_{}", call_id.trim_start_matches("call_")),
            "type": "function_call",
            "status": status,
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        })
    }

    fn output_items(
        answer: &Answer,
        calls: &[(String, String, String)],
        context: &RenderContext,
    ) -> Vec<Value> {
        let mut items = Vec::new();
        if let Some(reasoning) = &answer.reasoning {
            items.push(reasoning_item(context, reasoning));
        }
        if let Some(text) = &answer.text {
            items.push(message_item(context, "completed", Some(text)));
        }
        for call in calls {
            items.push(call_item("completed", call, &call.2));
        }
        items
    }

    pub fn stream(
        answer: &Answer,
        calls: &[(String, String, String)],
        usage_numbers: &ScriptedUsage,
        context: &RenderContext,
    ) -> Vec<String> {
        let mut events = EventWriter::new();
        events.push(
            "response.created",
            json!({"response": envelope(context, "in_progress", json!([]), Value::Null)}),
        );
        events.push(
            "response.in_progress",
            json!({"response": envelope(context, "in_progress", json!([]), Value::Null)}),
        );
        let mut output_index = 0;
        if let Some(text) = &answer.text {
            // The message comes first when there is no reasoning, so a cut-off stream is text.
            if answer.reasoning.is_none() {
                push_message(&mut events, context, text, output_index);
                output_index += 1;
            }
        }
        if let Some(summary) = &answer.reasoning {
            let item_id = format!("rs_{}", context.id);
            events.push(
                "response.output_item.added",
                json!({"output_index": output_index, "item": {"id": item_id, "type": "reasoning", "summary": []}}),
            );
            events.push(
                "response.reasoning_summary_part.added",
                json!({"item_id": item_id, "output_index": output_index, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}),
            );
            for piece in text_pieces(summary) {
                events.push(
                    "response.reasoning_summary_text.delta",
                    json!({"item_id": item_id, "output_index": output_index, "summary_index": 0, "delta": piece}),
                );
            }
            events.push(
                "response.reasoning_summary_text.done",
                json!({"item_id": item_id, "output_index": output_index, "summary_index": 0, "text": summary}),
            );
            events.push(
                "response.reasoning_summary_part.done",
                json!({"item_id": item_id, "output_index": output_index, "summary_index": 0, "part": {"type": "summary_text", "text": summary}}),
            );
            events.push(
                "response.output_item.done",
                json!({"output_index": output_index, "item": reasoning_item(context, summary)}),
            );
            output_index += 1;
            if let Some(text) = &answer.text {
                push_message(&mut events, context, text, output_index);
                output_index += 1;
            }
        }
        for call in calls {
            let item_id = format!("fc_{}", call.0.trim_start_matches("call_"));
            events.push(
                "response.output_item.added",
                json!({"output_index": output_index, "item": call_item("in_progress", call, "")}),
            );
            for piece in argument_pieces(&call.2) {
                events.push(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": output_index, "delta": piece}),
                );
            }
            events.push(
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": output_index, "arguments": call.2}),
            );
            events.push(
                "response.output_item.done",
                json!({"output_index": output_index, "item": call_item("completed", call, &call.2)}),
            );
            output_index += 1;
        }
        events.push(
            "response.completed",
            json!({"response": envelope(context, "completed", Value::Array(output_items(answer, calls, context)), usage(usage_numbers))}),
        );
        events.finish()
    }

    fn push_message(
        events: &mut EventWriter,
        context: &RenderContext,
        text: &str,
        output_index: usize,
    ) {
        let item_id = format!("msg_{}", context.id);
        events.push(
            "response.output_item.added",
            json!({"output_index": output_index, "item": message_item(context, "in_progress", None)}),
        );
        events.push(
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
        );
        for piece in text_pieces(text) {
            events.push(
                "response.output_text.delta",
                json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "delta": piece, "logprobs": []}),
            );
        }
        events.push(
            "response.output_text.done",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "text": text, "logprobs": []}),
        );
        events.push(
            "response.content_part.done",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": []}}),
        );
        events.push(
            "response.output_item.done",
            json!({"output_index": output_index, "item": message_item(context, "completed", Some(text))}),
        );
    }

    pub fn whole(
        answer: &Answer,
        calls: &[(String, String, String)],
        usage_numbers: &ScriptedUsage,
        context: &RenderContext,
    ) -> Value {
        envelope(
            context,
            "completed",
            Value::Array(output_items(answer, calls, context)),
            usage(usage_numbers),
        )
    }
}

/// Chat Completions chunks and completion object.
mod chat {
    use super::{Answer, RenderContext, ScriptedUsage, argument_pieces, text_pieces};
    use serde_json::{Value, json};

    pub fn data(value: &Value) -> String {
        format!("data: {value}\n\n")
    }

    pub fn usage(usage: &ScriptedUsage) -> Value {
        json!({
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        })
    }

    pub fn chunk(context: &RenderContext, delta: Value, finish_reason: Option<&str>) -> Value {
        let mut chunk = json!({
            "id": format!("chatcmpl-{}", context.id),
            "object": "chat.completion.chunk",
            "created": context.created,
            "model": context.model,
            "system_fingerprint": "fp_scripted",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        });
        if context.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    fn finish_reason(calls: &[(String, String, String)]) -> &'static str {
        if calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }
    }

    pub fn stream(
        answer: &Answer,
        calls: &[(String, String, String)],
        usage_numbers: &ScriptedUsage,
        context: &RenderContext,
    ) -> Vec<String> {
        let mut chunks = vec![data(&chunk(
            context,
            json!({"role": "assistant", "content": ""}),
            None,
        ))];
        // Text first, so a cut-off stream shows text deltas.
        if let Some(text) = &answer.text
            && answer.reasoning.is_none()
        {
            for piece in text_pieces(text) {
                chunks.push(data(&chunk(context, json!({"content": piece}), None)));
            }
        }
        if let Some(reasoning) = &answer.reasoning {
            for piece in text_pieces(reasoning) {
                chunks.push(data(&chunk(
                    context,
                    json!({"reasoning_content": piece}),
                    None,
                )));
            }
            if let Some(text) = &answer.text {
                for piece in text_pieces(text) {
                    chunks.push(data(&chunk(context, json!({"content": piece}), None)));
                }
            }
        }
        for (index, (call_id, name, arguments)) in calls.iter().enumerate() {
            chunks.push(data(&chunk(
                context,
                json!({"tool_calls": [{"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                None,
            )));
            for piece in argument_pieces(arguments) {
                chunks.push(data(&chunk(
                    context,
                    json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                    None,
                )));
            }
        }
        chunks.push(data(&chunk(context, json!({}), Some(finish_reason(calls)))));
        if context.include_usage {
            chunks.push(data(&json!({
                "id": format!("chatcmpl-{}", context.id),
                "object": "chat.completion.chunk",
                "created": context.created,
                "model": context.model,
                "system_fingerprint": "fp_scripted",
                "choices": [],
                "usage": usage(usage_numbers),
            })));
        }
        chunks.push("data: [DONE]\n\n".into());
        chunks
    }

    pub fn whole(
        answer: &Answer,
        calls: &[(String, String, String)],
        usage_numbers: &ScriptedUsage,
        context: &RenderContext,
    ) -> Value {
        let mut message = json!({"role": "assistant", "content": answer.text});
        if let Some(reasoning) = &answer.reasoning {
            message["reasoning_content"] = json!(reasoning);
        }
        if !calls.is_empty() {
            message["tool_calls"] = calls
                .iter()
                .map(|(call_id, name, arguments)| {
                    json!({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}})
                })
                .collect();
        }
        json!({
            "id": format!("chatcmpl-{}", context.id),
            "object": "chat.completion",
            "created": context.created,
            "model": context.model,
            "system_fingerprint": "fp_scripted",
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason(calls)}],
            "usage": usage(usage_numbers),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A minimal HTTP/1.0 client: the server then delimits the body by closing the connection.
    fn post(server: &ModelServer, path: &str, body: &Value) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(server.address()).expect("connect");
        let body = body.to_string();
        write!(
            stream,
            "POST {path} HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let status = response[9..12].parse().expect("status code");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }

    fn data_lines(body: &str) -> Vec<Value> {
        body.lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter(|data| *data != "[DONE]")
            .map(|data| serde_json::from_str(data).expect("data is JSON"))
            .collect()
    }

    #[test]
    fn serves_both_prefixes_and_reports_an_exhausted_script() {
        let server = ModelServer::start(vec![Reply::text("one"), Reply::text("two")]);
        let (status, body) = post(&server, "/responses", &json!({"model": "m", "input": "hi"}));
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("JSON")["output"][0]["content"][0]["text"],
            "one"
        );
        let (status, body) = post(
            &server,
            "/v1/chat/completions",
            &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
        );
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("JSON")["choices"][0]["message"]["content"],
            "two"
        );
        let (status, body) = post(
            &server,
            "/v1/responses",
            &json!({"model": "m", "input": "hi"}),
        );
        assert_eq!(status, 400);
        assert!(body.contains("script_exhausted"), "{body}");
        let (status, _) = post(&server, "/v1/embeddings", &json!({}));
        assert_eq!(status, 404);
        let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(
            paths,
            ["/responses", "/v1/chat/completions", "/v1/responses"]
        );
    }

    #[test]
    fn strict_mode_refuses_what_openai_refuses_unless_lenient() {
        let dangling = json!({"model": "m", "input": [
            {"type": "message", "role": "user", "content": "go"},
            {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"},
        ]});
        let server = ModelServer::start(vec![Reply::text("one")]);
        let (status, body) = post(&server, "/v1/responses", &dangling);
        assert_eq!(status, 400, "{body}");
        let error: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert_eq!(
            error["error"]["message"],
            "No tool output found for function call c1."
        );
        let (status, _) = post(&server, "/v1/chat/completions", &json!({"model": "m"}));
        assert_eq!(status, 400);
        assert_eq!(server.requests().len(), 2, "refused requests are recorded");
        assert_eq!(server.replies_left(), 1, "and play no reply");

        let server = ModelServer::start(vec![Reply::text("one")]).lenient();
        let (status, body) = post(&server, "/v1/responses", &dangling);
        assert_eq!(status, 200, "{body}");
    }

    #[test]
    fn chat_streams_fragments_and_usage_only_when_asked() {
        let server = ModelServer::start(vec![
            Reply::tool_call("shell", json!({"command": "echo hello"})).with_usage(7, 3),
            Reply::text("plain"),
        ]);
        let (_, body) = post(
            &server,
            "/v1/chat/completions",
            &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true, "stream_options": {"include_usage": true}}),
        );
        assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
        let chunks = data_lines(&body);
        let fragments: Vec<&Value> = chunks
            .iter()
            .filter_map(|c| c.pointer("/choices/0/delta/tool_calls/0"))
            .collect();
        assert!(fragments.len() >= 3, "{fragments:?}");
        assert_eq!(fragments[0]["id"], "call_1");
        assert_eq!(fragments[0]["function"]["name"], "shell");
        let arguments: String = fragments
            .iter()
            .filter_map(|f| f.pointer("/function/arguments").and_then(Value::as_str))
            .collect();
        assert_eq!(arguments, json!({"command": "echo hello"}).to_string());
        let last = chunks.last().expect("chunks");
        assert_eq!(last["choices"], json!([]));
        assert_eq!(last["usage"]["prompt_tokens"], 7);
        assert!(
            chunks
                .iter()
                .any(|c| c.pointer("/choices/0/finish_reason") == Some(&json!("tool_calls")))
        );

        let (_, body) = post(
            &server,
            "/v1/chat/completions",
            &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}),
        );
        let chunks = data_lines(&body);
        assert!(chunks.iter().all(|c| c.get("usage").is_none()), "{body}");
    }

    #[test]
    fn responses_stream_follows_the_event_sequence() {
        let server = ModelServer::start(vec![Reply::text("Hi there").with_reasoning("Greet.")]);
        let (_, body) = post(
            &server,
            "/v1/responses",
            &json!({"model": "m", "input": "hi", "stream": true}),
        );
        let events = data_lines(&body);
        let types: Vec<&str> = events
            .iter()
            .map(|e| e["type"].as_str().expect("type"))
            .collect();
        assert_eq!(types.first(), Some(&"response.created"));
        assert_eq!(types.last(), Some(&"response.completed"));
        let first_reasoning = types
            .iter()
            .position(|t| *t == "response.reasoning_summary_text.delta")
            .expect("reasoning deltas");
        let first_text = types
            .iter()
            .position(|t| *t == "response.output_text.delta")
            .expect("text deltas");
        assert!(first_reasoning < first_text);
        let sequence: Vec<u64> = events
            .iter()
            .map(|e| e["sequence_number"].as_u64().expect("sequence_number"))
            .collect();
        assert!(sequence.windows(2).all(|w| w[1] == w[0] + 1));
        let completed = events.last().expect("events");
        assert_eq!(completed["response"]["usage"]["total_tokens"], 15);
        assert_eq!(
            completed["response"]["output"].as_array().map(Vec::len),
            Some(2)
        );
        let event_lines = body.lines().filter(|l| l.starts_with("event: ")).count();
        assert_eq!(event_lines, events.len(), "every event is named");
    }

    #[test]
    fn http_errors_carry_retry_headers() {
        let server = ModelServer::start(vec![
            Reply::http_error(429, json!({"error": {"message": "slow"}}))
                .retry_after(2)
                .retry_after_ms(1500),
        ]);
        let mut stream = std::net::TcpStream::connect(server.address()).expect("connect");
        write!(
            stream,
            "POST /v1/responses HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{{\"input\":\"hi\"}}"
        )
        .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let lower = response.to_lowercase();
        assert!(lower.starts_with("http/1.0 429"), "{response}");
        assert!(lower.contains("retry-after: 2\r\n"), "{response}");
        assert!(lower.contains("retry-after-ms: 1500\r\n"), "{response}");
    }

    #[test]
    fn script_files_use_the_serde_form_of_replies() {
        let script = r#"[
          {"kind": "answer", "tool_calls": [{"name": "shell", "arguments": {"command": "ls"}}]},
          {"kind": "answer", "text": "Done.", "reasoning": "Looked.", "usage": {"input_tokens": 9, "output_tokens": 2}},
          {"kind": "http_error", "status": 429, "body": {"error": {"message": "slow down"}}, "retry_after": 1},
          {"kind": "failed", "code": "server_error", "message": "boom"},
          {"kind": "cut_off"}, {"kind": "silent"}, {"kind": "malformed"}
        ]"#;
        let replies: Vec<Reply> = serde_json::from_str(script).expect("valid script");
        assert_eq!(
            replies,
            vec![
                Reply::tool_call("shell", json!({"command": "ls"})),
                Reply::text("Done.")
                    .with_reasoning("Looked.")
                    .with_usage(9, 2),
                Reply::http_error(429, json!({"error": {"message": "slow down"}})).retry_after(1),
                Reply::failed("server_error", "boom"),
                Reply::cut_off(),
                Reply::silent(),
                Reply::malformed(),
            ]
        );
        assert!(serde_json::from_str::<Vec<Reply>>(r#"[{"kind": "answer", "txt": "x"}]"#).is_err());
    }

    fn recorded(path: &str, body: Value) -> RecordedRequest {
        RecordedRequest {
            path: path.into(),
            query: String::new(),
            headers: vec![("authorization".into(), "Bearer k".into())],
            body,
        }
    }

    #[test]
    fn request_helpers_read_both_wires() {
        let responses = recorded(
            "/v1/responses",
            json!({
                "model": "m",
                "instructions": "sys",
                "stream": true,
                "tools": [{"type": "function", "name": "shell"}],
                "input": [
                    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "first"}]},
                    {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{}"},
                    {"type": "function_call_output", "call_id": "c1", "output": "out"},
                    {"role": "user", "content": "second"},
                ],
            }),
        );
        let chat = recorded(
            "/chat/completions",
            json!({
                "model": "m",
                "tools": [{"type": "function", "function": {"name": "shell"}}],
                "messages": [
                    {"role": "system", "content": "sys"},
                    {"role": "user", "content": "first"},
                    {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "shell", "arguments": "{}"}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "out"},
                    {"role": "user", "content": [{"type": "text", "text": "second"}]},
                ],
            }),
        );
        assert_eq!(responses.wire(), Wire::Responses);
        assert_eq!(chat.wire(), Wire::Chat);
        assert!(responses.is_stream() && !chat.is_stream());
        for request in [&responses, &chat] {
            assert_eq!(request.header("Authorization"), Some("Bearer k"));
            assert_eq!(request.instructions().as_deref(), Some("sys"));
            assert_eq!(request.tool_names(), ["shell"]);
            assert_eq!(request.last_user_text().as_deref(), Some("second"));
            assert_eq!(
                request.tool_outputs(),
                [("c1".to_string(), "out".to_string())]
            );
            assert_eq!(
                request.function_calls(),
                [("c1".to_string(), "shell".to_string(), "{}".to_string())]
            );
        }
    }
}
