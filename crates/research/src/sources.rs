//! Where a run searches and how it fetches: the one place that turns a provider's name into a
//! search provider, opens the fetch cache, refuses web providers under a profile without the
//! network, and looks up API keys, for the `deep-research` command and the `research` tool
//! alike.

use crate::error::ResearchError;
use crate::fetch::cache::FetchCache;
use crate::fetch::{FetchConfig, Fetcher};
use crate::provider::{
    BraveProvider, DuckDuckGoProvider, LocalIndex, LocalProvider, SearchProvider, SearxngProvider,
    TavilyProvider,
};
use cadre_protocol::SecurityProfile;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// A search provider by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// Directories on this machine: no network.
    Local,
    Searxng,
    Brave,
    Tavily,
    Duckduckgo,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Local => "local",
            ProviderKind::Searxng => "searxng",
            ProviderKind::Brave => "brave",
            ProviderKind::Tavily => "tavily",
            ProviderKind::Duckduckgo => "duckduckgo",
        }
    }
}

impl std::str::FromStr for ProviderKind {
    type Err = ResearchError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "local" => ProviderKind::Local,
            "searxng" => ProviderKind::Searxng,
            "brave" => ProviderKind::Brave,
            "tavily" => ProviderKind::Tavily,
            "duckduckgo" => ProviderKind::Duckduckgo,
            _ => return Err(ResearchError::UnknownProvider(name.to_string())),
        })
    }
}

/// What a run needs to know to open its sources.
#[derive(Debug, Clone)]
pub struct SourcesSetup {
    pub provider: ProviderKind,
    /// Decides whether the web may be used at all.
    pub profile: SecurityProfile,
    /// The directories the local provider reads.
    pub paths: Vec<PathBuf>,
    /// The SearXNG instance (needed by `searxng`).
    pub searxng_url: Option<String>,
    /// Other base URLs than the providers' own (a test server, a proxy).
    pub brave_url: Option<String>,
    pub tavily_url: Option<String>,
    pub duckduckgo_url: Option<String>,
    /// `$CADRE_HOME/cache/research`: the fetch cache and the local index.
    pub research_dir: PathBuf,
    /// How long a fetched page stays fresh; `None` fetches everything anew, keeping nothing.
    pub cache_ttl: Option<Duration>,
    /// The fetcher's limits; `allow_network` is set from the profile.
    pub fetch: FetchConfig,
}

/// A run's search provider and fetcher.
pub struct Sources {
    pub provider: Arc<dyn SearchProvider>,
    pub fetcher: Arc<Fetcher>,
}

/// Opens the sources a setup names. Blocking: the local provider indexes its directories.
pub fn open_sources(setup: SourcesSetup) -> Result<Sources, ResearchError> {
    let allows_network = setup.profile.allows_network();
    if setup.provider != ProviderKind::Local && !allows_network {
        return Err(ResearchError::NetworkRefused {
            provider: setup.provider.as_str().to_string(),
            profile: setup.profile.to_string(),
        });
    }
    let cache = setup
        .cache_ttl
        .map(|ttl| FetchCache::open(&setup.research_dir.join("fetch.sqlite3"), ttl))
        .transpose()?;
    let fetcher = Arc::new(Fetcher::new(
        FetchConfig {
            allow_network: allows_network,
            ..setup.fetch
        },
        cache,
    )?);
    let client = fetcher.client().clone();
    let base = |given: Option<&String>, default: &str| -> Result<Url, ResearchError> {
        let text = given.map_or(default, String::as_str);
        let with_slash = format!("{}/", text.trim_end_matches('/'));
        Url::parse(&with_slash).map_err(|e| ResearchError::BadProviderUrl {
            url: text.to_string(),
            reason: e.to_string(),
        })
    };
    let provider: Arc<dyn SearchProvider> = match setup.provider {
        ProviderKind::Local => {
            let (index, stats) =
                LocalIndex::open(&setup.paths, &setup.research_dir.join("local-index"))?;
            if stats.files == 0 {
                return Err(ResearchError::NoLocalDocuments {
                    paths: setup
                        .paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            Arc::new(LocalProvider::new(index))
        }
        ProviderKind::Searxng => {
            let url = setup
                .searxng_url
                .as_ref()
                .ok_or(ResearchError::NoSearxngUrl)?;
            Arc::new(SearxngProvider::new(client, base(Some(url), "")?))
        }
        ProviderKind::Brave => Arc::new(BraveProvider::new(
            client,
            base(setup.brave_url.as_ref(), BraveProvider::DEFAULT_BASE)?,
            api_key("BRAVE_API_KEY", "brave")?,
        )),
        ProviderKind::Tavily => Arc::new(TavilyProvider::new(
            client,
            base(setup.tavily_url.as_ref(), TavilyProvider::DEFAULT_BASE)?,
            api_key("TAVILY_API_KEY", "tavily")?,
        )),
        ProviderKind::Duckduckgo => Arc::new(DuckDuckGoProvider::new(
            client,
            base(
                setup.duckduckgo_url.as_ref(),
                DuckDuckGoProvider::DEFAULT_BASE,
            )?,
        )),
    };
    Ok(Sources { provider, fetcher })
}

/// A web provider's key from cadre's own environment (commands never see it).
fn api_key(variable: &str, provider: &str) -> Result<String, ResearchError> {
    std::env::var(variable)
        .ok()
        .filter(|key| !key.trim().is_empty())
        .ok_or_else(|| ResearchError::MissingApiKey {
            provider: provider.to_string(),
            variable: variable.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(provider: ProviderKind, profile: SecurityProfile) -> SourcesSetup {
        SourcesSetup {
            provider,
            profile,
            paths: Vec::new(),
            searxng_url: None,
            brave_url: None,
            tavily_url: None,
            duckduckgo_url: None,
            research_dir: std::env::temp_dir().join("cadre-sources-test"),
            cache_ttl: None,
            fetch: FetchConfig::default(),
        }
    }

    fn refusal(setup: SourcesSetup) -> ResearchError {
        match open_sources(setup) {
            Err(err) => err,
            Ok(_) => panic!("the sources opened"),
        }
    }

    #[test]
    fn web_providers_are_refused_without_the_network_before_any_key_is_read() {
        let err = refusal(setup(ProviderKind::Brave, SecurityProfile::Offline));
        assert!(matches!(err, ResearchError::NetworkRefused { .. }), "{err}");
        let err = refusal(setup(ProviderKind::Searxng, SecurityProfile::NetReadOnly));
        assert!(matches!(err, ResearchError::NoSearxngUrl), "{err}");
    }

    #[test]
    fn a_directory_without_documents_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut empty = setup(ProviderKind::Local, SecurityProfile::Offline);
        empty.paths = vec![dir.path().to_path_buf()];
        empty.research_dir = dir.path().join("state");
        let err = refusal(empty);
        assert!(
            matches!(err, ResearchError::NoLocalDocuments { .. }),
            "{err}"
        );
    }

    #[test]
    fn provider_names_parse_without_regard_to_case() {
        assert_eq!(
            "SearXNG".parse::<ProviderKind>().unwrap(),
            ProviderKind::Searxng
        );
        assert!("bing".parse::<ProviderKind>().is_err());
    }
}
