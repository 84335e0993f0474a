//! Talks to model providers over their OpenAI-compatible HTTP APIs.
//!
//! Two wire formats are spoken: the Responses API (`POST {base_url}/responses`) and Chat
//! Completions (`POST {base_url}/chat/completions`), both streamed over server-sent events. The
//! crate turns a [`Prompt`] into a request for the provider's wire format and the provider's
//! stream into wire-neutral [`ModelEvent`]s, retrying transient failures with backoff. It knows
//! nothing about what the tools do, about sessions or about the terminal.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod client;
mod error;
mod provider;

pub use client::{ModelClient, ModelEvent, Prompt, ResponseStream};
pub use error::ModelError;
pub use provider::{ProviderConfig, WireApi};
