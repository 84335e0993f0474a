//! Web search APIs. Each takes its base URL so tests can serve it from 127.0.0.1.

use super::{SearchHit, SearchProvider};
use crate::error::ResearchError;
use serde_json::Value;
use url::Url;

fn search_error(provider: &str, query: &str, reason: impl ToString) -> ResearchError {
    ResearchError::Search {
        provider: provider.to_string(),
        query: query.to_string(),
        reason: reason.to_string(),
    }
}

fn hits_from(results: Option<&Value>, content_field: &str, limit: usize) -> Vec<SearchHit> {
    results
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some(SearchHit {
                        url: item.get("url")?.as_str()?.to_string(),
                        title: item
                            .get("title")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        snippet: item
                            .get(content_field)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    })
                })
                .take(limit)
                .collect()
        })
        .unwrap_or_default()
}

async fn json_of(
    provider: &str,
    query: &str,
    response: reqwest::Result<reqwest::Response>,
) -> Result<Value, ResearchError> {
    let response = response.map_err(|e| search_error(provider, query, e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(search_error(provider, query, format!("HTTP {status}")));
    }
    response
        .json::<Value>()
        .await
        .map_err(|e| search_error(provider, query, format!("unreadable answer: {e}")))
}

/// SearXNG's JSON API: `GET {base}/search?q=...&format=json`.
pub struct SearxngProvider {
    client: reqwest::Client,
    base: Url,
}

impl SearxngProvider {
    pub fn new(client: reqwest::Client, base: Url) -> Self {
        SearxngProvider { client, base }
    }
}

#[async_trait::async_trait]
impl SearchProvider for SearxngProvider {
    fn name(&self) -> &str {
        "searxng"
    }
    fn needs_network(&self) -> bool {
        true
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, ResearchError> {
        let url = self
            .base
            .join("search")
            .map_err(|e| search_error("searxng", query, e))?;
        let response = self
            .client
            .get(url)
            .query(&[("q", query), ("format", "json")])
            .send()
            .await;
        let json = json_of("searxng", query, response).await?;
        Ok(hits_from(json.get("results"), "content", limit))
    }
}

/// Brave Search API: `GET {base}/res/v1/web/search?q=` with `X-Subscription-Token`.
pub struct BraveProvider {
    client: reqwest::Client,
    base: Url,
    api_key: String,
}

impl BraveProvider {
    pub const DEFAULT_BASE: &str = "https://api.search.brave.com/";
    pub fn new(client: reqwest::Client, base: Url, api_key: String) -> Self {
        BraveProvider {
            client,
            base,
            api_key,
        }
    }
}

#[async_trait::async_trait]
impl SearchProvider for BraveProvider {
    fn name(&self) -> &str {
        "brave"
    }
    fn needs_network(&self) -> bool {
        true
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, ResearchError> {
        let url = self
            .base
            .join("res/v1/web/search")
            .map_err(|e| search_error("brave", query, e))?;
        let count = limit.clamp(1, 20).to_string();
        let response = self
            .client
            .get(url)
            .query(&[("q", query), ("count", count.as_str())])
            .header("Accept", "application/json")
            .header("X-Subscription-Token", &self.api_key)
            .send()
            .await;
        let json = json_of("brave", query, response).await?;
        Ok(hits_from(
            json.get("web").and_then(|w| w.get("results")),
            "description",
            limit,
        ))
    }
}

/// Tavily: `POST {base}/search` with a bearer key.
pub struct TavilyProvider {
    client: reqwest::Client,
    base: Url,
    api_key: String,
}

impl TavilyProvider {
    pub const DEFAULT_BASE: &str = "https://api.tavily.com/";
    pub fn new(client: reqwest::Client, base: Url, api_key: String) -> Self {
        TavilyProvider {
            client,
            base,
            api_key,
        }
    }
}

#[async_trait::async_trait]
impl SearchProvider for TavilyProvider {
    fn name(&self) -> &str {
        "tavily"
    }
    fn needs_network(&self) -> bool {
        true
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, ResearchError> {
        let url = self
            .base
            .join("search")
            .map_err(|e| search_error("tavily", query, e))?;
        let body = serde_json::json!({ "query": query, "max_results": limit.clamp(1, 20) });
        let response = self
            .client
            .post(url)
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .await;
        let json = json_of("tavily", query, response).await?;
        Ok(hits_from(json.get("results"), "content", limit))
    }
}

/// DuckDuckGo's HTML results page: `GET {base}/html/?q=`, result links parsed from the page.
pub struct DuckDuckGoProvider {
    client: reqwest::Client,
    base: Url,
}

impl DuckDuckGoProvider {
    pub const DEFAULT_BASE: &str = "https://html.duckduckgo.com/";
    pub fn new(client: reqwest::Client, base: Url) -> Self {
        DuckDuckGoProvider { client, base }
    }
}

/// Parses DuckDuckGo's HTML results: `a.result__a` links (often `/l/?uddg=<target>` redirects)
/// and `.result__snippet` texts.
pub fn parse_duckduckgo_html(html: &str, limit: usize) -> Vec<SearchHit> {
    let document = scraper::Html::parse_document(html);
    let Ok(result) = scraper::Selector::parse(".result") else {
        return Vec::new();
    };
    let Ok(link) = scraper::Selector::parse("a.result__a") else {
        return Vec::new();
    };
    let Ok(snippet) = scraper::Selector::parse(".result__snippet") else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for item in document.select(&result) {
        let Some(anchor) = item.select(&link).next() else {
            continue;
        };
        let Some(href) = anchor.attr("href") else {
            continue;
        };
        let absolute = if href.starts_with("//") {
            format!("https:{href}")
        } else {
            href.to_string()
        };
        let target = Url::parse(&absolute)
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "uddg")
                    .map(|(_, v)| v.into_owned())
            })
            .unwrap_or(absolute);
        if !target.starts_with("http") {
            continue;
        }
        hits.push(SearchHit {
            url: target,
            title: crate::text::squash_whitespace(&anchor.text().collect::<String>()),
            snippet: item
                .select(&snippet)
                .next()
                .map(|s| crate::text::squash_whitespace(&s.text().collect::<String>()))
                .unwrap_or_default(),
        });
        if hits.len() >= limit {
            break;
        }
    }
    hits
}

#[async_trait::async_trait]
impl SearchProvider for DuckDuckGoProvider {
    fn name(&self) -> &str {
        "duckduckgo"
    }
    fn needs_network(&self) -> bool {
        true
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, ResearchError> {
        let url = self
            .base
            .join("html/")
            .map_err(|e| search_error("duckduckgo", query, e))?;
        let response = self
            .client
            .get(url)
            .query(&[("q", query)])
            .send()
            .await
            .map_err(|e| search_error("duckduckgo", query, e))?;
        if !response.status().is_success() {
            return Err(search_error(
                "duckduckgo",
                query,
                format!("HTTP {}", response.status()),
            ));
        }
        let html = response
            .text()
            .await
            .map_err(|e| search_error("duckduckgo", query, e))?;
        Ok(parse_duckduckgo_html(&html, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckduckgo_links_are_unwrapped() {
        let html = r#"<div class="result"><h2><a class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fexample.com%2Fa%3Fx%3D1&rut=abc">Example <b>A</b></a></h2>
            <a class="result__snippet">About A.</a></div>
            <div class="result"><a class="result__a" href="https://example.org/b">B</a></div>"#;
        let hits = parse_duckduckgo_html(html, 10);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].url, "https://example.com/a?x=1");
        assert_eq!(hits[0].title, "Example A");
        assert_eq!(hits[0].snippet, "About A.");
        assert_eq!(hits[1].url, "https://example.org/b");
    }
}
