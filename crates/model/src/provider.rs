//! Provider definitions, in the shape Codex CLI users already write in their config.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    #[default]
    Responses,
    Chat,
}

/// One `[model_providers.<id>]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Display name.
    pub name: String,
    /// Base URL, e.g. `https://api.openai.com/v1`; `/responses` or `/chat/completions` is appended.
    pub base_url: String,
    #[serde(default)]
    pub wire_api: WireApi,
    /// Environment variable whose value is sent as a Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_key: Option<String>,
    /// Extra headers sent with every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub http_headers: BTreeMap<String, String>,
    /// Extra query parameters (Azure's `api-version`, say).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query_params: BTreeMap<String, String>,
    /// How many times a transient failure is retried (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_max_retries: Option<u32>,
    /// A stream silent for longer than this is treated as dropped (default 300000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_idle_timeout_ms: Option<u64>,
    /// The longest cadre waits for an answer to make progress, retries and their backoff
    /// included, before it gives up (default 600000, ten minutes): a server that accepts
    /// connections and never answers costs this much, not `stream_idle_timeout_ms` times every
    /// retry. Every piece of the answer that arrives starts the wait again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_max_wait_ms: Option<u64>,
}

pub const DEFAULT_MAX_RETRIES: u32 = 4;
pub const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 300_000;
pub const DEFAULT_REQUEST_MAX_WAIT_MS: u64 = 600_000;
pub const DEFAULT_CHAT_MAX_OUTPUT_TOKENS: u64 = 4_096;
pub const DEFAULT_RESPONSES_MAX_OUTPUT_TOKENS: u64 = 32_768;

impl ProviderConfig {
    /// The built-in providers: `openai`, `ollama`, `lmstudio`, `openrouter`.
    pub fn builtin(id: &str) -> Option<ProviderConfig> {
        let make = |name: &str, base_url: &str, wire_api, env_key: Option<&str>| ProviderConfig {
            name: name.into(),
            base_url: base_url.into(),
            wire_api,
            env_key: env_key.map(Into::into),
            http_headers: BTreeMap::new(),
            query_params: BTreeMap::new(),
            request_max_retries: None,
            stream_idle_timeout_ms: None,
            request_max_wait_ms: None,
        };
        Some(match id {
            "openai" => make(
                "OpenAI",
                "https://api.openai.com/v1",
                WireApi::Responses,
                Some("OPENAI_API_KEY"),
            ),
            "ollama" => make("Ollama", "http://localhost:11434/v1", WireApi::Chat, None),
            "lmstudio" => make("LM Studio", "http://localhost:1234/v1", WireApi::Chat, None),
            "openrouter" => make(
                "OpenRouter",
                "https://openrouter.ai/api/v1",
                WireApi::Chat,
                Some("OPENROUTER_API_KEY"),
            ),
            _ => return None,
        })
    }

    pub const BUILTIN_IDS: [&'static str; 4] = ["openai", "ollama", "lmstudio", "openrouter"];

    /// Whether this is one of the hosted built-ins (OpenAI, OpenRouter) at its own address: they
    /// publish no context window through the server, and their windows are large.
    pub fn is_hosted_builtin(&self) -> bool {
        ["openai", "openrouter"].iter().any(|id| {
            ProviderConfig::builtin(id)
                .is_some_and(|builtin| builtin.base_url == self.base_url.trim_end_matches('/'))
        })
    }

    /// The output cap sent when `model_max_output_tokens` is not configured: local servers
    /// (mostly on Chat) otherwise let a small model run on to the end of its context; on the
    /// Responses wire the cap only bounds a runaway answer, well above what a reasoning model
    /// needs for one step.
    pub fn default_max_output_tokens(&self) -> u64 {
        match self.wire_api {
            WireApi::Chat => DEFAULT_CHAT_MAX_OUTPUT_TOKENS,
            WireApi::Responses => DEFAULT_RESPONSES_MAX_OUTPUT_TOKENS,
        }
    }

    pub fn max_retries(&self) -> u32 {
        self.request_max_retries.unwrap_or(DEFAULT_MAX_RETRIES)
    }

    pub fn stream_idle_timeout_ms(&self) -> u64 {
        self.stream_idle_timeout_ms
            .unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT_MS)
    }

    pub fn request_max_wait_ms(&self) -> u64 {
        self.request_max_wait_ms
            .unwrap_or(DEFAULT_REQUEST_MAX_WAIT_MS)
    }
}
