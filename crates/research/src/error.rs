//! The research engine's errors: each says what failed, on what, and what to do next.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ResearchError {
    #[error(
        "the `{provider}` search provider needs the network, which the `{profile}` profile forbids; \
         use `--provider local --path DIR`, or a profile with network access such as `net-read-only`"
    )]
    NetworkRefused { provider: String, profile: String },
    #[error(
        "`{0}` is not a search provider; use local (with --path), searxng, brave, tavily or duckduckgo"
    )]
    UnknownProvider(String),
    #[error("the searxng provider needs `--searxng-url URL` (or `research.searxng_url`)")]
    NoSearxngUrl,
    #[error("`{url}` is not a valid URL for a search provider: {reason}")]
    BadProviderUrl { url: String, reason: String },
    #[error(
        "no documents to search under {paths}: the local provider reads text files (Markdown, plain text, source code); point --path at a directory that has some"
    )]
    NoLocalDocuments { paths: String },
    #[error("the `{provider}` provider needs the {variable} environment variable (an API key)")]
    MissingApiKey { provider: String, variable: String },
    #[error("the `local` provider needs at least one directory (`--path DIR`)")]
    NoLocalPaths,
    #[error("`{path}` is not a readable directory: {source}")]
    BadLocalPath {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("search with `{provider}` failed for `{query}`: {reason}")]
    Search {
        provider: String,
        query: String,
        reason: String,
    },
    #[error(
        "the research cache at `{path}` could not be used: {reason}; remove it or pass `--no-cache`"
    )]
    Cache { path: PathBuf, reason: String },
    #[error("the local index at `{path}` could not be written: {source}")]
    Index {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
    #[error("the query planner failed: {0}")]
    Planner(String),
    #[error("the synthesizer failed: {0}")]
    Synthesizer(String),
    #[error("the research journal at `{path}` could not be used: {reason}")]
    Journal { path: PathBuf, reason: String },
    #[error(
        "no research run `{id}` under `{root}`; `cadre deep-research list` shows the runs there"
    )]
    NoSuchRun { id: String, root: PathBuf },
    #[error("the research was cancelled")]
    Cancelled,
}
