//! Deep research: the engine with a model on top when one is configured. It wires the
//! [`ModelPlanner`] and [`ModelSynthesizer`] to one [`Ledger`] (budgets) and one [`Journal`]
//! (resume), runs the engine, and marks the report with how the run went.

use crate::budget::{Budgets, Ledger, TokenPrice};
use crate::engine::{Engine, ProgressSink, ResearchOutcome, ResearchRequest};
use crate::error::ResearchError;
use crate::journal::{Journal, RunStatus};
use crate::model::{ModelCaller, ModelPlanner, ModelSynthesizer, OnUnsupported};
use crate::report::{ModelFreeReason, RunInfo};
use crate::strategy::Strategy;
use cadre_model::ModelClient;
use serde::Serialize;
use std::sync::Arc;

/// The model a run uses.
#[derive(Clone)]
pub struct ModelSetup {
    pub client: ModelClient,
    pub model: String,
    pub price: Option<TokenPrice>,
}

/// Everything a deep-research run is told besides the engine's own request.
#[derive(Clone, Default)]
pub struct DeepOptions {
    /// `None` runs model-free; `model_free_reason` then says why.
    pub model: Option<ModelSetup>,
    pub model_free_reason: Option<ModelFreeReason>,
    /// Verifier calls per sentence; `None` is 1, or 3 under `comprehensive`.
    pub verify_votes: Option<usize>,
    pub on_unsupported: OnUnsupported,
    pub budgets: Budgets,
    pub journal: Option<Arc<Journal>>,
    pub progress: Option<ProgressSink>,
}

/// The number of verifier calls per sentence for a strategy unless told otherwise.
pub fn default_votes(strategy: Strategy) -> usize {
    match strategy {
        Strategy::Comprehensive => 3,
        Strategy::Focused | Strategy::Exploratory => 1,
    }
}

/// What `--estimate` prints: the most model calls and pages a run may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Estimate {
    pub planning_calls: usize,
    pub synthesis_calls: usize,
    /// Sentences the report may propose times the votes per sentence.
    pub verification_calls: usize,
    pub model_calls: usize,
    pub pages: usize,
    pub searches: usize,
}

/// The expected (at most) model calls and pages for a strategy, levels and sources.
pub fn estimate(
    strategy: Strategy,
    levels: u8,
    max_sources: usize,
    votes: usize,
    max_pages: Option<usize>,
    with_model: bool,
) -> Estimate {
    let parameters = strategy.parameters();
    let levels = usize::from(levels.clamp(1, 5));
    let pages = (levels * parameters.fetches_per_level).min(max_pages.unwrap_or(usize::MAX));
    // One sentence per selected passage is what the synthesis is asked for at most.
    let sentences = (max_sources * 2).clamp(4, 24);
    let (planning, synthesis, verification) = if with_model {
        (levels, 1, sentences * votes.max(1))
    } else {
        (0, 0, 0)
    };
    Estimate {
        planning_calls: planning,
        synthesis_calls: synthesis,
        verification_calls: verification,
        model_calls: planning + synthesis + verification,
        pages,
        searches: levels * parameters.queries_per_level,
    }
}

/// Runs `engine` (providers and fetcher already set) as a deep-research run.
pub async fn run_deep_research(
    mut engine: Engine,
    request: &ResearchRequest,
    options: DeepOptions,
) -> Result<ResearchOutcome, ResearchError> {
    let ledger = Arc::new(Ledger::new(
        options.budgets,
        options.model.as_ref().and_then(|m| m.price),
    ));
    engine = engine.with_ledger(Arc::clone(&ledger));
    if let Some(journal) = &options.journal {
        engine = engine.with_journal(Arc::clone(journal));
    }
    if let Some(sink) = &options.progress {
        engine = engine.with_progress(Arc::clone(sink));
    }
    if let Some(setup) = &options.model {
        let mut caller = ModelCaller::new(setup.client.clone(), &setup.model, Arc::clone(&ledger));
        if let Some(journal) = &options.journal {
            caller = caller.with_journal(Arc::clone(journal));
        }
        if let Some(sink) = &options.progress {
            caller = caller.with_progress(Arc::clone(sink));
        }
        let caller = Arc::new(caller);
        let votes = options
            .verify_votes
            .unwrap_or_else(|| default_votes(request.strategy));
        engine = engine
            .with_planner(Arc::new(ModelPlanner::new(Arc::clone(&caller))))
            .with_synthesizer(Arc::new(ModelSynthesizer::new(
                caller,
                votes,
                options.on_unsupported,
            )));
    }
    let result = engine.run(request).await;
    let spent = ledger.spent();
    if let Some(journal) = &options.journal
        && let Ok(mut meta) = journal.read_meta()
    {
        meta.status = match &result {
            Ok(_) if ledger.stop_reason().is_some() => RunStatus::Partial,
            Ok(_) => RunStatus::Finished,
            Err(_) => RunStatus::Failed,
        };
        meta.updated_at = chrono::Utc::now().to_rfc3339();
        meta.tokens = spent.tokens;
        meta.cost_usd = spent.cost_usd;
        meta.pages = spent.pages;
        meta.model_calls = spent.model_calls;
        if let Err(err) = journal.write_meta(&meta) {
            tracing::warn!("{err}");
        }
    }
    let mut outcome = result?;
    outcome.report.run = Some(RunInfo {
        id: options
            .journal
            .as_ref()
            .and_then(|j| j.read_meta().ok())
            .map(|m| m.id),
        mode: if options.model.is_some() {
            "model"
        } else {
            "model-free"
        }
        .into(),
        model: options.model.as_ref().map(|m| m.model.clone()),
        model_free_reason: options.model.is_none().then(|| {
            options
                .model_free_reason
                .unwrap_or(ModelFreeReason::NoModelConfigured)
        }),
        authorship: ledger.authorship(),
        partial: ledger.stop_reason(),
        notes: ledger.notes(),
        spent,
        resumes: options
            .journal
            .as_ref()
            .and_then(|j| j.read_meta().ok())
            .map_or(0, |m| m.resumes),
    });
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_counts_calls_and_pages() {
        let e = estimate(Strategy::Focused, 3, 5, 1, Some(10), true);
        assert_eq!(
            (e.planning_calls, e.synthesis_calls, e.verification_calls),
            (3, 1, 10)
        );
        assert_eq!(e.pages, 10);
        let free = estimate(Strategy::Comprehensive, 2, 10, 3, None, false);
        assert_eq!((free.model_calls, free.pages), (0, 32));
    }
}
