//! The client: sends a [`Prompt`] to the configured provider and streams the answer back as
//! [`ModelEvent`]s, retrying transient failures.

use crate::failure::{AttemptFailure, ErrorDetails, ProviderErrorKind, truncate_body};
use crate::retry::{Backoff, is_transient_status, server_requested_delay};
use crate::sse::SseParser;
use crate::wire::WireDecoder;
use crate::{ModelError, ProviderConfig, WireApi, chat_wire, responses_wire};
use cadre_protocol::{IncompleteReason, ResponseItem, TokenUsage, ToolSpec};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Everything one model call needs.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub model: String,
    /// System instructions (the Responses API's `instructions`, a system message on Chat).
    pub instructions: String,
    pub input: Vec<ResponseItem>,
    pub tools: Vec<ToolSpec>,
    pub parallel_tool_calls: bool,
    /// The most tokens the answer may have (`max_tokens` on Chat, `max_output_tokens` on
    /// Responses); `None` sends no cap.
    pub max_output_tokens: Option<u64>,
}

/// What a streamed answer yields, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent {
    /// A piece of assistant text.
    TextDelta { delta: String },
    /// A piece of a reasoning summary.
    ReasoningDelta { delta: String },
    /// A finished output item (a message, a reasoning item, a function call).
    ItemDone(ResponseItem),
    /// The attempt failed transiently; everything received since the last `Retrying` (or the
    /// start) must be discarded, and the request is sent again after `delay_ms`. `attempt` counts
    /// retries from 1; `max_attempts` is the number of retries allowed
    /// ([`ProviderConfig::max_retries`]).
    Retrying {
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        reason: String,
    },
    /// The answer is complete; `incomplete` says when the provider stopped it early (the output
    /// token limit), in which case its last function call may be cut off.
    Completed {
        response_id: Option<String>,
        usage: Option<TokenUsage>,
        incomplete: Option<IncompleteReason>,
    },
}

/// The events of one answer. The stream ends after `Completed` or after the first `Err`.
pub type ResponseStream = mpsc::Receiver<Result<ModelEvent, ModelError>>;

/// A whole answer, as collected by [`ModelClient::complete`].
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub items: Vec<ResponseItem>,
    pub response_id: Option<String>,
    pub usage: Option<TokenUsage>,
    pub incomplete: Option<IncompleteReason>,
}

/// A client for one provider. Cloning is cheap and clones share the connection pool.
#[derive(Clone)]
pub struct ModelClient {
    pub(crate) inner: Arc<ClientInner>,
}

#[derive(Clone)]
pub(crate) struct ClientInner {
    pub(crate) provider: ProviderConfig,
    pub(crate) api_key: Option<String>,
    pub(crate) http: reqwest::Client,
    pub(crate) url: url::Url,
    /// The endpoint without query parameters, for messages (a query may carry a key).
    pub(crate) display_url: String,
    pub(crate) headers: HeaderMap,
    pub(crate) backoff: Backoff,
}

impl std::fmt::Debug for ModelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelClient")
            .field("provider", &self.inner.provider.name)
            .field("url", &self.inner.display_url)
            .field("has_api_key", &self.inner.api_key.is_some())
            .finish()
    }
}

/// How many events may wait in the channel before the client stops reading the network.
const CHANNEL_CAPACITY: usize = 64;

impl ModelClient {
    /// Builds a client, reading the API key from the provider's `env_key` variable when it names
    /// one (a missing or empty variable is an error).
    pub fn new(provider: ProviderConfig) -> Result<Self, ModelError> {
        let api_key = match &provider.env_key {
            Some(env_key) => match std::env::var(env_key) {
                Ok(key) if !key.trim().is_empty() => Some(key),
                _ => {
                    return Err(ModelError::MissingApiKey {
                        env_key: env_key.clone(),
                    });
                }
            },
            None => None,
        };
        Self::build(provider, api_key)
    }

    /// Builds a client with an API key given directly, without reading the environment.
    pub fn with_api_key(
        provider: ProviderConfig,
        api_key: impl Into<String>,
    ) -> Result<Self, ModelError> {
        Self::build(provider, Some(api_key.into()))
    }

