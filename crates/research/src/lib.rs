//! cadre's research engine: turns a question into a report whose every claim cites a source
//! that was really fetched and really says it. It owns search providers (SearXNG, Brave,
//! Tavily, DuckDuckGo, and a local BM25 index over directories), polite fetching (robots.txt,
//! limits, retries, an SQLite cache), main-content extraction, deduplication into source
//! families, scoring, passage selection and the report. It works without any model; with one
//! ([`deep::run_deep_research`]) the model plans the sub-queries and writes a synthesis whose
//! every sentence is checked (quote in the source, a verifier's verdict), under token, cost,
//! page and time budgets, with a journal that lets a crashed run resume without fetching a page
//! or repeating a model call twice. It also offers the agent a `research` tool. It knows nothing
//! of the agent loop, the TUI or how the report is shown: progress goes out through a callback.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cadre_research::ResearchError> {
//! use cadre_research::{Engine, FetchConfig, Fetcher, LocalIndex, LocalProvider, ResearchRequest};
//! use std::sync::Arc;
//! let (index, _stats) = LocalIndex::open(&["docs".into()], "/tmp/index".as_ref())?;
//! let fetcher = Arc::new(Fetcher::new(FetchConfig { allow_network: false, ..FetchConfig::default() }, None)?);
//! let engine = Engine::new(Arc::new(LocalProvider::new(index)), fetcher);
//! let mut request = ResearchRequest::new("how are passages ranked?");
//! request.profile = cadre_protocol::SecurityProfile::Offline;
//! let outcome = engine.run(&request).await?;
//! println!("{}", outcome.report.to_markdown());
//! # Ok(()) }
//! ```
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod bias;
pub mod bm25;
pub mod budget;
pub mod canonical_url;
pub mod containment;
pub mod deep;
pub mod engine;
pub mod error;
pub mod extract;
pub mod families;
pub mod fetch;
pub mod journal;
pub mod model;
pub mod planner;
pub mod provider;
pub mod quality;
pub mod quote_match;
pub mod report;
pub mod research_tool;
pub mod select;
pub mod simhash;
pub mod sources;
pub mod strategy;
pub mod synth;
pub mod text;

pub use budget::{Budgets, Ledger, Spent, TokenPrice};
pub use deep::{DeepOptions, Estimate, ModelSetup, estimate, run_deep_research};
pub use engine::{
    Engine, Progress, ProgressSink, ResearchOutcome, ResearchRequest, SourceDocument,
    verify_findings,
};
pub use error::ResearchError;
pub use fetch::cache::FetchCache;
pub use fetch::{FetchConfig, FetchFailure, Fetched, Fetcher};
pub use journal::{Journal, RunMeta, RunStatus, list_runs, new_run_id, resolve_run_id};
pub use model::{ModelPlanner, ModelSynthesizer, OnUnsupported};
pub use planner::{DerivedPlanner, PlanRequest, QueryPlanner};
pub use provider::{
    BraveProvider, DuckDuckGoProvider, IndexStats, LocalIndex, LocalProvider, SearchHit,
    SearchProvider, SearxngProvider, TavilyProvider,
};
pub use quality::QualityConfig;
pub use report::{Authorship, ModelFreeReason, Report};
pub use research_tool::{ResearchTool, ResearchToolConfig, research_tool};
pub use sources::{ProviderKind, Sources, SourcesSetup, open_sources};
pub use strategy::Strategy;
pub use synth::{
    Citation, ExtractiveSynthesizer, Finding, RemovedSentence, Section, Synthesis,
    SynthesisRequest, Synthesizer, Verdict, Verification,
};
/// Re-exported so callers name provider base URLs without depending on `url` themselves.
pub use url;
