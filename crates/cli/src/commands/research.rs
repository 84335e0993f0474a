//! `cadre deep-research`: builds the research engine from flags and configuration (with the
//! configured model when there is one), journals the run under `$CADRE_HOME/research/<id>/`,
//! renders its progress on stderr and writes the report. `--resume <id|last>` continues a run;
//! `cadre deep-research list` shows the runs.

use crate::cli_env::CliEnv;
use anyhow::{Context, bail};
use cadre_core::{Config, ConfigToml};
use cadre_protocol::SecurityProfile;
use cadre_research::{
    BraveProvider, Budgets, DeepOptions, DuckDuckGoProvider, Engine, FetchConfig, Journal,
    ModelFreeReason, ModelSetup, OnUnsupported, Progress, ProviderKind, QualityConfig,
    ResearchRequest, RunMeta, RunStatus, Sources, SourcesSetup, Strategy, TavilyProvider,
    open_sources,
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
    /// Directories on this machine (`--path`): no network. The configured model still plans
    /// and writes the report (`--no-model` for none).
    Local,
}

impl ProviderArg {
    fn parse_name(name: &str) -> Option<Self> {
        <Self as clap::ValueEnum>::from_str(name, true).ok()
    }

    fn kind(self) -> ProviderKind {
        match self {
            ProviderArg::Searxng => ProviderKind::Searxng,
            ProviderArg::Brave => ProviderKind::Brave,
            ProviderArg::Tavily => ProviderKind::Tavily,
            ProviderArg::Duckduckgo => ProviderKind::Duckduckgo,
            ProviderArg::Local => ProviderKind::Local,
        }
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
pub enum OnUnsupportedArg {
    /// Remove a sentence no citation supports.
    Drop,
    /// Keep it, visibly marked.
    Flag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Markdown,
    /// The Markdown report, which reads as plain text.
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ResearchArgs {
    /// The question to research (`list` shows earlier runs with their status and cost).
    #[arg(required_unless_present = "resume")]
    pub question: Option<String>,

    /// Continue a crashed or interrupted run (`last` for the most recent) without fetching a
    /// page or repeating a model call its journal holds.
    #[arg(long, value_name = "ID|last", conflicts_with = "question")]
    pub resume: Option<String>,

    /// Run without a model even when one is configured.
    #[arg(long)]
    pub no_model: bool,

    /// Verifier calls per sentence; the majority decides (default 1, 3 under comprehensive).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=9))]
    pub verify_votes: Option<u8>,

    /// What to do with a sentence left without a supported citation.
    #[arg(long, value_enum, default_value_t = OnUnsupportedArg::Drop)]
    pub on_unsupported: OnUnsupportedArg,

    /// Stop planning when the model's tokens near N; the report is then partial.
    #[arg(long, value_name = "N")]
    pub budget_tokens: Option<u64>,

    /// Stop planning when the cost nears X US dollars (needs the model in `model_prices`).
    #[arg(long, value_name = "X")]
    pub budget_usd: Option<f64>,

    /// Fetch at most N pages in the whole run.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<usize>,

    /// Wall-clock limit of the run: `90`, `90s`, `5m`, `1h`.
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    pub timeout: Option<Duration>,

    /// Print the expected number of model calls and pages, and run nothing.
    #[arg(long)]
    pub estimate: bool,

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

/// Wraps the arguments so a journaled command line can be parsed again on `--resume`.
#[derive(clap::Parser)]
struct StoredCommand {
    #[command(flatten)]
    args: ResearchArgs,
}

/// The command line after `deep-research`, as given.
fn own_arguments() -> Vec<String> {
    let all: Vec<String> = std::env::args().collect();
    all.iter()
        .position(|a| a == "deep-research")
        .map_or_else(Vec::new, |i| all[i + 1..].to_vec())
}

fn runs_dir(config: &Config) -> PathBuf {
    config.cadre_home.join("research")
}

fn list(config: &Config) -> anyhow::Result<u8> {
    let runs = cadre_research::list_runs(&runs_dir(config));
    let mut stdout = std::io::stdout().lock();
    if runs.is_empty() {
        writeln!(
            stdout,
            "no research runs under {}",
            runs_dir(config).display()
        )?;
        return Ok(0);
    }
    writeln!(
        stdout,
        "{:<22} {:<9} {:>7} {:>9} {:>6} {:>5}  question",
        "id", "status", "calls", "tokens", "pages", "cost"
    )?;
    for run in runs {
        let cost = run
            .cost_usd
            .map_or_else(|| "-".to_string(), |c| format!("${c:.4}"));
        let status = match run.status {
            RunStatus::Running => "unfinished",
            other => other.as_str(),
        };
        writeln!(
            stdout,
            "{:<22} {:<9} {:>7} {:>9} {:>6} {:>5}  {}",
            run.id, status, run.model_calls, run.tokens, run.pages, cost, run.question
        )?;
    }
    Ok(0)
}

pub fn run(args: ResearchArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let json = matches!(args.format, FormatArg::Json);
    let result = run_command(args, env);
    if json
        && let Err(error) = &result
        && !crate::closed_stdout::is_broken_pipe(error)
    {
        crate::render::failure::print("deep-research", error);
    }
    result
}

fn run_command(args: ResearchArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let config = env.load_config(None, ConfigToml::default())?;
    if args.question.as_deref() == Some("list") && args.resume.is_none() {
        return list(&config);
    }
    let root = runs_dir(&config);
    let (args, journal) = match &args.resume {
        Some(wanted) => {
            let id = cadre_research::resolve_run_id(&root, wanted)?;
            let (journal, mut meta) = Journal::open(&root, &id)?;
            let stored: Vec<String> = serde_json::from_value(meta.settings.clone())
                .context("the run's journal does not hold its command line")?;
            let parsed = <StoredCommand as clap::Parser>::try_parse_from(
                std::iter::once("deep-research".to_string()).chain(stored),
            )
            .context("the run's journaled command line no longer parses")?;
            meta.resumes += 1;
            meta.status = RunStatus::Running;
            meta.updated_at = chrono::Utc::now().to_rfc3339();
            journal.write_meta(&meta)?;
            eprintln!(
                "resuming research run {id}: {} journaled steps",
                journal.replayed_entries()
            );
            (parsed.args, Some(journal))
        }
        None => (args, None),
    };
    run_with(args, env, &config, journal)
}

fn run_with(
    args: ResearchArgs,
    env: &CliEnv,
    config: &Config,
    resumed: Option<Journal>,
) -> anyhow::Result<u8> {
    let question = args
        .question
        .clone()
        .context("a question is needed (or `--resume ID`)")?;
    if question.trim().is_empty() {
        bail!(
            "the question is empty: say what to research, e.g. `cadre deep-research \"how are releases rolled back?\" --path docs`"
        );
    }
    let provider_choice = match args.provider {
        Some(p) => p,
        None if !args.paths.is_empty() => ProviderArg::Local,
        None => match config.research.provider.clone() {
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
            provider: provider_choice.kind().as_str().to_string(),
            profile: profile.to_string(),
        }
        .into());
    }
    let strategy = match args.strategy {
        StrategyArg::Comprehensive => Strategy::Comprehensive,
        StrategyArg::Focused => Strategy::Focused,
        StrategyArg::Exploratory => Strategy::Exploratory,
    };
    let (model, model_free_reason) = if args.no_model {
        (None, Some(ModelFreeReason::NoModelFlag))
    } else {
        match cadre_model::ModelClient::new(config.provider.clone()) {
            Ok(client) => (
                Some(ModelSetup {
                    client,
                    model: config.model.clone(),
                    price: config.model_price(),
                }),
                None,
            ),
            // Nobody chose a provider: the default one not being set up is no news, and the
            // report's method line says the model-free engine ran.
            Err(_) if config.merged.model_provider.is_none() => {
                (None, Some(ModelFreeReason::NoModelConfigured))
            }
            Err(err) => {
                eprintln!(
                    "model provider `{}` cannot be used ({err}); running the model-free engine",
                    config.provider_id
                );
                (None, Some(ModelFreeReason::ProviderUnusable))
            }
        }
    };
    if args.budget_usd.is_some() && model.as_ref().is_some_and(|m| m.price.is_none()) {
        bail!(
            "--budget-usd needs the price of `{}`: add [model_prices.\"{}\"] with input_per_mtok and output_per_mtok to config.toml",
            config.model,
            config.model
        );
    }
    let votes = args
        .verify_votes
        .map(usize::from)
        .unwrap_or_else(|| cadre_research::deep::default_votes(strategy));
    if args.estimate {
        let e = cadre_research::estimate(
            strategy,
            args.levels,
            args.sources.max(1),
            votes,
            args.max_pages,
            model.is_some(),
        );
        let mut stdout = std::io::stdout().lock();
        match &model {
            Some(m) => writeln!(stdout, "model: {}", m.model)?,
            None => writeln!(
                stdout,
                "model: none ({})",
                match model_free_reason {
                    Some(ModelFreeReason::NoModelFlag) => "--no-model",
                    Some(ModelFreeReason::ProviderUnusable) => "the provider cannot be used",
                    Some(ModelFreeReason::NoModelConfigured) | None => "none is configured",
                }
            )?,
        }
        writeln!(
            stdout,
            "strategy {strategy}, {} levels: at most {} model calls ({} planning, {} synthesis, {} verification at {votes} per sentence), {} searches, {} pages",
            args.levels,
            e.model_calls,
            e.planning_calls,
            e.synthesis_calls,
            e.verification_calls,
            e.searches,
            e.pages
        )?;
        return Ok(0);
    }
    let Sources { provider, fetcher } = open_sources(SourcesSetup {
        provider: provider_choice.kind(),
        profile,
        paths: args.paths.clone(),
        searxng_url: args
            .searxng_url
            .clone()
            .or_else(|| config.research.searxng_url.clone()),
        brave_url: Some(args.brave_url.clone()),
        tavily_url: Some(args.tavily_url.clone()),
        duckduckgo_url: Some(args.duckduckgo_url.clone()),
        research_dir: config.cadre_home.join("cache").join("research"),
        cache_ttl: (!args.no_cache).then(|| config.research_cache_ttl()),
        fetch: FetchConfig {
            timeout: Duration::from_secs(args.fetch_timeout.max(1)),
            allowlist: config.network_allowlist(),
            ..FetchConfig::default()
        },
    })?;
    let request = ResearchRequest {
        question: question.clone(),
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
    let engine = Engine::new(provider, fetcher).with_quality(quality);
    let journal = match resumed {
        Some(journal) => journal,
        None => {
            let meta = RunMeta::starting(
                cadre_research::new_run_id(),
                question.clone(),
                serde_json::to_value(own_arguments())?,
            );
            let journal = Journal::create(&runs_dir(config), &meta)?;
            eprintln!(
                "research run {} (journal {})",
                meta.id,
                journal.dir().display()
            );
            journal
        }
    };
    let bars = std::io::stderr().is_terminal().then(ProgressBars::new);
    let show: cadre_research::ProgressSink = match bars.clone() {
        Some(bars) => Arc::new(move |event| bars.show(event)),
        None => Arc::new(print_progress),
    };
    let run_id = journal
        .dir()
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let audit = env.app.audit_sink(config, &run_id);
    let model_url = config.provider.base_url.clone();
    let sink: cadre_research::ProgressSink = Arc::new(move |event| {
        cadre_app::audit_research_requests(&*audit, &model_url, event);
        show(event)
    });
    let options = DeepOptions {
        model,
        model_free_reason,
        verify_votes: Some(votes),
        on_unsupported: match args.on_unsupported {
            OnUnsupportedArg::Drop => OnUnsupported::Drop,
            OnUnsupportedArg::Flag => OnUnsupported::Flag,
        },
        budgets: Budgets {
            tokens: args.budget_tokens,
            usd: args.budget_usd,
            max_pages: args.max_pages,
            timeout: args.timeout,
        },
        journal: Some(Arc::new(journal)),
        progress: Some(sink),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(cadre_research::run_deep_research(engine, &request, options));
    if let Some(bars) = &bars {
        bars.clear();
    }
    let report = outcome?.report;
    let rendered = match args.format {
        FormatArg::Markdown | FormatArg::Text => report.to_markdown(),
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

/// Progress on stderr as plain lines, when stderr is not a terminal.
fn print_progress(event: &Progress) {
    match event {
        Progress::LevelStarted {
            level,
            levels,
            queries,
        } => eprintln!(
            "level {level}/{levels}: {} queries: {}",
            queries.len(),
            queries.join(" | ")
        ),
        Progress::LevelDone {
            level,
            fetched,
            skipped,
        } => eprintln!("level {level} done: {fetched} pages fetched, {skipped} skipped"),
        Progress::ModelCall {
            purpose,
            replayed,
            tokens,
            cost_usd,
        } => {
            let cost = cost_usd.map_or_else(String::new, |c| format!(", ${c:.4}"));
            let from = if *replayed { " (from the journal)" } else { "" };
            eprintln!("model {purpose}{from}: {tokens} tokens so far{cost}");
        }
        Progress::Synthesizing => eprintln!("writing the synthesis"),
        _ => {}
    }
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
            Progress::NetworkDenied { host, .. } => self
                .fetches
                .set_message(format!("{host}: not on the network allowlist")),
            Progress::LevelDone {
                level,
                fetched,
                skipped,
            } => self.step.set_message(format!(
                "level {level} done: {fetched} fetched, {skipped} skipped"
            )),
            Progress::ModelCall {
                purpose,
                tokens,
                cost_usd,
                ..
            } => {
                let cost = cost_usd.map_or_else(String::new, |c| format!(", ${c:.4}"));
                self.step
                    .set_message(format!("model {purpose}: {tokens} tokens{cost}"));
            }
            Progress::ModelRequest { purpose } => self
                .step
                .set_message(format!("model {purpose}: waiting for the answer")),
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
