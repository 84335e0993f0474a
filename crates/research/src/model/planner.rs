//! Planning with the model: one call per level offering `submit_queries`
//! (`{"queries": [...], "covered": bool, "reason": "..."}`). The engine's own derivation is the
//! fallback whenever the model's answer is unusable, and the report says so.

use super::caller::{CallFailure, ModelCaller};
use crate::error::ResearchError;
use crate::planner::{DerivedPlanner, PlanRequest, QueryPlanner};
use crate::strategy::Strategy;
use cadre_protocol::ToolSpec;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

pub const SUBMIT_QUERIES: &str = "submit_queries";

const INSTRUCTIONS: &str = "You plan searches for a research question. Look at what was found so \
far and the gaps, then call submit_queries once with short, specific search queries that will find \
what is still missing. Never repeat a query already run. Set covered to true only when the passages \
found already answer every part of the question.";

#[derive(Debug, Deserialize)]
struct SubmittedQueries {
    #[serde(default)]
    queries: Vec<String>,
    #[serde(default)]
    covered: bool,
    #[serde(default)]
    reason: String,
}

/// Plans each level with one model call.
pub struct ModelPlanner {
    caller: Arc<ModelCaller>,
}

impl ModelPlanner {
    pub fn new(caller: Arc<ModelCaller>) -> Self {
        ModelPlanner { caller }
    }

    fn tool() -> ToolSpec {
        ToolSpec {
            name: SUBMIT_QUERIES.into(),
            description: "Submit the search queries for the next level of research.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "queries": {"type": "array", "items": {"type": "string"}, "description": "New search queries, most promising first."},
                    "covered": {"type": "boolean", "description": "True when what was found already answers the whole question."},
                    "reason": {"type": "string", "description": "Why these queries (or why the question is covered)."}
                },
                "required": ["queries", "covered", "reason"],
                "additionalProperties": false
            }),
        }
    }

    fn prompt(request: &PlanRequest, levels: &str) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "Question: {}", request.question);
        let guidance = match request.strategy {
            Strategy::Focused => {
                "focused: few, high-quality sources; say covered as soon as the question is answered"
            }
            Strategy::Exploratory => {
                "exploratory: look for angles and kinds of sources (source families) not yet seen"
            }
            Strategy::Comprehensive => "comprehensive: cover every part of the question in depth",
        };
        let _ = writeln!(text, "Strategy: {guidance}");
        let _ = writeln!(
            text,
            "Level {} of {levels}; at most {} queries.",
            request.level, request.max_queries
        );
        if !request.previous_queries.is_empty() {
            let _ = writeln!(text, "\nQueries already run:");
            for q in &request.previous_queries {
                let _ = writeln!(text, "- {q}");
            }
        }
        if !request.found_sources.is_empty() {
            let _ = writeln!(text, "\nSources found so far:");
            for (n, s) in request.found_sources.iter().enumerate() {
                let _ = writeln!(text, "- D{}: {} ({})", n + 1, s.title, s.site);
            }
        }
        if !request.top_passages.is_empty() {
            let _ = writeln!(text, "\nBest passages so far:");
            for (n, p) in request.top_passages.iter().enumerate() {
                let _ = writeln!(text, "[P{}] {}", n + 1, p.replace('\n', " "));
            }
        }
        if !request.uncovered_terms.is_empty() {
            let _ = writeln!(
                text,
                "\nGaps: no good passage mentions {}",
                request.uncovered_terms.join(", ")
            );
        }
        text
    }

    async fn fallback(
        &self,
        request: &PlanRequest,
        why: String,
    ) -> Result<Vec<String>, ResearchError> {
        self.caller.ledger().note(format!(
            "level {}: {why}; the engine's own queries were used",
            request.level
        ));
        self.caller.ledger().record_planning(false);
        DerivedPlanner.plan(request).await
    }
}

#[async_trait::async_trait]
impl QueryPlanner for ModelPlanner {
    async fn plan(&self, request: &PlanRequest) -> Result<Vec<String>, ResearchError> {
        let ledger = self.caller.ledger();
        if let Some(reason) = ledger.planning_stop() {
            if request.level > 1 {
                ledger.note_stop(reason);
                return Ok(Vec::new());
            }
            ledger.note_stop(reason.clone());
            return self
                .fallback(request, format!("no planning call: {reason} is near"))
                .await;
        }
        let key = format!("plan:{}", request.level);
        let levels = request
            .levels
            .map_or_else(|| "?".to_string(), |l| l.to_string());
        let answer = self
            .caller
            .call(
                &key,
                INSTRUCTIONS,
                Self::prompt(request, &levels),
                Self::tool(),
            )
            .await;
        let arguments = match answer {
            Ok(Some(arguments)) => arguments,
            Ok(None) => {
                return self
                    .fallback(request, "the model did not call submit_queries".into())
                    .await;
            }
            Err(CallFailure::Budget(reason)) if request.level > 1 => {
                ledger.note_stop(reason);
                return Ok(Vec::new());
            }
            Err(failure) => return self.fallback(request, failure.to_string()).await,
        };
        let Ok(submitted) = serde_json::from_value::<SubmittedQueries>(arguments) else {
            return self
                .fallback(
                    request,
                    "the model's submit_queries answer did not have the expected shape".into(),
                )
                .await;
        };
        if submitted.covered && request.strategy == Strategy::Focused && request.level > 1 {
            ledger.note(format!(
                "level {}: the model judged the question covered ({})",
                request.level,
                submitted.reason.trim()
            ));
            ledger.record_planning(true);
            return Ok(Vec::new());
        }
        let mut seen: HashSet<String> = request
            .previous_queries
            .iter()
            .map(|q| q.trim().to_lowercase())
            .collect();
        let mut queries: Vec<String> = submitted
            .queries
            .into_iter()
            .map(|q| q.trim().to_string())
            .filter(|q| !q.is_empty() && q.chars().count() <= 300)
            .filter(|q| seen.insert(q.to_lowercase()))
            .collect();
        queries.truncate(request.max_queries);
        if !queries.is_empty() {
            ledger.record_planning(true);
        }
        if queries.is_empty() {
            if submitted.covered && request.strategy == Strategy::Focused {
                ledger.note(format!(
                    "level {}: the model judged the question covered ({})",
                    request.level,
                    submitted.reason.trim()
                ));
                ledger.record_planning(true);
                return Ok(Vec::new());
            }
            return self
                .fallback(request, "the model proposed no new query".into())
                .await;
        }
        Ok(queries)
    }
}
