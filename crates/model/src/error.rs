/// Why a model request failed for good. Every message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the provider rejected the credentials (HTTP 401){hint}")]
    Unauthorized { hint: String },
    #[error(
        "model `{model}` was not found at {url} (HTTP 404); check `model` and the provider's base_url"
    )]
    ModelNotFound { model: String, url: String },
    #[error(
        "the conversation is longer than the model's context window: {message}. Start a new session, raise the server's context size (llama.cpp `--ctx-size`, Ollama `num_ctx`, vLLM `--max-model-len`, LM Studio's context length), or use a model with a larger context"
    )]
    ContextLengthExceeded { message: String },
    #[error(
        "the provider could not parse cadre's request{}: {message}. Sending it again would fail the same way",
        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
    )]
    UnparseableRequest {
        status: Option<u16>,
        message: String,
    },
    #[error("the provider sent a malformed stream: {0}")]
    MalformedStream(String),
    #[error("the provider answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted { attempts: u32, last: String },
    #[error(
        "gave up after waiting {waited_secs} s for the model ({attempts} attempts; \
         `request_max_wait_ms` of the provider caps the wait at {limit_ms} ms): {last}"
    )]
    WaitExceeded {
        attempts: u32,
        waited_secs: u64,
        limit_ms: u64,
        last: String,
    },
    #[error("could not reach the provider at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("missing API key: set the environment variable {env_key}")]
    MissingApiKey { env_key: String },
    #[error("invalid provider configuration: {0}")]
    Config(String),
    #[error("the request was cancelled")]
    Cancelled,
}