    /// Replaces the retry backoff (first delay `base`, doubling, capped at `max`). Tests use tiny
    /// values; a delay the server asks for with `Retry-After` still wins.
    pub fn with_backoff(self, base: Duration, max: Duration) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.backoff = Backoff { base, max };
        ModelClient {
            inner: Arc::new(inner),
        }
    }

    fn build(provider: ProviderConfig, api_key: Option<String>) -> Result<Self, ModelError> {
        let path = match provider.wire_api {
            WireApi::Responses => "responses",
            WireApi::Chat => "chat/completions",
        };
        let endpoint = format!("{}/{path}", provider.base_url.trim_end_matches('/'));
        let mut url = url::Url::parse(&endpoint).map_err(|error| {
            ModelError::Config(format!(
                "base_url `{}` of provider `{}` is not a valid URL: {error}",
                provider.base_url, provider.name
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ModelError::Config(format!(
                "base_url `{}` of provider `{}` must start with http:// or https://",
                provider.base_url, provider.name
            )));
        }
        let display_url = url.to_string();
        if !provider.query_params.is_empty() {
            url.query_pairs_mut().extend_pairs(&provider.query_params);
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &provider.http_headers {
            let invalid = |what: &str| {
                ModelError::Config(format!(
                    "http header `{name}` of provider `{}` has an invalid {what}",
                    provider.name
                ))
            };
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("name"))?,
                HeaderValue::from_str(value).map_err(|_| invalid("value"))?,
            );
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| {
                ModelError::Config(format!("could not set up the HTTP client: {error}"))
            })?;
        Ok(ModelClient {
            inner: Arc::new(ClientInner {
                provider,
                api_key,
                http,
                url,
                display_url,
                headers,
                backoff: Backoff::default(),
            }),
        })
    }

    pub fn provider(&self) -> &ProviderConfig {
        &self.inner.provider
    }

    /// The URL requests go to, query parameters included.
    pub fn endpoint(&self) -> &str {
        self.inner.url.as_str()
    }

    /// The JSON body a streamed request for `prompt` carries, in the provider's wire format.
    pub fn request_body(&self, prompt: &Prompt) -> Value {
        match self.inner.provider.wire_api {
            WireApi::Responses => responses_wire::request_body(prompt, true),
            WireApi::Chat => chat_wire::request_body(prompt, true),
        }
    }

    /// Sends the prompt and streams the answer. Dropping the receiver cancels the request.
    pub async fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        let body = self.request_body(prompt);
        let model = prompt.model.clone();
        let (sender, receiver) = mpsc::channel(CHANNEL_CAPACITY);
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            tokio::select! {
                () = sender.closed() => {}
                () = inner.run(&body, &model, &sender) => {}
            }
        });
        Ok(receiver)
    }

    /// Sends the prompt and waits for the whole answer (still streamed on the wire, with the same
    /// retries); items from an attempt that was retried are discarded.
    pub async fn complete(&self, prompt: &Prompt) -> Result<Completion, ModelError> {
        let mut stream = self.stream(prompt).await?;
        let mut items = Vec::new();
        while let Some(event) = stream.recv().await {
            match event? {
                ModelEvent::ItemDone(item) => items.push(item),
                ModelEvent::Retrying { .. } => items.clear(),
                ModelEvent::Completed {
                    response_id,
                    usage,
                    incomplete,
                } => {
                    return Ok(Completion {
                        items,
                        response_id,
                        usage,
                        incomplete,
                    });
                }
                ModelEvent::TextDelta { .. } | ModelEvent::ReasoningDelta { .. } => {}
            }
        }
        Err(ModelError::Cancelled)
    }
}

type EventSender = mpsc::Sender<Result<ModelEvent, ModelError>>;

/// How much longer one request may wait for progress (see
/// [`ProviderConfig::request_max_wait_ms`]): every wait of every attempt, and every backoff, comes
/// out of it, and each piece of the answer that arrives fills it up again.
struct WaitLimit {
    limit: Duration,
    started: Instant,
    last_progress: Instant,
}

impl WaitLimit {
    fn new(limit: Duration) -> Self {
        let now = Instant::now();
        WaitLimit {
            limit,
            started: now,
            last_progress: now,
        }
    }

    fn progress(&mut self) {
        self.last_progress = Instant::now();
    }

