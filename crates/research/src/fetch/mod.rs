//! Fetching: robots.txt, politeness, concurrency limits, retries, redirects, size and type
//! limits, and the on-disk cache. `file:` URLs (local sources) are read from disk under the same
//! size and type rules.

pub mod cache;
pub mod robots;

use crate::canonical_url::canonical_key;
use crate::error::ResearchError;
use cache::{CachedPage, FetchCache};
use cadre_protocol::DomainAllowlist;
use robots::Robots;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

/// Limits and manners of the fetcher.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Whole-request limit, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Bodies are streamed and cut at this many bytes.
    pub max_bytes: usize,
    pub max_redirects: u32,
    pub per_host_concurrency: usize,
    pub global_concurrency: usize,
    /// Least time between two requests to one host.
    pub politeness_delay: Duration,
    /// Retries after a 429 or 5xx answer.
    pub max_retries: u32,
    /// A `Retry-After` longer than this is not waited for: the page is reported instead.
    pub max_retry_wait: Duration,
    /// First backoff when the server gives no `Retry-After`; doubles each retry.
    pub initial_backoff: Duration,
    /// Whether http(s) may be fetched at all (false under the `offline` profile).
    pub allow_network: bool,
    /// The hosts that may be fetched (`[network] allow`; empty allows every host), checked at
    /// every redirect hop.
    pub allowlist: DomainAllowlist,
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(8),
            max_bytes: 5 * 1024 * 1024,
            max_redirects: 5,
            per_host_concurrency: 2,
            global_concurrency: 8,
            politeness_delay: Duration::from_millis(250),
            max_retries: 3,
            max_retry_wait: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(500),
            allow_network: true,
            allowlist: DomainAllowlist::default(),
            user_agent: format!("cadre-research/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// What kind of text a fetched body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    Html,
    Markdown,
    PlainText,
    SourceCode,
}

/// A successfully fetched document.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub final_url: Url,
    pub status: u16,
    pub content_type: String,
    pub kind: ContentKind,
    pub body: String,
    /// The body was cut at the size limit.
    pub truncated: bool,
    pub redirects: u32,
    /// HTTP attempts made (more than one after a retried 429 or 5xx).
    pub attempts: u32,
    pub from_cache: bool,
    /// Unix seconds.
    pub fetched_at: i64,
}

/// Why a URL yielded no document. Shown to the user in the report's skipped list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchFailure {
    RobotsDisallowed,
    NetworkRefused,
    /// The host is not on the network allowlist (`[network] allow`).
    NotOnAllowlist(String),
    HttpStatus(u16),
    TooManyRedirects(u32),
    Timeout,
    Network(String),
    UnsupportedContentType(String),
    Binary,
    Unreadable(String),
    UnsupportedScheme(String),
}

impl FetchFailure {
    /// Whether cadre sent a request to the URL's host before failing (a page refused by the
    /// profile, the allowlist or robots.txt never was).
    pub fn was_requested(&self) -> bool {
        !matches!(
            self,
            FetchFailure::RobotsDisallowed
                | FetchFailure::NetworkRefused
                | FetchFailure::NotOnAllowlist(_)
                | FetchFailure::UnsupportedScheme(_)
        )
    }
}

impl fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchFailure::RobotsDisallowed => f.write_str("disallowed by robots.txt"),
            FetchFailure::NetworkRefused => {
                f.write_str("network access is not allowed by the profile")
            }
            FetchFailure::NotOnAllowlist(host) => {
                write!(
                    f,
                    "{host} is not on the network allowlist ([network] allow)"
                )
            }
            FetchFailure::HttpStatus(code) => write!(f, "HTTP {code}"),
            FetchFailure::TooManyRedirects(n) => write!(f, "more than {n} redirects"),
            FetchFailure::Timeout => f.write_str("timed out"),
            FetchFailure::Network(e) => write!(f, "network error: {e}"),
            FetchFailure::UnsupportedContentType(t) => write!(f, "unsupported content type `{t}`"),
            FetchFailure::Binary => f.write_str("binary content"),
            FetchFailure::Unreadable(e) => write!(f, "unreadable: {e}"),
            FetchFailure::UnsupportedScheme(s) => write!(f, "unsupported URL scheme `{s}`"),
        }
    }
}

