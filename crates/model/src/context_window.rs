//! How many tokens the model behind a provider can take at once, asked of the server where it
//! says: llama.cpp (`n_ctx` in `/v1/models` `meta` or in `/props`), vLLM (`max_model_len` in
//! `/v1/models`), Ollama (`num_ctx` in `/api/show`, else `context_length` in `/api/ps`) and LM
//! Studio (`loaded_context_length` in `/api/v0/models/{model}`).

use crate::ModelClient;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// The context window of the configured model, in tokens, and who said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ContextWindow {
    pub tokens: u64,
    pub source: ContextWindowSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextWindowSource {
    /// `model_context_window` in the configuration.
    Configured,
    LlamaCpp,
    Vllm,
    Ollama,
    LmStudio,
}

impl ContextWindowSource {
    /// Where the figure came from, for people.
    pub fn describe(self) -> &'static str {
        match self {
            ContextWindowSource::Configured => "model_context_window in the configuration",
            ContextWindowSource::LlamaCpp => "llama.cpp n_ctx",
            ContextWindowSource::Vllm => "vLLM max_model_len",
            ContextWindowSource::Ollama => "Ollama num_ctx",
            ContextWindowSource::LmStudio => "LM Studio loaded context length",
        }
    }
}

/// Each question to the server gets this long; a server that does not answer is not asked again.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

impl ModelClient {
    /// Asks the server for the model's context window. `None` when the provider is a hosted one
    /// whose window is not published this way (OpenAI, OpenRouter) or the server does not say.
    /// Never retries, and stops at the first question that gets no answer at all, so a server
    /// that is down costs one failed connection, not five.
    pub async fn discover_context_window(&self, model: &str) -> Option<ContextWindow> {
        if self.inner.provider.is_hosted_builtin() {
            return None;
        }
        self.ask_context_window(model).await.ok().flatten()
    }

    async fn ask_context_window(&self, model: &str) -> Result<Option<ContextWindow>, NoAnswer> {
        let window = |tokens, source| Ok(Some(ContextWindow { tokens, source }));
        let base = self
            .inner
            .provider
            .base_url
            .trim_end_matches('/')
            .to_string();
        let root = base.strip_suffix("/v1").unwrap_or(&base).to_string();
        if let Some(models) = self.get_json(&format!("{base}/models")).await?
            && let Some(found) = from_model_list(&models, model)
        {
            return Ok(Some(found));
        }
        if let Some(props) = self.get_json(&format!("{root}/props")).await?
            && let Some(tokens) = props
                .pointer("/default_generation_settings/n_ctx")
                .or_else(|| props.get("n_ctx"))
                .and_then(Value::as_u64)
        {
            return window(tokens, ContextWindowSource::LlamaCpp);
        }
        let show = serde_json::json!({"model": model});
        if let Some(show) = self.post_json(&format!("{root}/api/show"), &show).await?
            && let Some(tokens) = ollama_num_ctx(&show)
        {
            return window(tokens, ContextWindowSource::Ollama);
        }
        if let Some(ps) = self.get_json(&format!("{root}/api/ps")).await?
            && let Some(tokens) = ollama_loaded_context(&ps, model)
        {
            return window(tokens, ContextWindowSource::Ollama);
        }
        if let Some(lmstudio) = self
            .get_json(&format!("{root}/api/v0/models/{model}"))
            .await?
            && let Some(tokens) = lmstudio
                .get("loaded_context_length")
                .or_else(|| lmstudio.get("max_context_length"))
                .and_then(Value::as_u64)
        {
            return window(tokens, ContextWindowSource::LmStudio);
        }
        Ok(None)
    }

    async fn get_json(&self, url: &str) -> Result<Option<Value>, NoAnswer> {
        let request = self.inner.http.get(url);
        self.send_probe(request).await
    }

    async fn post_json(&self, url: &str, body: &Value) -> Result<Option<Value>, NoAnswer> {
        let request = self.inner.http.post(url).json(body);
        self.send_probe(request).await
    }

    /// The JSON of a successful answer; `None` for any other answer (404, not JSON).
    async fn send_probe(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<Value>, NoAnswer> {
        let mut request = request
            .headers(self.inner.headers.clone())
            .timeout(PROBE_TIMEOUT);
        if let Some(key) = &self.inner.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|_| NoAnswer)?;
        if !response.status().is_success() {
            return Ok(None);
        }
        Ok(response.json().await.ok())
    }
}

/// The server did not answer at all (refused, timed out): more questions would not help.
struct NoAnswer;

/// vLLM's `max_model_len` or llama.cpp's `meta.n_ctx` on the model's entry (or the only entry:
/// llama.cpp serves one model under its file name, whatever the request calls it).
fn from_model_list(models: &Value, model: &str) -> Option<ContextWindow> {
    let data = models.get("data")?.as_array()?;
    let entry = data
        .iter()
        .find(|m| m.get("id").and_then(Value::as_str) == Some(model))
        .or_else(|| (data.len() == 1).then(|| &data[0]))?;
    if let Some(tokens) = entry.get("max_model_len").and_then(Value::as_u64) {
        return Some(ContextWindow {
            tokens,
            source: ContextWindowSource::Vllm,
        });
    }
    entry
        .pointer("/meta/n_ctx")
        .and_then(Value::as_u64)
        .map(|tokens| ContextWindow {
            tokens,
            source: ContextWindowSource::LlamaCpp,
        })
}

/// `num_ctx` from the `parameters` text of Ollama's `/api/show` ("num_ctx 8192\nstop ...").
fn ollama_num_ctx(show: &Value) -> Option<u64> {
    show.get("parameters")?.as_str()?.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("num_ctx"))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

/// The context a loaded model runs with, from Ollama's `/api/ps`.
fn ollama_loaded_context(ps: &Value, model: &str) -> Option<u64> {
    ps.get("models")?
        .as_array()?
        .iter()
        .find(|m| {
            m.get("name").and_then(Value::as_str) == Some(model)
                || m.get("model").and_then(Value::as_str) == Some(model)
        })?
        .get("context_length")?
        .as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vllm_and_llama_cpp_model_lists_give_the_window() {
        let vllm =
            json!({"object": "list", "data": [{"id": "Qwen/Qwen2.5-7B", "max_model_len": 32768}]});
        assert_eq!(
            from_model_list(&vllm, "Qwen/Qwen2.5-7B"),
            Some(ContextWindow {
                tokens: 32768,
                source: ContextWindowSource::Vllm
            })
        );
        let llama = json!({"object": "list", "data": [{"id": "/models/smollm2.gguf", "meta": {"n_ctx": 2048, "n_ctx_train": 8192}}]});
        assert_eq!(
            from_model_list(&llama, "anything"),
            Some(ContextWindow {
                tokens: 2048,
                source: ContextWindowSource::LlamaCpp
            })
        );
        let openai_like = json!({"data": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(from_model_list(&openai_like, "a"), None);
    }

    #[test]
    fn ollama_reports_num_ctx_or_the_loaded_context() {
        let show = json!({"parameters": "stop \"<|im_end|>\"\nnum_ctx                        8192", "model_info": {"qwen2.context_length": 32768}});
        assert_eq!(ollama_num_ctx(&show), Some(8192));
        assert_eq!(ollama_num_ctx(&json!({"parameters": "stop x"})), None);
        let ps =
            json!({"models": [{"name": "qwen3:8b", "model": "qwen3:8b", "context_length": 4096}]});
        assert_eq!(ollama_loaded_context(&ps, "qwen3:8b"), Some(4096));
        assert_eq!(ollama_loaded_context(&ps, "llama3"), None);
    }
}
