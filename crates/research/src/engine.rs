//! The pipeline: plan sub-queries per level → search → fetch → extract → deduplicate → score →
//! select passages → synthesize → verify every citation → report.

use crate::bias;
use crate::bm25::{Bm25Index, weighted_terms};
use crate::budget::Ledger;
use crate::canonical_url::{canonical_key, site_key};
use crate::containment::{fold, shingles};
use crate::error::ResearchError;
use crate::extract::{Extracted, Passage, passages};
use crate::families::assign_families;
use crate::fetch::{FetchFailure, Fetched, Fetcher};
use crate::journal::{Journal, JournalEntry, JournalPage};
use crate::planner::{DerivedPlanner, FoundSource, PlanRequest, QueryPlanner};
use crate::provider::local::extract_by_kind;
use crate::provider::{SearchHit, SearchProvider};
use crate::quality::{Quality, QualityConfig, QualityInput};
use crate::quote_match::verbatim;
use crate::report::{Report, SearchRecord, Skipped, SourceEntry, Stats, SubQuery};
use crate::select::{Candidate, mmr};
use crate::simhash::simhash;
use crate::strategy::Strategy;
use crate::synth::{
    ExtractiveSynthesizer, Finding, SynthesisPassage, SynthesisRequest, SynthesisSource,
    Synthesizer,
};
use crate::text::terms;
use cadre_protocol::SecurityProfile;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

/// What to research and how.
#[derive(Debug, Clone)]
pub struct ResearchRequest {
    pub question: String,
    /// 1..=5 rounds of search.
    pub levels: u8,
    pub strategy: Strategy,
    /// The most sources the report keeps.
    pub max_sources: usize,
    /// The security profile the run is under: web providers need one that allows the network.
    pub profile: SecurityProfile,
}

impl ResearchRequest {
    pub fn new(question: impl Into<String>) -> Self {
        ResearchRequest {
            question: question.into(),
            levels: 2,
            strategy: Strategy::Comprehensive,
            max_sources: 10,
            profile: SecurityProfile::NetReadOnly,
        }
    }
}

/// What the engine reports while it runs, for a front end to render.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    LevelStarted {
        level: u8,
        levels: u8,
        queries: Vec<String>,
    },
    Searched {
        query: String,
        results: usize,
    },
    FetchesQueued {
        count: usize,
    },
    Fetched {
        url: String,
        outcome: Result<(), String>,
        /// cadre sent a request for it: false for a page refused before any request (profile,
        /// allowlist, robots.txt) or replayed from the journal.
        requested: bool,
    },
    /// cadre refused to fetch a page itself: its host is not on the network allowlist.
    NetworkDenied {
        url: String,
        host: String,
    },
    /// A level's fetches are done.
    LevelDone {
        level: u8,
        fetched: usize,
        skipped: usize,
    },
    /// A request to the model is about to be sent (not for a call replayed from the journal):
    /// cadre's own network request, for the audit log.
    ModelRequest {
        purpose: String,
    },
    /// A model call answered (or was replayed from the journal of an earlier attempt).
    ModelCall {
        purpose: String,
        replayed: bool,
        /// Tokens spent by the run so far.
        tokens: u64,
        cost_usd: Option<f64>,
    },
    Ranking,
    Synthesizing,
    Finished,
}

pub type ProgressSink = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A fetched document with its extraction: what citations are checked against.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    /// Source id in the report (`S1`...), or `None` when not kept.
    pub id: Option<String>,
    pub url: Url,
    pub final_url: Url,
    pub title: String,
    pub extracted: Extracted,
    /// The extracted text; every quote of this source is a slice of it.
    pub text: String,
    pub passages: Vec<Passage>,
    pub quality: Quality,
    pub site: String,
    pub family: usize,
    fetched: FetchFacts,
    fingerprint: u64,
}

#[derive(Debug, Clone)]
struct FetchFacts {
    fetched_at: i64,
    redirects: u32,
    from_cache: bool,
    truncated: bool,
}

/// The report and the documents behind it.
#[derive(Debug, Clone)]
pub struct ResearchOutcome {
    pub report: Report,
    pub documents: Vec<SourceDocument>,
}

/// The research engine. Providers, planner and synthesizer are swappable.
pub struct Engine {
    provider: Arc<dyn SearchProvider>,
    fetcher: Arc<Fetcher>,
    planner: Arc<dyn QueryPlanner>,
    synthesizer: Arc<dyn Synthesizer>,
    quality: QualityConfig,
    progress: Option<ProgressSink>,
    cancel: CancellationToken,
    journal: Option<Arc<Journal>>,
    ledger: Option<Arc<Ledger>>,
}