/// One host's limits: its robots rules, its concurrency slots and when it may next be asked.
struct HostState {
    robots: OnceCell<Robots>,
    slots: Semaphore,
    next_request: tokio::sync::Mutex<Instant>,
}

/// The fetcher. Cheap to share behind an `Arc`.
pub struct Fetcher {
    config: FetchConfig,
    client: reqwest::Client,
    cache: Option<FetchCache>,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
    global_slots: Semaphore,
}

fn kind_of_content_type(content_type: &str) -> Option<ContentKind> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Some(ContentKind::Html),
        "text/markdown" | "text/x-markdown" => Some(ContentKind::Markdown),
        "text/plain" => Some(ContentKind::PlainText),
        _ => None,
    }
}

/// Extensions read as source code by the local provider (kept verbatim, line by line).
pub const SOURCE_EXTENSIONS: &[&str] = &[
    "rs", "py", "js", "ts", "tsx", "jsx", "go", "java", "kt", "c", "h", "cc", "cpp", "hpp", "cs",
    "rb", "php", "swift", "scala", "sh", "bash", "zsh", "toml", "yaml", "yml", "json", "sql",
    "lua", "hs", "ml", "ex", "exs", "clj", "zig", "nim", "dart", "r", "jl", "pl", "css", "scss",
    "proto", "cfg", "ini",
];

/// How the local provider reads a file, by extension; `None` for files it does not read.
pub fn kind_of_path(path: &std::path::Path) -> Option<ContentKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" | "xhtml" => Some(ContentKind::Html),
        "md" | "markdown" | "mdx" => Some(ContentKind::Markdown),
        "txt" | "text" | "rst" | "adoc" | "org" => Some(ContentKind::PlainText),
        e if SOURCE_EXTENSIONS.contains(&e) => Some(ContentKind::SourceCode),
        _ => None,
    }
}

/// Whether bytes look binary: a NUL in the first 8 KiB, as git and ripgrep decide.
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0)
}

