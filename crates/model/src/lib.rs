//! Talks to model providers over their OpenAI-compatible HTTP APIs.
//!
//! Two wire formats are spoken: the Responses API (`POST {base_url}/responses`) and Chat
//! Completions (`POST {base_url}/chat/completions`), both streamed over server-sent events (a
//! server that answers with one JSON document instead is understood too). The crate turns a
//! [`Prompt`] into a request for the provider's wire format and the provider's stream into
//! wire-neutral [`ModelEvent`]s, retrying transient failures with backoff. It knows nothing about
//! what the tools do, about sessions or about the terminal.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cadre_model::ModelError> {
//! use cadre_model::{ModelClient, ModelEvent, Prompt, ProviderConfig};
//! use cadre_protocol::ResponseItem;
//!
//! let provider = ProviderConfig::builtin("ollama").expect("a built-in provider");
//! let client = ModelClient::new(provider)?;
//! let prompt = Prompt {
//!     model: "qwen3".into(),
//!     instructions: "You are terse.".into(),
//!     input: vec![ResponseItem::user("Say hi")],
//!     tools: vec![],
//!     parallel_tool_calls: false,
//!     max_output_tokens: Some(1024),
//! };
//! let mut stream = client.stream(&prompt).await?;
//! while let Some(event) = stream.recv().await {
//!     if let ModelEvent::Completed { .. } = event? {
//!         break;
//!     }
//! }
//! # Ok(())
//! # }
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod call_arguments;
mod chat_wire;
mod client;
mod context_window;
mod error;
mod failure;
mod probe;
mod provider;
mod responses_wire;
mod retry;
mod sse;
mod wire;

pub use call_arguments::invalid_arguments;
pub use client::{Completion, ModelClient, ModelEvent, Prompt, ResponseStream};
pub use context_window::{ContextWindow, ContextWindowSource};
pub use error::ModelError;
pub use probe::ProbeReport;
pub use provider::{
    DEFAULT_CHAT_MAX_OUTPUT_TOKENS, DEFAULT_MAX_RETRIES, DEFAULT_RESPONSES_MAX_OUTPUT_TOKENS,
    DEFAULT_STREAM_IDLE_TIMEOUT_MS, ProviderConfig, WireApi,
};
pub use retry::{DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY};
