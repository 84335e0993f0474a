//! `cadre deep-research`: builds the research engine from flags and configuration, renders its
//! progress on stderr and writes the report.

use crate::cli_env::CliEnv;
use anyhow::{Context, bail};
use cadre_protocol::SecurityProfile;
use cadre_research::url::Url;
use cadre_research::{
    BraveProvider, DuckDuckGoProvider, Engine, FetchCache, FetchConfig, Fetcher, LocalIndex,
    LocalProvider, Progress, QualityConfig, ResearchRequest, SearchProvider, SearxngProvider,
    Strategy, TavilyProvider,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    /// A SearXNG instance's JSON API (`--searxng-url`).
    Searxng,
    /// Brave Search API (BRAVE_API_KEY).
    Brave,
    /// Tavily (TAVILY_API_KEY).
    Tavily,
    /// DuckDuckGo's HTML results page.
    Duckduckgo,
    /// Directories on this machine (`--path`): no network, no model.
    Local,
}

impl ProviderArg {
    fn parse_name(name: &str) -> Option<Self> {
        <Self as clap::ValueEnum>::from_str(name, true).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// Wide: several sub-queries per level, many sources.
    Comprehensive,
    /// Few high-quality sources; stops when every question term is covered.
    Focused,
    /// Wide, favouring many different sites.
    Exploratory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Markdown,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ResearchArgs {
    /// The question to research.
    pub question: String,

    /// Rounds of search; each derives new sub-queries from what the previous one found.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub levels: u8,

    #[arg(long, value_enum, default_value_t = StrategyArg::Comprehensive)]
    pub strategy: StrategyArg,

    /// The most sources the report keeps.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub sources: usize,

    /// Where to search. Defaults to `local` when `--path` is given, else to `research.provider`
    /// from `-c`.
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,

    /// Base URL of a SearXNG instance (its JSON format must be enabled).
    #[arg(long, value_name = "URL", env = "CADRE_SEARXNG_URL")]
    pub searxng_url: Option<String>,

    /// Base URL of the Brave Search API.
    #[arg(long, value_name = "URL", hide = true, default_value = BraveProvider::DEFAULT_BASE)]
    pub brave_url: String,

    /// Base URL of the Tavily API.
    #[arg(long, value_name = "URL", hide = true, default_value = TavilyProvider::DEFAULT_BASE)]
    pub tavily_url: String,

    /// Base URL of DuckDuckGo's HTML search.
    #[arg(long, value_name = "URL", hide = true, default_value = DuckDuckGoProvider::DEFAULT_BASE)]
    pub duckduckgo_url: String,

    /// A directory for the `local` provider (repeatable).
    #[arg(long = "path", value_name = "DIR")]
    pub paths: Vec<PathBuf>,

    /// Security profile: `offline` forbids web providers. Default: `offline` for `local`,
    /// `net-read-only` otherwise.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    #[arg(long, value_enum, default_value_t = FormatArg::Markdown)]
    pub format: FormatArg,

    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Neither read nor write the fetch cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Per-page fetch timeout in seconds.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub fetch_timeout: u64,

    /// Prefer sources on this domain (repeatable).
    #[arg(long = "allow-domain", value_name = "DOMAIN")]
    pub allow_domains: Vec<String>,

    /// Never fetch or cite this domain (repeatable).
    #[arg(long = "deny-domain", value_name = "DOMAIN")]
    pub deny_domains: Vec<String>,
}

/// `research.KEY=VALUE` from the `-c` overrides (quotes around the value are dropped).
fn config_value(env: &CliEnv, key: &str) -> Option<String> {
    env.overrides.iter().rev().find_map(|o| {
        let (k, v) = o.split_once('=')?;
        (k.trim() == format!("research.{key}")).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// `$CADRE_HOME` (default `~/.cadre`) `/cache/research`.
fn cache_dir() -> anyhow::Result<PathBuf> {
    let home = match std::env::var_os("CADRE_HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home),
        _ => PathBuf::from(std::env::var_os("HOME").context("neither CADRE_HOME nor HOME is set")?)
            .join(".cadre"),
    };
    Ok(home.join("cache").join("research"))
}

fn base_url(text: &str, flag: &str) -> anyhow::Result<Url> {
    let with_slash = if text.ends_with('/') {
        text.to_string()
    } else {
        format!("{text}/")
    };
    Url::parse(&with_slash).with_context(|| format!("`{text}` is not a valid URL for {flag}"))
}

fn api_key(variable: &str, provider: &str) -> anyhow::Result<String> {
    match std::env::var(variable) {
        Ok(key) if !key.trim().is_empty() => Ok(key),
        _ => Err(cadre_research::ResearchError::MissingApiKey {
            provider: provider.into(),
            variable: variable.into(),
        }
        .into()),
    }
}

pub fn run(args: ResearchArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let provider_choice = match args.provider {
        Some(p) => p,
        None if !args.paths.is_empty() => ProviderArg::Local,
        None => match config_value(env, "provider") {
            Some(name) => ProviderArg::parse_name(&name)
                .with_context(|| format!("research.provider `{name}` is not one of searxng, brave, tavily, duckduckgo, local"))?,
            None => bail!(
                "choose where to search: `--provider local --path DIR` (no network needed), or `--provider searxng \
                 --searxng-url URL`, `brave`, `tavily`, `duckduckgo`"
            ),
        },
    };
    let profile: SecurityProfile = match &args.profile {
        Some(name) => name.parse().map_err(anyhow::Error::msg)?,
        None if provider_choice == ProviderArg::Local => SecurityProfile::Offline,
        None => SecurityProfile::NetReadOnly,
    };
    if provider_choice != ProviderArg::Local && !profile.allows_network() {
        return Err(cadre_research::ResearchError::NetworkRefused {
            provider: format!("{provider_choice:?}").to_lowercase(),
            profile: profile.to_string(),
        }
        .into());
    }
    let cache_dir = cache_dir()?;
    let cache = if args.no_cache {
        None
    } else {
        Some(FetchCache::open(
            &cache_dir.join("fetch.sqlite3"),
            Duration::from_secs(24 * 3600),
        )?)
    };
    let fetch_config = FetchConfig {
        timeout: Duration::from_secs(args.fetch_timeout.max(1)),
        allow_network: profile.allows_network(),
        ..FetchConfig::default()
    };
    let fetcher = Arc::new(Fetcher::new(fetch_config, cache)?);
    let client = fetcher.client().clone();
    let provider: Arc<dyn SearchProvider> = match provider_choice {
        ProviderArg::Local => {
            let (index, _) = LocalIndex::open(&args.paths, &cache_dir.join("local-index"))?;
            Arc::new(LocalProvider::new(index))
        }
        ProviderArg::Searxng => {
            let url = args
                .searxng_url
                .clone()
                .or_else(|| config_value(env, "searxng_url"))
                .context("the searxng provider needs `--searxng-url URL` (or CADRE_SEARXNG_URL)")?;
            Arc::new(SearxngProvider::new(
                client,
                base_url(&url, "--searxng-url")?,
            ))
        }
        ProviderArg::Brave => Arc::new(BraveProvider::new(
            client,
            base_url(&args.brave_url, "--brave-url")?,
            api_key("BRAVE_API_KEY", "brave")?,
        )),
        ProviderArg::Tavily => Arc::new(TavilyProvider::new(
            client,
            base_url(&args.tavily_url, "--tavily-url")?,
            api_key("TAVILY_API_KEY", "tavily")?,
        )),
        ProviderArg::Duckduckgo => Arc::new(DuckDuckGoProvider::new(
            client,
            base_url(&args.duckduckgo_url, "--duckduckgo-url")?,
        )),
    };
    let strategy = match args.strategy {
        StrategyArg::Comprehensive => Strategy::Comprehensive,
        StrategyArg::Focused => Strategy::Focused,
        StrategyArg::Exploratory => Strategy::Exploratory,
    };
    let request = ResearchRequest {
        question: args.question.clone(),
        levels: args.levels,
        strategy,
        max_sources: args.sources.max(1),
        profile,
    };
    let quality = QualityConfig {
        allow_domains: args.allow_domains.clone(),
        deny_domains: args.deny_domains.clone(),
        ..QualityConfig::default()
    };
    let mut engine = Engine::new(provider, fetcher).with_quality(quality);
    let bars = std::io::stderr().is_terminal().then(ProgressBars::new);
    if let Some(bars) = bars.clone() {
        engine = engine.with_progress(Arc::new(move |event| bars.show(event)));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(engine.run(&request));
    if let Some(bars) = &bars {
        bars.clear();
    }
    let report = outcome?.report;
    let rendered = match args.format {
        FormatArg::Markdown => report.to_markdown(),
        FormatArg::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    match &args.output {
        Some(path) => std::fs::write(path, rendered)
            .with_context(|| format!("writing the report to {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(rendered.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(0)
}

/// Progress on stderr: a spinner for the current step and a bar for the level's fetches.
#[derive(Clone)]
struct ProgressBars {
    step: ProgressBar,
    fetches: ProgressBar,
}

impl ProgressBars {
    fn new() -> Self {
        let multi = MultiProgress::new();
        let step = multi.add(ProgressBar::new_spinner());
        step.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        step.enable_steady_tick(Duration::from_millis(120));
        let fetches = multi.add(ProgressBar::new(0));
        fetches.set_style(
            ProgressStyle::with_template("  fetch [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        ProgressBars { step, fetches }
    }

    fn show(&self, event: &Progress) {
        match event {
            Progress::LevelStarted {
                level,
                levels,
                queries,
            } => {
                self.step.set_message(format!(
                    "level {level}/{levels}: searching {} queries",
                    queries.len()
                ));
            }
            Progress::Searched { query, results } => self
                .step
                .set_message(format!("searched `{query}`: {results} results")),
            Progress::FetchesQueued { count } => {
                self.fetches.set_length(*count as u64);
                self.fetches.set_position(0);
            }
            Progress::Fetched { url, .. } => {
                self.fetches.inc(1);
                self.fetches.set_message(url.clone());
            }
            Progress::Ranking => self.step.set_message("ranking passages"),
            Progress::Synthesizing => self.step.set_message("writing findings"),
            Progress::Finished => self.step.set_message("done"),
        }
    }

    fn clear(&self) {
        self.fetches.finish_and_clear();
        self.step.finish_and_clear();
    }
}