/// Decodes a body as UTF-8, replacing invalid sequences and dropping a character cut by the
/// size limit.
fn decode(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Fetcher {
    pub fn new(config: FetchConfig, cache: Option<FetchCache>) -> Result<Self, ResearchError> {
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ResearchError::Client(e.to_string()))?;
        Ok(Fetcher {
            global_slots: Semaphore::new(config.global_concurrency.max(1)),
            config,
            client,
            cache,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// The shared HTTP client (search providers reuse it).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    fn host(&self, url: &Url) -> Arc<HostState> {
        let key = format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self
            .hosts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| {
                Arc::new(HostState {
                    robots: OnceCell::new(),
                    slots: Semaphore::new(self.config.per_host_concurrency.max(1)),
                    next_request: tokio::sync::Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    /// Fetches a document, following redirects (each hop checked against robots.txt).
    pub async fn fetch(&self, url: &Url) -> Result<Fetched, FetchFailure> {
        match url.scheme() {
            "file" => return self.read_file(url).await,
            "http" | "https" => {}
            other => return Err(FetchFailure::UnsupportedScheme(other.to_string())),
        }
        if !self.config.allow_network {
            return Err(FetchFailure::NetworkRefused);
        }
        let host_name = url.host_str().unwrap_or_default();
        if !self.config.allowlist.allows(host_name) {
            return Err(FetchFailure::NotOnAllowlist(host_name.to_string()));
        }
        let key = canonical_key(url);
        if let Some(page) = self.cache.as_ref().and_then(|c| c.get(&key)) {
            return Self::cached_document(page);
        }
        let mut current = url.clone();
        let mut redirects = 0;
        loop {
            let host_name = current.host_str().unwrap_or_default();
            if !self.config.allowlist.allows(host_name) {
                return Err(FetchFailure::NotOnAllowlist(host_name.to_string()));
            }
            let host = self.host(&current);
            let robots = host
                .robots
                .get_or_init(|| self.fetch_robots(&current))
                .await;
            let path = match current.query() {
                Some(q) => format!("{}?{q}", current.path()),
                None => current.path().to_string(),
            };
            if !robots.allows(&path) {
                return Err(FetchFailure::RobotsDisallowed);
            }
            let (response, attempts) = self.get_with_retries(&host, &current).await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                    .ok_or(FetchFailure::HttpStatus(status.as_u16()))?;
                redirects += 1;
                if redirects > self.config.max_redirects {
                    return Err(FetchFailure::TooManyRedirects(self.config.max_redirects));
                }
                current = location;
                continue;
            }
            if !status.is_success() {
                return Err(FetchFailure::HttpStatus(status.as_u16()));
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let declared = kind_of_content_type(&content_type);
            if declared.is_none() && !content_type.is_empty() {
                return Err(FetchFailure::UnsupportedContentType(content_type));
            }
            let (body, truncated) = self.read_body(response).await?;
            if looks_binary(&body) {
                return Err(FetchFailure::Binary);
            }
            let kind = declared.unwrap_or(ContentKind::Html);
            let fetched_at = chrono::Utc::now().timestamp();
            if let Some(cache) = &self.cache {
                cache.put(
                    &key,
                    &CachedPage {
                        final_url: current.to_string(),
                        status: status.as_u16(),
                        content_type: content_type.clone(),
                        body: body.clone(),
                        truncated,
                        redirects,
                        fetched_at,
                    },
                );
            }
            return Ok(Fetched {
                final_url: current,
                status: status.as_u16(),
                content_type,
                kind,
                body: decode(&body),
                truncated,
                redirects,
                attempts,
                from_cache: false,
                fetched_at,
            });
        }
    }

    fn cached_document(page: CachedPage) -> Result<Fetched, FetchFailure> {
        let final_url =
            Url::parse(&page.final_url).map_err(|e| FetchFailure::Unreadable(e.to_string()))?;
        Ok(Fetched {
            final_url,
            status: page.status,
            kind: kind_of_content_type(&page.content_type).unwrap_or(ContentKind::Html),
            content_type: page.content_type,
            body: decode(&page.body),
            truncated: page.truncated,
            redirects: page.redirects,
            attempts: 0,
            from_cache: true,
            fetched_at: page.fetched_at,
        })
    }

    async fn fetch_robots(&self, url: &Url) -> Robots {
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let key = canonical_key(&robots_url);
        if let Some(page) = self.cache.as_ref().and_then(|c| c.get(&key)) {
            return Robots::parse(&decode(&page.body));
        }
        let host = self.host(url);
        let response = match self.get_with_retries(&host, &robots_url).await {
            Ok((response, _)) => response,
            Err(FetchFailure::HttpStatus(code)) if (400..500).contains(&code) => {
                return Robots::allow_all();
            }
            Err(_) => return Robots::disallow_all(),
        };
        let status = response.status();
        if status.is_client_error() || status.is_redirection() {
            return Robots::allow_all();
        }
        if !status.is_success() {
            return Robots::disallow_all();
        }
        let Ok((body, _)) = self.read_body(response).await else {
            return Robots::disallow_all();
        };
        if let Some(cache) = &self.cache {
            cache.put(
                &key,
                &CachedPage {
                    final_url: robots_url.to_string(),
                    status: status.as_u16(),
                    content_type: "text/plain".into(),
                    body: body.clone(),
                    truncated: false,
                    redirects: 0,
                    fetched_at: chrono::Utc::now().timestamp(),
                },
            );
        }
        Robots::parse(&decode(&body))
    }

    /// One GET under the host's and the global limits, retried on 429 and 5xx with backoff
    /// that honours `Retry-After`. Returns the last answer (any status) and the attempts made.
    async fn get_with_retries(
        &self,
        host: &HostState,
        url: &Url,
    ) -> Result<(reqwest::Response, u32), FetchFailure> {
        let _host_slot = host
            .slots
            .acquire()
            .await
            .map_err(|_| FetchFailure::Network("closed".into()))?;
        let _global_slot = self
            .global_slots
            .acquire()
            .await
            .map_err(|_| FetchFailure::Network("closed".into()))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            {
                let mut next = host.next_request.lock().await;
                let now = Instant::now();
                if *next > now {
                    tokio::time::sleep(*next - now).await;
                }
                *next = Instant::now() + self.config.politeness_delay;
            }
            let response = self.client.get(url.clone()).send().await.map_err(|e| {
                if e.is_timeout() {
                    FetchFailure::Timeout
                } else {
                    FetchFailure::Network(without_url(&e))
                }
            })?;
            let status = response.status();
            let retryable = status.as_u16() == 429 || status.is_server_error();
            if !retryable || attempt > self.config.max_retries {
                return Ok((response, attempt));
            }
            let wait = retry_after(&response)
                .unwrap_or_else(|| self.config.initial_backoff * 2u32.saturating_pow(attempt - 1));
            if wait > self.config.max_retry_wait {
                return Err(FetchFailure::HttpStatus(status.as_u16()));
            }
            drop(response);
            tokio::time::sleep(wait).await;
        }
    }

    async fn read_body(
        &self,
        mut response: reqwest::Response,
    ) -> Result<(Vec<u8>, bool), FetchFailure> {
        let mut body = Vec::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| {
                if e.is_timeout() {
                    FetchFailure::Timeout
                } else {
                    FetchFailure::Network(without_url(&e))
                }
            })?;
            let Some(chunk) = chunk else {
                return Ok((body, false));
            };
            let room = self.config.max_bytes - body.len();
            if chunk.len() >= room {
                body.extend_from_slice(&chunk[..room]);
                // Cut on a character boundary so decoding does not invent a replacement char.
                while !body.is_empty()
                    && std::str::from_utf8(&body).is_err_and(|e| e.error_len().is_none())
                {
                    body.pop();
                }
                return Ok((body, true));
            }
            body.extend_from_slice(&chunk);
        }
    }

    async fn read_file(&self, url: &Url) -> Result<Fetched, FetchFailure> {
        let path = url
            .to_file_path()
            .map_err(|()| FetchFailure::Unreadable("not a local path".into()))?;
        let kind = kind_of_path(&path).ok_or_else(|| {
            FetchFailure::UnsupportedContentType(
                path.extension()
                    .and_then(|e| e.to_str())
                    .map_or("no extension".into(), |e| format!(".{e}")),
            )
        })?;
        let max_bytes = self.config.max_bytes;
        let (bytes, truncated) =
            tokio::task::spawn_blocking(move || -> std::io::Result<(Vec<u8>, bool)> {
                use std::io::Read;
                let mut bytes = Vec::new();
                let file = std::fs::File::open(&path)?;
                file.take(max_bytes as u64 + 1).read_to_end(&mut bytes)?;
                let truncated = bytes.len() > max_bytes;
                bytes.truncate(max_bytes);
                Ok((bytes, truncated))
            })
            .await
            .map_err(|e| FetchFailure::Unreadable(e.to_string()))?
            .map_err(|e| FetchFailure::Unreadable(e.to_string()))?;
        if looks_binary(&bytes) {
            return Err(FetchFailure::Binary);
        }
        Ok(Fetched {
            final_url: url.clone(),
            status: 200,
            content_type: match kind {
                ContentKind::Html => "text/html",
                ContentKind::Markdown => "text/markdown",
                ContentKind::PlainText | ContentKind::SourceCode => "text/plain",
            }
            .to_string(),
            kind,
            body: decode(&bytes),
            truncated,
            redirects: 0,
            attempts: 1,
            from_cache: false,
            fetched_at: chrono::Utc::now().timestamp(),
        })
    }
}

/// reqwest's errors repeat the URL; the report already names it.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text
            .replace(&format!(" ({url})"), "")
            .replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.timestamp() - chrono::Utc::now().timestamp();
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}
