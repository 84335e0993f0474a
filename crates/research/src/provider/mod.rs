//! Search providers behind one trait: web search APIs (SearXNG, Brave, Tavily, DuckDuckGo's HTML
//! page) and `local`, a BM25 index over directories. Web base URLs are overridable so tests can
//! point them at 127.0.0.1.

pub mod local;
pub mod web;

use crate::error::ResearchError;
use serde::{Deserialize, Serialize};

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub url: String,
    pub title: String,
    pub snippet: String,
}

/// A source of search results.
#[async_trait::async_trait]
pub trait SearchProvider: Send + Sync {
    /// The provider's name as the user chooses it (`searxng`, `local`...).
    fn name(&self) -> &str;

    /// Whether searching (and fetching what is found) needs the network.
    fn needs_network(&self) -> bool;

    /// The family key of a document this provider found, when the provider knows better than
    /// the URL's site (local files: the top-level directory under the searched path).
    fn site_of(&self, _url: &url::Url) -> Option<String> {
        None
    }

    /// At most `limit` results for `query`, best first.
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, ResearchError>;
}

pub use local::{IndexStats, LocalIndex, LocalProvider};
pub use web::{BraveProvider, DuckDuckGoProvider, SearxngProvider, TavilyProvider};