/// Per-level working state.
struct Run {
    documents: Vec<SourceDocument>,
    seen_urls: HashSet<String>,
    skipped: Vec<Skipped>,
    searches: Vec<SearchRecord>,
    sub_queries: Vec<SubQuery>,
    stats: Stats,
}

impl Engine {
    pub fn new(provider: Arc<dyn SearchProvider>, fetcher: Arc<Fetcher>) -> Self {
        Engine {
            provider,
            fetcher,
            planner: Arc::new(DerivedPlanner),
            synthesizer: Arc::new(ExtractiveSynthesizer),
            quality: QualityConfig::default(),
            progress: None,
            cancel: CancellationToken::new(),
            journal: None,
            ledger: None,
        }
    }

    /// Journals every step, and answers steps the journal already holds without redoing them.
    pub fn with_journal(mut self, journal: Arc<Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Counts pages against the run's budgets and stops planning when one is near.
    pub fn with_ledger(mut self, ledger: Arc<Ledger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    fn journal(&self, entry: JournalEntry) {
        if let Some(journal) = &self.journal
            && let Err(err) = journal.append(&entry)
        {
            // The run goes on; only its resumability suffers.
            tracing::warn!("{err}");
        }
    }

    pub fn with_planner(mut self, planner: Arc<dyn QueryPlanner>) -> Self {
        self.planner = planner;
        self
    }

    pub fn with_synthesizer(mut self, synthesizer: Arc<dyn Synthesizer>) -> Self {
        self.synthesizer = synthesizer;
        self
    }

    pub fn with_quality(mut self, quality: QualityConfig) -> Self {
        self.quality = quality;
        self
    }

    pub fn with_progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    fn emit(&self, event: Progress) {
        if let Some(sink) = &self.progress {
            sink(&event);
        }
    }

    fn check_cancelled(&self) -> Result<(), ResearchError> {
        if self.cancel.is_cancelled() {
            Err(ResearchError::Cancelled)
        } else {
            Ok(())
        }
    }

    pub async fn run(&self, request: &ResearchRequest) -> Result<ResearchOutcome, ResearchError> {
        let started = Instant::now();
        if self.provider.needs_network()
            && !(request.profile.allows_network() && self.fetcher.config().allow_network)
        {
            return Err(ResearchError::NetworkRefused {
                provider: self.provider.name().to_string(),
                profile: request.profile.to_string(),
            });
        }
        let levels = request.levels.clamp(1, 5);
        let parameters = request.strategy.parameters();
        let mut run = Run {
            documents: Vec::new(),
            seen_urls: HashSet::new(),
            skipped: Vec::new(),
            searches: Vec::new(),
            sub_queries: Vec::new(),
            stats: Stats::default(),
        };
        let question_terms: Vec<String> = {
            let mut seen = HashSet::new();
            terms(&request.question)
                .into_iter()
                .filter(|t| seen.insert(t.clone()))
                .collect()
        };
        let mut levels_run = 0;
        let mut uncovered = question_terms.clone();
        let mut top_passages: Vec<String> = Vec::new();
        for level in 1..=levels {
            self.check_cancelled()?;
            if level > 1
                && let Some(ledger) = &self.ledger
                && let Some(reason) = ledger.planning_stop()
            {
                ledger.note_stop(reason);
                break;
            }
            let plan = PlanRequest {
                question: request.question.clone(),
                level,
                strategy: request.strategy,
                previous_queries: run.sub_queries.iter().map(|q| q.query.clone()).collect(),
                top_passages: top_passages.clone(),
                uncovered_terms: if level == 1 {
                    Vec::new()
                } else {
                    uncovered.clone()
                },
                max_queries: parameters.queries_per_level,
                levels: Some(levels),
                found_sources: run
                    .documents
                    .iter()
                    .map(|d| FoundSource {
                        title: d.title.clone(),
                        url: d.url.to_string(),
                        site: d.site.clone(),
                    })
                    .collect(),
            };
            let queries = self.planner.plan(&plan).await?;
            if queries.is_empty() {
                break;
            }
            self.journal(JournalEntry::Level {
                level,
                queries: queries.clone(),
            });
            levels_run = level;
            self.emit(Progress::LevelStarted {
                level,
                levels,
                queries: queries.clone(),
            });
            run.sub_queries.extend(queries.iter().map(|q| SubQuery {
                level,
                query: q.clone(),
            }));
            let hits = self
                .search_level(level, &queries, parameters.results_per_query, &mut run)
                .await;
            let (fetched_before, skipped_before) = (run.stats.fetched, run.skipped.len());
            self.fetch_level(hits, parameters.fetches_per_level, &mut run)
                .await?;
            // Pages and passages that other pages hold leave before anything is ranked.
            fold_contained(&mut run);
            self.journal(JournalEntry::LevelDone {
                level,
                pages: run.stats.fetched,
            });
            self.emit(Progress::LevelDone {
                level,
                fetched: run.stats.fetched - fetched_before,
                skipped: run.skipped.len() - skipped_before,
            });

            let ranked = rank_passages(&run.documents, &request.question, &run.sub_queries);
            top_passages = ranked
                .iter()
                .take(5)
                .map(|r| run.documents[r.document].passages[r.passage].text.clone())
                .collect();
            uncovered = uncovered_terms(&question_terms, &run.documents, &ranked);
            if parameters.stop_when_covered && uncovered.is_empty() && !run.documents.is_empty() {
                break;
            }
        }
        self.check_cancelled()?;
        self.emit(Progress::Ranking);
        let outcome = self.finish(request, levels_run, run, started).await?;
        self.emit(Progress::Finished);
        Ok(outcome)
    }

    async fn search_level(
        &self,
        level: u8,
        queries: &[String],
        limit: usize,
        run: &mut Run,
    ) -> Vec<SearchHit> {
        let results = futures::future::join_all(queries.iter().map(|q| async move {
            if let Some(hits) = self.journal.as_ref().and_then(|j| j.search(q)) {
                return Ok(hits.clone());
            }
            let found = self.provider.search(q, limit).await;
            if let Ok(hits) = &found {
                self.journal(JournalEntry::Search {
                    query: q.clone(),
                    hits: hits.clone(),
                });
            }
            found
        }))
        .await;
        let mut hits = Vec::new();
        for (query, result) in queries.iter().zip(results) {
            run.stats.searches += 1;
            match result {
                Ok(found) => {
                    self.emit(Progress::Searched {
                        query: query.clone(),
                        results: found.len(),
                    });
                    run.stats.search_results += found.len();
                    run.searches.push(SearchRecord {
                        level,
                        query: query.clone(),
                        results: found.len(),
                        error: None,
                    });
                    hits.extend(found);
                }
                Err(err) => {
                    self.emit(Progress::Searched {
                        query: query.clone(),
                        results: 0,
                    });
                    run.searches.push(SearchRecord {
                        level,
                        query: query.clone(),
                        results: 0,
                        error: Some(err.to_string()),
                    });
                }
            }
        }
        hits
    }

    async fn fetch_level(
        &self,
        hits: Vec<SearchHit>,
        budget: usize,
        run: &mut Run,
    ) -> Result<(), ResearchError> {
        let mut queue: Vec<Url> = Vec::new();
        for hit in hits {
            let Ok(url) = Url::parse(&hit.url) else {
                run.skipped.push(Skipped {
                    url: hit.url.clone(),
                    reason: "not a valid URL".into(),
                });
                continue;
            };
            if !run.seen_urls.insert(canonical_key(&url)) {
                continue;
            }
            if self.quality.is_denied(&url) {
                run.skipped.push(Skipped {
                    url: url.to_string(),
                    reason: "domain is on the deny list".into(),
                });
                continue;
            }
            if queue.len() >= budget {
                run.skipped.push(Skipped {
                    url: url.to_string(),
                    reason: "over this level's fetch budget".into(),
                });
                continue;
            }
            if let Some(ledger) = &self.ledger
                && queue.len() >= ledger.pages_left()
            {
                let limit = ledger.budgets().max_pages.unwrap_or_default();
                ledger.note_stop(format!("the page budget (--max-pages {limit})"));
                run.skipped.push(Skipped {
                    url: url.to_string(),
                    reason: format!("over the run's page budget (--max-pages {limit})"),
                });
                continue;
            }
            queue.push(url);
        }
        self.emit(Progress::FetchesQueued { count: queue.len() });
        let concurrency = self.fetcher.config().global_concurrency.max(1);
        let mut results = futures::stream::iter(
            queue
                .into_iter()
                .map(|url| async move { (url.clone(), self.fetch_journaled(&url).await) }),
        )
        .buffered(concurrency);
        while let Some((url, result)) = results.next().await {
            self.check_cancelled()?;
            if let Some(ledger) = &self.ledger {
                ledger.record_page();
            }
            let (result, requested) = result;
            match result {
                Ok(fetched) => {
                    let outcome = self.accept(url.clone(), fetched, run);
                    self.emit(Progress::Fetched {
                        url: url.to_string(),
                        outcome: outcome.clone(),
                        requested,
                    });
                    if let Err(reason) = outcome {
                        run.skipped.push(Skipped {
                            url: url.to_string(),
                            reason,
                        });
                    }
                }
                Err(reason) => {
                    self.emit(Progress::Fetched {
                        url: url.to_string(),
                        outcome: Err(reason.clone()),
                        requested,
                    });
                    run.skipped.push(Skipped {
                        url: url.to_string(),
                        reason,
                    });
                }
            }
        }
        Ok(())
    }

    /// Fetches a page, or takes it from the journal of an earlier attempt of this run; a page
    /// fetched now (or a failure to) is journaled by its cache key.
    /// The page, from the journal of an earlier attempt or fetched now, and whether a request
    /// was sent for it.
    async fn fetch_journaled(&self, url: &Url) -> (Result<Fetched, String>, bool) {
        let key = canonical_key(url);
        if let Some(recorded) = self.journal.as_ref().and_then(|j| j.page(&key)) {
            let replayed = match recorded {
                Ok(page) => {
                    Url::parse(&page.final_url)
                        .map_err(|e| e.to_string())
                        .map(|final_url| Fetched {
                            final_url,
                            status: page.status,
                            content_type: page.content_type.clone(),
                            kind: page.kind,
                            body: page.body.clone(),
                            truncated: page.truncated,
                            redirects: page.redirects,
                            attempts: page.attempts,
                            from_cache: false,
                            fetched_at: page.fetched_at,
                        })
                }
                Err(reason) => Err(reason.clone()),
            };
            return (replayed, false);
        }
        if self.ledger.as_ref().is_some_and(|l| l.timed_out()) {
            return (
                Err("not fetched: the run's time limit (--timeout) was reached".into()),
                false,
            );
        }
        let fetched = self.fetcher.fetch(url).await;
        let requested = fetched
            .as_ref()
            .err()
            .is_none_or(FetchFailure::was_requested);
        if let Err(FetchFailure::NotOnAllowlist(host)) = &fetched {
            self.emit(Progress::NetworkDenied {
                url: url.to_string(),
                host: host.clone(),
            });
        }
        let result = fetched.map_err(|f| f.to_string());
        if self.journal.is_some() {
            let page = match &result {
                Ok(f) => Ok(JournalPage {
                    final_url: f.final_url.to_string(),
                    status: f.status,
                    content_type: f.content_type.clone(),
                    kind: f.kind,
                    body: f.body.clone(),
                    truncated: f.truncated,
                    redirects: f.redirects,
                    attempts: f.attempts,
                    fetched_at: f.fetched_at,
                }),
                Err(reason) => Err(reason.clone()),
            };
            self.journal(JournalEntry::Page {
                key,
                url: url.to_string(),
                page,
            });
        }
        (result, requested)
    }

    /// Extracts a fetched page and keeps it as a document, or says why not.
    fn accept(&self, url: Url, fetched: Fetched, run: &mut Run) -> Result<(), String> {
        run.stats.fetched += 1;
        run.stats.from_cache += usize::from(fetched.from_cache);
        run.stats.retried += usize::from(fetched.attempts > 1);
        run.stats.redirected += usize::from(fetched.redirects > 0);
        run.stats.truncated += usize::from(fetched.truncated);
        let extracted = extract_by_kind(fetched.kind, &fetched.body);
        if extracted.blocks.is_empty() {
            return Err("extraction found no main content".into());
        }
        // A page reached by redirect or naming a canonical URL may be one already kept.
        let mut keys = vec![canonical_key(&fetched.final_url)];
        if let Some(canonical) = extracted
            .canonical_url
            .as_deref()
            .and_then(|c| fetched.final_url.join(c).ok())
        {
            keys.push(canonical_key(&canonical));
        }
        if let Some(existing) = run.documents.iter().find(|d| {
            keys.contains(&canonical_key(&d.final_url)) || keys.contains(&canonical_key(&d.url))
        }) {
            return Err(format!("same page as {}", existing.final_url));
        }
        for key in keys {
            run.seen_urls.insert(key);
        }
        let text = extracted.text();
        let source_key = canonical_key(&fetched.final_url);
        let passages = passages(&source_key, &extracted);
        let quality = self.quality.assess(&QualityInput {
            url: &fetched.final_url,
            words: extracted.word_count(),
            published: extracted.published.as_deref(),
            author: extracted.author.as_deref(),
            now: chrono::Utc::now().timestamp(),
        });
        let title = extracted.title.clone().unwrap_or_else(|| {
            fetched
                .final_url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or("")
                .to_string()
        });
        run.documents.push(SourceDocument {
            id: None,
            site: self
                .provider
                .site_of(&fetched.final_url)
                .unwrap_or_else(|| site_key(&fetched.final_url)),
            fingerprint: simhash(&text),
            url,
            final_url: fetched.final_url,
            title,
            text,
            passages,
            quality,
            family: 0,
            fetched: FetchFacts {
                fetched_at: fetched.fetched_at,
                redirects: fetched.redirects,
                from_cache: fetched.from_cache,
                truncated: fetched.truncated,
            },
            extracted,
        });
        Ok(())
    }

    async fn finish(
        &self,
        request: &ResearchRequest,
        levels_run: u8,
        mut run: Run,
        started: Instant,
    ) -> Result<ResearchOutcome, ResearchError> {
        let parameters = request.strategy.parameters();
        let documents = &mut run.documents;
        let sites: Vec<String> = documents.iter().map(|d| d.site.clone()).collect();
        let fingerprints: Vec<u64> = documents.iter().map(|d| d.fingerprint).collect();
        for (document, family) in documents
            .iter_mut()
            .zip(assign_families(&sites, &fingerprints))
        {
            document.family = family;
        }
        let qualities: Vec<f64> = documents.iter().map(|d| d.quality.score).collect();
        let ranked = rank_passages(documents, &request.question, &run.sub_queries);
        let weighted: Vec<RankedPassage> = ranked
            .iter()
            .map(|r| RankedPassage {
                score: r.score
                    * (1.0 - parameters.quality_weight
                        + parameters.quality_weight * qualities[r.document]),
                ..*r
            })
            .collect();

        // Keep at most `max_sources` sources: best first, one per family before any second copy.
        let mut best_of_document: HashMap<usize, f64> = HashMap::new();
        for r in &weighted {
            let best = best_of_document.entry(r.document).or_insert(0.0);
            *best = best.max(r.score);
        }
        let mut order: Vec<usize> = best_of_document
            .keys()
            .copied()
            .filter(|d| best_of_document[d] > 0.0)
            .collect();
        order.sort_by(|a, b| {
            best_of_document[b]
                .total_cmp(&best_of_document[a])
                .then(a.cmp(b))
        });
        let mut rank_in_family: HashMap<usize, usize> = HashMap::new();
        let mut keyed: Vec<(usize, usize)> = order
            .iter()
            .map(|&d| {
                let n = rank_in_family.entry(documents[d].family).or_insert(0);
                *n += 1;
                (*n, d)
            })
            .collect();
        keyed.sort_by_key(|(n, _)| *n);
        let kept: Vec<usize> = keyed
            .iter()
            .map(|(_, d)| *d)
            .take(request.max_sources.max(1))
            .collect();
        for (_, d) in keyed.iter().skip(request.max_sources.max(1)) {
            run.skipped.push(Skipped {
                url: documents[*d].url.to_string(),
                reason: format!(
                    "not among the {} best sources (--sources)",
                    request.max_sources
                ),
            });
        }
        let relevant: HashSet<usize> = best_of_document
            .iter()
            .filter(|(_, s)| **s > 0.0)
            .map(|(d, _)| *d)
            .collect();
        for (d, document) in documents.iter().enumerate() {
            if !relevant.contains(&d) {
                run.skipped.push(Skipped {
                    url: document.url.to_string(),
                    reason: "no passage relevant to the question".into(),
                });
            }
        }
        // Family ids follow the kept order so the report reads F1, F2...
        let mut family_names: HashMap<usize, String> = HashMap::new();
        for &d in &kept {
            let next = family_names.len() + 1;
            family_names
                .entry(documents[d].family)
                .or_insert_with(|| format!("F{next}"));
        }
        for (n, &d) in kept.iter().enumerate() {
            documents[d].id = Some(format!("S{}", n + 1));
        }

        // Passage selection over kept sources.
        let kept_set: HashSet<usize> = kept.iter().copied().collect();
        let offered: Vec<&RankedPassage> = weighted
            .iter()
            .filter(|r| kept_set.contains(&r.document))
            .collect();
        let candidates: Vec<Candidate> = offered
            .iter()
            .map(|r| Candidate {
                score: r.score,
                family: documents[r.document].family,
                terms: terms(&documents[r.document].passages[r.passage].text)
                    .into_iter()
                    .collect(),
            })
            .collect();
        let selection_size = (request.max_sources * 2).clamp(4, 24);
        let selected = mmr(
            &candidates,
            selection_size,
            parameters.mmr_lambda,
            parameters.family_penalty,
        );

        self.journal(JournalEntry::Selection {
            sources: kept.iter().map(|&d| documents[d].url.to_string()).collect(),
            passages: selected
                .iter()
                .map(|&i| {
                    let r = offered[i];
                    documents[r.document].passages[r.passage].id.clone()
                })
                .collect(),
        });
        self.emit(Progress::Synthesizing);
        let id_of = |d: usize| documents[d].id.clone().unwrap_or_default();
        let synthesis_request = SynthesisRequest {
            question: request.question.clone(),
            sub_queries: run.sub_queries.iter().map(|q| q.query.clone()).collect(),
            sources: kept
                .iter()
                .map(|&d| SynthesisSource {
                    id: id_of(d),
                    title: documents[d].title.clone(),
                    url: documents[d].url.to_string(),
                    family: family_names[&documents[d].family].clone(),
                    text: documents[d].text.clone(),
                })
                .collect(),
            passages: selected
                .iter()
                .map(|&i| {
                    let r = offered[i];
                    let passage = &documents[r.document].passages[r.passage];
                    SynthesisPassage {
                        source_id: id_of(r.document),
                        passage_id: passage.id.clone(),
                        heading: passage.heading.clone(),
                        text: passage.text.clone(),
                        score: r.score,
                    }
                })
                .collect(),
            max_findings: selection_size,
        };
        let synthesis = self.synthesizer.synthesize(&synthesis_request).await?;
        let texts: HashMap<String, &str> = kept
            .iter()
            .map(|&d| (id_of(d), documents[d].text.as_str()))
            .collect();
        let (findings, rejected) = verify_findings(synthesis.findings, &texts);
        // Sections hold the same sentences as the findings: keep only what survived.
        let sections: Vec<crate::synth::Section> = synthesis
            .sections
            .into_iter()
            .map(|mut section| {
                section.sentences.retain(|s| findings.contains(s));
                section
            })
            .filter(|section| !section.sentences.is_empty())
            .collect();

        let by_id: HashMap<String, usize> = kept.iter().map(|&d| (id_of(d), d)).collect();
        let cited: Vec<(String, String)> = findings
            .iter()
            .flat_map(|f| &f.citations)
            .map(|c| {
                let d = by_id[&c.source_id];
                (
                    documents[d].site.clone(),
                    family_names[&documents[d].family].clone(),
                )
            })
            .collect();
        let bias = bias::assess(&cited);
        let sources: Vec<SourceEntry> = kept
            .iter()
            .map(|&d| {
                let doc = &documents[d];
                SourceEntry {
                    id: id_of(d),
                    url: doc.url.to_string(),
                    final_url: (doc.final_url != doc.url).then(|| doc.final_url.to_string()),
                    title: doc.title.clone(),
                    family: family_names[&doc.family].clone(),
                    site: doc.site.clone(),
                    quality: (doc.quality.score * 100.0).round() / 100.0,
                    quality_signals: doc.quality.signals.clone(),
                    fetched_at: chrono::DateTime::from_timestamp(doc.fetched.fetched_at, 0)
                        .unwrap_or_default()
                        .to_rfc3339(),
                    published: doc.extracted.published.clone(),
                    author: doc.extracted.author.clone(),
                    redirects: doc.fetched.redirects,
                    from_cache: doc.fetched.from_cache,
                    truncated: doc.fetched.truncated,
                    words: doc.extracted.word_count(),
                }
            })
            .collect();
        let mut warnings = Vec::new();
        if run.documents.is_empty() {
            warnings
                .push("no document could be fetched and extracted; see the skipped list".into());
        }
        let mut stats = run.stats;
        stats.skipped = run.skipped.len();
        stats.documents = run.documents.len();
        stats.sources = sources.len();
        stats.families = family_names.len();
        stats.passages = run.documents.iter().map(|d| d.passages.len()).sum();
        stats.selected_passages = selected.len();
        stats.findings = findings.len();
        stats.rejected_citations = rejected;
        stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let report = Report {
            query: request.question.clone(),
            strategy: request.strategy,
            levels: request.levels.clamp(1, 5),
            levels_run,
            provider: self.provider.name().to_string(),
            sub_queries: run.sub_queries,
            summary: synthesis.summary,
            findings,
            sources,
            bias,
            searches: run.searches,
            skipped: run.skipped,
            warnings,
            stats,
            title: synthesis.title,
            sections,
            open_questions: synthesis.open_questions,
            verification: synthesis.verification,
            removed: synthesis.removed,
            run: None,
        };
        Ok(ResearchOutcome {
            report,
            documents: run.documents,
        })
    }
}

/// Folds pages and passages that other pages already hold (see [`crate::containment`]): a
/// compilation or copy leaves the documents, a passage held by a more specific page leaves its
/// page, and each fold is stated in `skipped` and counted in `stats`.
fn fold_contained(run: &mut Run) {
    let shingled: Vec<Vec<Vec<u64>>> = run
        .documents
        .iter()
        .map(|d| d.passages.iter().map(|p| shingles(&p.text)).collect())
        .collect();
    let folding = fold(&shingled);
    let urls: Vec<String> = run.documents.iter().map(|d| d.url.to_string()).collect();
    let url = |d: usize| urls[d].clone();
    let mut dropped: HashMap<usize, (HashSet<usize>, Vec<usize>)> = HashMap::new();
    for &(d, p, holder) in &folding.passages {
        let entry = dropped.entry(d).or_default();
        entry.0.insert(p);
        if !entry.1.contains(&holder) {
            entry.1.push(holder);
        }
    }
    let mut by_page: Vec<_> = dropped.into_iter().collect();
    by_page.sort_by_key(|(d, _)| *d);
    for (d, (passages, holders)) in by_page {
        let total = run.documents[d].passages.len();
        run.skipped.push(Skipped {
            url: url(d),
            reason: format!(
                "{} of its {total} passages folded into {}, which already hold them (passage containment)",
                passages.len(),
                holders.iter().map(|&h| url(h)).collect::<Vec<_>>().join(", ")
            ),
        });
        run.stats.folded_passages += passages.len();
        let mut position = 0;
        run.documents[d].passages.retain(|_| {
            position += 1;
            !passages.contains(&(position - 1))
        });
    }
    let mut gone = HashSet::new();
    for (d, held) in &folding.pages {
        let reason = if held.len() >= 2 {
            format!(
                "a compilation: it holds the passages of {} other pages ({}), each cited from its own page (passage containment)",
                held.len(),
                held.iter().map(|&h| url(h)).collect::<Vec<_>>().join(", ")
            )
        } else {
            format!(
                "a copy of {}: its passages are held there (passage containment)",
                held.iter().map(|&h| url(h)).collect::<Vec<_>>().join(", ")
            )
        };
        run.skipped.push(Skipped {
            url: url(*d),
            reason,
        });
        run.stats.folded_pages += 1;
        gone.insert(*d);
    }
    let mut position = 0;
    run.documents.retain(|_| {
        position += 1;
        !gone.contains(&(position - 1))
    });
}

/// Keeps only citations whose quote is in the cited source's text (whitespace, case, quotes and
/// dashes aside; the kept quote is the source's own words), and only findings left with a
/// citation or flagged. Returns the findings and how many citations were dropped.
pub fn verify_findings(
    findings: Vec<Finding>,
    texts: &HashMap<String, &str>,
) -> (Vec<Finding>, usize) {
    let mut rejected = 0;
    let kept = findings
        .into_iter()
        .filter_map(|mut finding| {
            let before = finding.citations.len();
            finding.citations = std::mem::take(&mut finding.citations)
                .into_iter()
                .filter_map(|c| {
                    let words = verbatim(texts.get(&c.source_id)?, &c.quote)?;
                    Some(crate::synth::Citation {
                        source_id: c.source_id,
                        quote: words.to_string(),
                    })
                })
                .collect();
            rejected += before - finding.citations.len();
            // A flagged sentence is kept, marked, without support (`--on-unsupported flag`).
            (!finding.citations.is_empty() || finding.flag.is_some()).then_some(finding)
        })
        .collect();
    (kept, rejected)
}

#[derive(Debug, Clone, Copy)]
struct RankedPassage {
    document: usize,
    passage: usize,
    score: f64,
}

/// Weight of the share of the query a page's title carries, next to the body's BM25 (0..=1).
const TITLE_WEIGHT: f64 = 1.0;
/// Weight of the share of the query a passage's heading carries.
const HEADING_WEIGHT: f64 = 0.5;

/// BM25F-style score of every passage against the question (full weight) and sub-queries (half
/// weight): the body's BM25 with title and heading matches, normalised to 0..=1, best first;
/// passages whose body scores zero are left out.
fn rank_passages(
    documents: &[SourceDocument],
    question: &str,
    sub_queries: &[SubQuery],
) -> Vec<RankedPassage> {
    let mut owners = Vec::new();
    let mut bodies = Vec::new();
    for (d, document) in documents.iter().enumerate() {
        for (p, passage) in document.passages.iter().enumerate() {
            owners.push((d, p));
            let mut text = passage.text.clone();
            if let Some(heading) = &passage.heading {
                text.push(' ');
                text.push_str(heading);
            }
            bodies.push(terms(&text));
        }
    }
    let index = Bm25Index::new(bodies.iter());
    // A term the question repeats ("the Drop trait's drop method") weighs more.
    let question_counts = terms(question);
    let mut query: Vec<(String, f64)> = weighted_terms(question, 1.0)
        .into_iter()
        .map(|(t, w)| {
            let n = question_counts.iter().filter(|q| **q == t).count();
            (t, w * n.max(1) as f64)
        })
        .collect();
    let question_terms: HashSet<String> = query.iter().map(|(t, _)| t.clone()).collect();
    for sub in sub_queries {
        for (term, _) in weighted_terms(&sub.query, 0.5) {
            if !question_terms.contains(&term) && !query.iter().any(|(t, _)| *t == term) {
                query.push((term, 0.5));
            }
        }
    }
    let body_scores = index.scores(&query);
    let body_max = body_scores
        .iter()
        .copied()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    // BM25F-style fields: the body's BM25, plus how much of the query (by IDF) the page's title
    // and the passage's heading carry. A page whose own topic is the question comes first.
    let weight_of = |t: &str, w: f64| w * index.idf(t);
    let query_mass: f64 = query.iter().map(|(t, w)| weight_of(t, *w)).sum();
    let coverage = |field: &HashSet<String>| {
        if query_mass <= 0.0 {
            return 0.0;
        }
        query
            .iter()
            .filter(|(t, _)| field.contains(t))
            .map(|(t, w)| weight_of(t, *w))
            .sum::<f64>()
            / query_mass
    };
    let titles: Vec<f64> = documents
        .iter()
        .map(|d| coverage(&terms(&d.title).into_iter().collect()))
        .collect();
    let scores: Vec<f64> = owners
        .iter()
        .zip(&body_scores)
        .map(|(&(d, p), body)| {
            if *body <= 0.0 {
                return 0.0;
            }
            let heading = documents[d].passages[p]
                .heading
                .as_deref()
                .map_or(0.0, |h| coverage(&terms(h).into_iter().collect()));
            body / body_max + TITLE_WEIGHT * titles[d] + HEADING_WEIGHT * heading
        })
        .collect();
    let max = scores.iter().copied().fold(0.0, f64::max);
    let mut ranked: Vec<RankedPassage> = owners
        .into_iter()
        .zip(scores)
        .filter(|(_, s)| *s > 0.0)
        .map(|((document, passage), score)| RankedPassage {
            document,
            passage,
            score: score / max,
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.document.cmp(&b.document))
            .then(a.passage.cmp(&b.passage))
    });
    ranked
}

/// Question terms that no good passage (at least a third of the best score) contains.
fn uncovered_terms(
    question_terms: &[String],
    documents: &[SourceDocument],
    ranked: &[RankedPassage],
) -> Vec<String> {
    let good: Vec<HashSet<String>> = ranked
        .iter()
        .filter(|r| r.score >= 1.0 / 3.0)
        .map(|r| {
            terms(&documents[r.document].passages[r.passage].text)
                .into_iter()
                .collect()
        })
        .collect();
    question_terms
        .iter()
        .filter(|t| !good.iter().any(|g| g.contains(*t)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Citation;

    #[test]
    fn unverifiable_citations_are_dropped() {
        let texts = HashMap::from([(
            "S1".to_string(),
            "Each value has one owner. Moves transfer it.",
        )]);
        let findings = vec![
            Finding::new(
                "ok",
                vec![
                    Citation {
                        source_id: "S1".into(),
                        quote: "Each value has one owner.".into(),
                    },
                    Citation {
                        source_id: "S1".into(),
                        quote: "Values have two owners.".into(),
                    },
                    Citation {
                        source_id: "S9".into(),
                        quote: "Each value has one owner.".into(),
                    },
                    Citation {
                        source_id: "S1".into(),
                        quote: "moves  TRANSFER it".into(),
                    },
                ],
            ),
            Finding::new(
                "made up",
                vec![Citation {
                    source_id: "S1".into(),
                    quote: "".into(),
                }],
            ),
        ];
        let (kept, rejected) = verify_findings(findings, &texts);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].citations.len(), 2);
        assert_eq!(kept[0].citations[1].quote, "Moves transfer it");
        assert_eq!(rejected, 3);
    }
}
