//! A light check that a provider answers, for `cadre doctor`: `GET {base_url}/models`.

use crate::ModelClient;
use serde::Serialize;
use std::time::{Duration, Instant};

/// What the provider said when asked for its model list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    pub url: String,
    /// HTTP status, or `None` when nothing answered.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// Whether the configured model is in the list (when the provider lists models).
    pub model_listed: Option<bool>,
    /// One sentence for people: what happened and what to do.
    pub summary: String,
}

impl ModelClient {
    /// Asks the provider for its models, with a short timeout; never retries.
    pub async fn probe(&self, model: &str) -> ProbeReport {
        let inner = &self.inner;
        let url = format!("{}/models", inner.provider.base_url.trim_end_matches('/'));
        let mut request = inner
            .http
            .get(&url)
            .headers(inner.headers.clone())
            .query(&inner.provider.query_params)
            .timeout(Duration::from_secs(5));
        if let Some(key) = &inner.api_key {
            request = request.bearer_auth(key);
        }
        let started = Instant::now();
        let response = request.send().await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                return ProbeReport {
                    url,
                    status: None,
                    latency_ms,
                    model_listed: None,
                    summary: format!(
                        "no answer ({error}); is the server running and base_url right?"
                    ),
                };
            }
        };
        let status = response.status();
        let body: Option<serde_json::Value> = response.json().await.ok();
        let model_listed = body
            .as_ref()
            .and_then(|b| b["data"].as_array())
            .map(|models| models.iter().any(|m| m["id"].as_str() == Some(model)));
        let summary = match status.as_u16() {
            200..=299 => match model_listed {
                Some(true) | None => "answers".to_string(),
                Some(false) => format!("answers, but does not list model `{model}`"),
            },
            401 | 403 => match &inner.provider.env_key {
                Some(var) => format!("rejects the credentials; check {var}"),
                None => "rejects the request: it wants credentials (set env_key)".to_string(),
            },
            404 => "answers, but has no /models endpoint (chat may still work)".to_string(),
            other => format!("answers HTTP {other}"),
        };
        ProbeReport {
            url,
            status: Some(status.as_u16()),
            latency_ms,
            model_listed,
            summary,
        }
    }
}