    fn left(&self) -> Duration {
        self.limit.saturating_sub(self.last_progress.elapsed())
    }

    /// A timeout no longer than what is left.
    fn clip(&self, timeout: Duration) -> Duration {
        timeout.min(self.left())
    }

    /// Since the request was first sent.
    fn waited(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Describes an error with its sources: reqwest's own message rarely says what went wrong.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

async fn send(sender: &EventSender, event: ModelEvent) -> Result<(), AttemptFailure> {
    sender
        .send(Ok(event))
        .await
        .map_err(|_| AttemptFailure::Fatal(ModelError::Cancelled))
}

impl ClientInner {
    async fn run(&self, body: &Value, model: &str, sender: &EventSender) {
        let max_retries = self.provider.max_retries();
        let mut retries = 0;
        let mut wait = WaitLimit::new(self.max_wait());
        loop {
            let failure = match self.attempt(body, model, sender, &mut wait).await {
                Ok(()) => return,
                Err(failure) => failure,
            };
            match failure {
                AttemptFailure::Fatal(ModelError::Cancelled) => return,
                AttemptFailure::Fatal(error) => {
                    let _ = sender.send(Err(error)).await;
                    return;
                }
                AttemptFailure::Transient {
                    reason,
                    retry_after,
                } => {
                    if retries >= max_retries {
                        let _ = sender
                            .send(Err(ModelError::RetriesExhausted {
                                attempts: retries + 1,
                                last: reason,
                            }))
                            .await;
                        return;
                    }
                    let delay = retry_after.unwrap_or_else(|| self.backoff.delay(retries + 1));
                    if wait.left() <= delay {
                        let _ = sender
                            .send(Err(ModelError::WaitExceeded {
                                attempts: retries + 1,
                                waited_secs: wait.waited().as_secs(),
                                limit_ms: self.provider.request_max_wait_ms(),
                                last: reason,
                            }))
                            .await;
                        return;
                    }
                    retries += 1;
                    tracing::warn!(
                        provider = %self.provider.name,
                        retry = retries,
                        max_retries,
                        delay_ms = delay.as_millis() as u64,
                        %reason,
                        "model request failed; retrying"
                    );
                    let retrying = ModelEvent::Retrying {
                        attempt: retries,
                        max_attempts: max_retries,
                        delay_ms: delay.as_millis() as u64,
                        reason,
                    };
                    if send(sender, retrying).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.provider.stream_idle_timeout_ms())
    }

    fn max_wait(&self) -> Duration {
        Duration::from_millis(self.provider.request_max_wait_ms())
    }

    async fn attempt(
        &self,
        body: &Value,
        model: &str,
        sender: &EventSender,
        wait: &mut WaitLimit,
    ) -> Result<(), AttemptFailure> {
        let idle = wait.clip(self.idle_timeout());
        let mut request = self
            .http
            .post(self.url.clone())
            .headers(self.headers.clone())
            .json(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let mut response = match timeout(idle, request.send()).await {
            Err(_) => {
                return Err(AttemptFailure::transient(format!(
                    "{} did not answer within {} ms",
                    self.display_url,
                    idle.as_millis()
                )));
            }
            Ok(Err(error)) => {
                return Err(AttemptFailure::transient(format!(
                    "could not reach {}: {}",
                    self.display_url,
                    error_chain(&error)
                )));
            }
            Ok(Ok(response)) => response,
        };
        if !response.status().is_success() {
            return Err(self.http_failure(response, model).await);
        }
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("application/json"));
        if is_json {
            return self.read_whole_answer(response, sender, wait).await;
        }

        let mut decoder: Box<dyn WireDecoder> = match self.provider.wire_api {
            WireApi::Responses => Box::<responses_wire::ResponsesDecoder>::default(),
            WireApi::Chat => Box::<chat_wire::ChatDecoder>::default(),
        };
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        loop {
            let idle = wait.clip(self.idle_timeout());
            let chunk = match timeout(idle, response.chunk()).await {
                Err(_) | Ok(Err(_)) if decoder.has_final_content() => break,
                Err(_) => {
                    return Err(AttemptFailure::transient(format!(
                        "the stream was silent for more than {} ms",
                        idle.as_millis()
                    )));
                }
                Ok(Err(error)) => {
                    return Err(AttemptFailure::transient(format!(
                        "the connection broke mid-stream: {}",
                        error_chain(&error)
                    )));
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            for event in parser.push(&chunk) {
                decoder.on_event(&event, &mut events)?;
                for event in events.drain(..) {
                    send(sender, event).await?;
                    wait.progress();
                }
                if decoder.is_complete() {
                    return Ok(());
                }
            }
        }
        if let Some(event) = parser.finish() {
            decoder.on_event(&event, &mut events)?;
        }
        if !decoder.is_complete() {
            decoder.on_end(&mut events)?;
        }
        for event in events {
            send(sender, event).await?;
        }
        Ok(())
    }

    /// A server that ignored `stream: true` and sent the whole answer as one JSON document.
    async fn read_whole_answer(
        &self,
        mut response: reqwest::Response,
        sender: &EventSender,
        wait: &mut WaitLimit,
    ) -> Result<(), AttemptFailure> {
        let mut bytes = Vec::new();
        loop {
            let idle = wait.clip(self.idle_timeout());
            match timeout(idle, response.chunk()).await {
                Err(_) => {
                    return Err(AttemptFailure::transient(format!(
                        "the response body was silent for more than {} ms",
                        idle.as_millis()
                    )));
                }
                Ok(Err(error)) => {
                    return Err(AttemptFailure::transient(format!(
                        "the connection broke while reading the response: {}",
                        error_chain(&error)
                    )));
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    bytes.extend_from_slice(&chunk);
                    wait.progress();
                }
            }
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
            AttemptFailure::malformed(format!(
                "the response is not JSON ({error}): {}",
                truncate_body(&String::from_utf8_lossy(&bytes))
            ))
        })?;
        let events = match self.provider.wire_api {
            WireApi::Responses => responses_wire::decode_full(&value)?,
            WireApi::Chat => chat_wire::decode_full(&value)?,
        };
        for event in events {
            send(sender, event).await?;
        }
        Ok(())
    }

    async fn http_failure(&self, response: reqwest::Response, model: &str) -> AttemptFailure {
        let status = response.status().as_u16();
        let retry_after = server_requested_delay(response.headers());
        let body = timeout(self.idle_timeout(), response.text())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let details = ErrorDetails::from_body(&body);
        // llama.cpp answers some client errors with HTTP 500 (an overflow in older builds, an
        // unparseable request always): the body decides before the status does.
        match details.kind() {
            ProviderErrorKind::ContextOverflow if status != 401 && status != 404 => {
                return AttemptFailure::Fatal(ModelError::ContextLengthExceeded {
                    message: details.describe("context_length_exceeded"),
                });
            }
            ProviderErrorKind::UnparseableRequest if status == 400 || status >= 500 => {
                return AttemptFailure::Fatal(ModelError::UnparseableRequest {
                    status: Some(status),
                    message: details.describe("(no body)"),
                });
            }
            _ => {}
        }
        match status {
            401 => AttemptFailure::Fatal(ModelError::Unauthorized {
                hint: self.unauthorized_hint(&details),
            }),
            404 => AttemptFailure::Fatal(ModelError::ModelNotFound {
                model: model.to_string(),
                url: self.display_url.clone(),
            }),
            429 if details.code.as_deref() == Some("insufficient_quota") => {
                AttemptFailure::Fatal(ModelError::Http {
                    status,
                    body: truncate_body(&body),
                })
            }
            status if is_transient_status(status) => AttemptFailure::Transient {
                reason: format!("HTTP {status}: {}", details.describe("(no body)")),
                retry_after,
            },
            status => AttemptFailure::Fatal(ModelError::Http {
                status,
                body: truncate_body(&body),
            }),
        }
    }

    fn unauthorized_hint(&self, details: &ErrorDetails) -> String {
        let advice = match &self.provider.env_key {
            Some(env_key) => format!("; check the API key in the environment variable {env_key}"),
            None => format!(
                "; provider `{}` needs an API key: set `env_key` in its configuration to the name \
                 of an environment variable holding the key",
                self.provider.name
            ),
        };
        match &details.message {
            Some(message) => format!("{advice} (the provider said: {message})"),
            None => advice,
        }
    }
}
