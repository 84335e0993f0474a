//! Sub-query planning: the seam where a model may later plan queries. The default planner
//! derives them from the question and, after the first level, from what was found: frequent
//! salient terms of the top passages (pseudo-relevance feedback) and question terms that no
//! good passage covers yet (gaps).

use crate::error::ResearchError;
use crate::strategy::Strategy;
use crate::text::{is_stop_word, terms, words};
use std::collections::{BTreeMap, HashSet};

/// What a planner knows when asked for the next level's sub-queries.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub question: String,
    /// 1-based level being planned.
    pub level: u8,
    pub strategy: Strategy,
    /// Every sub-query already run, in order.
    pub previous_queries: Vec<String>,
    /// The best passages found so far, best first.
    pub top_passages: Vec<String>,
    /// Question terms (normalised) that no good passage contains yet.
    pub uncovered_terms: Vec<String>,
    /// How many sub-queries the level may run.
    pub max_queries: usize,
    /// How many levels the run may have.
    pub levels: Option<u8>,
    /// The documents found so far, in the order they were kept.
    pub found_sources: Vec<FoundSource>,
}

/// A document found so far, as a planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundSource {
    pub title: String,
    pub url: String,
    /// The site (or, for local files, the directory family) it belongs to.
    pub site: String,
}

/// Plans the sub-queries of one level. Return an empty list to stop early.
#[async_trait::async_trait]
pub trait QueryPlanner: Send + Sync {
    async fn plan(&self, request: &PlanRequest) -> Result<Vec<String>, ResearchError>;
}

/// The engine's own planner: no model, deterministic.
#[derive(Debug, Default, Clone, Copy)]
pub struct DerivedPlanner;

/// The question's content words in their original order (no stop words, no duplicates).
fn content_words(question: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    words(question)
        .filter(|w| w.chars().count() > 1 && !is_stop_word(w) && seen.insert(w.clone()))
        .collect()
}

/// Frequent salient terms of passages, weighted by how many passages use them.
pub fn feedback_terms(passages: &[String], exclude: &HashSet<String>, limit: usize) -> Vec<String> {
    let mut weight: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for passage in passages {
        let mut seen = HashSet::new();
        for term in terms(passage) {
            if term.len() < 3 || term.chars().all(|c| c.is_ascii_digit()) || exclude.contains(&term)
            {
                continue;
            }
            let entry = weight.entry(term.clone()).or_default();
            entry.0 += 1;
            if seen.insert(term) {
                entry.1 += 1;
            }
        }
    }
    let mut ranked: Vec<(String, usize, usize)> = weight
        .into_iter()
        .filter(|(_, (_, docs))| *docs >= 2 || passages.len() < 2)
        .map(|(t, (tf, df))| (t, tf, df))
        .collect();
    ranked.sort_by(|a, b| (b.2 * b.1).cmp(&(a.2 * a.1)).then(a.0.cmp(&b.0)));
    ranked.into_iter().take(limit).map(|(t, _, _)| t).collect()
}

#[async_trait::async_trait]
impl QueryPlanner for DerivedPlanner {
    async fn plan(&self, request: &PlanRequest) -> Result<Vec<String>, ResearchError> {
        let core_words = content_words(&request.question);
        let core: Vec<&str> = core_words.iter().take(4).map(String::as_str).collect();
        let mut queries = Vec::new();
        if request.level <= 1 {
            queries.push(request.question.trim().to_string());
            if request.strategy != Strategy::Focused && core_words.len() >= 2 {
                queries.push(core_words.join(" "));
            }
            if request.strategy == Strategy::Exploratory && core_words.len() >= 3 {
                for pair in core_words.windows(2) {
                    queries.push(pair.join(" "));
                }
            }
        } else {
            for gap in &request.uncovered_terms {
                let others: Vec<&str> = core
                    .iter()
                    .copied()
                    .filter(|w| terms(w).first() != Some(gap))
                    .take(2)
                    .collect();
                queries.push(format!("{gap} {}", others.join(" ")).trim().to_string());
            }
            let exclude: HashSet<String> = terms(&request.question)
                .into_iter()
                .chain(request.previous_queries.iter().flat_map(|q| terms(q)))
                .collect();
            for term in feedback_terms(&request.top_passages, &exclude, request.max_queries) {
                queries.push(format!("{} {term}", core.join(" ")));
            }
        }
        let mut seen: HashSet<String> = request
            .previous_queries
            .iter()
            .map(|q| q.to_lowercase())
            .collect();
        queries.retain(|q| !q.is_empty() && seen.insert(q.to_lowercase()));
        queries.truncate(request.max_queries);
        Ok(queries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(level: u8) -> PlanRequest {
        PlanRequest {
            question: "How does the Rust borrow checker handle lifetimes?".into(),
            level,
            strategy: Strategy::Comprehensive,
            previous_queries: vec![],
            top_passages: vec![],
            uncovered_terms: vec![],
            max_queries: 4,
            levels: Some(2),
            found_sources: vec![],
        }
    }

    #[tokio::test]
    async fn first_level_asks_the_question() {
        let queries = DerivedPlanner.plan(&request(1)).await.unwrap();
        assert_eq!(
            queries[0],
            "How does the Rust borrow checker handle lifetimes?"
        );
        assert_eq!(queries[1], "rust borrow checker handle lifetimes");
    }

    #[tokio::test]
    async fn later_levels_follow_feedback_and_gaps() {
        let mut req = request(2);
        req.previous_queries = vec!["How does the Rust borrow checker handle lifetimes?".into()];
        req.uncovered_terms = vec!["lifetime".into()];
        req.top_passages = vec![
            "Non-lexical lifetimes let the borrow checker reason about scopes precisely.".into(),
            "Scopes and regions: the compiler infers regions for every reference.".into(),
            "Regions are computed from scopes in the control-flow graph.".into(),
        ];
        let queries = DerivedPlanner.plan(&req).await.unwrap();
        assert!(queries[0].starts_with("lifetime "), "{queries:?}");
        assert!(
            queries
                .iter()
                .any(|q| q.ends_with(" scope") || q.ends_with(" region")),
            "{queries:?}"
        );
        assert!(queries.len() <= 4);
    }
}
