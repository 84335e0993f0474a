//! cadre's research engine: turns a question into a report whose every claim cites a source
//! that was really fetched and really says it. It owns search providers (SearXNG, Brave,
//! Tavily, DuckDuckGo, and a local BM25 index over directories), polite fetching (robots.txt,
//! limits, retries, an SQLite cache), main-content extraction, deduplication into source
//! families, scoring, passage selection and the report. It works without any model; a model
//! can plug in through two seams, [`QueryPlanner`] and [`Synthesizer`]. It knows nothing of the
//! agent loop, the TUI or how the report is shown: progress goes out through a callback.
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
pub mod canonical_url;
pub mod engine;
pub mod error;
pub mod extract;
pub mod families;
pub mod fetch;
pub mod planner;
pub mod provider;
pub mod quality;
pub mod report;
pub mod select;
pub mod simhash;
pub mod strategy;
pub mod synth;
pub mod text;

pub use engine::{
    Engine, Progress, ProgressSink, ResearchOutcome, ResearchRequest, SourceDocument,
    verify_findings,
};
pub use error::ResearchError;
pub use fetch::cache::FetchCache;
pub use fetch::{FetchConfig, FetchFailure, Fetched, Fetcher};
pub use planner::{DerivedPlanner, PlanRequest, QueryPlanner};
pub use provider::{
    BraveProvider, DuckDuckGoProvider, IndexStats, LocalIndex, LocalProvider, SearchHit,
    SearchProvider, SearxngProvider, TavilyProvider,
};
pub use quality::QualityConfig;
pub use report::Report;
pub use strategy::Strategy;
pub use synth::{
    Citation, ExtractiveSynthesizer, Finding, Synthesis, SynthesisRequest, Synthesizer,
};
/// Re-exported so callers name provider base URLs without depending on `url` themselves.
pub use url;
