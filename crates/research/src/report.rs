//! The report: serde types (the JSON format) and the Markdown rendering.

use crate::bias::BiasReport;
use crate::budget::Spent;
use crate::strategy::Strategy;
use crate::synth::{Finding, RemovedSentence, Section, Verification};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubQuery {
    pub level: u8,
    pub query: String,
}

/// One search that was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRecord {
    pub level: u8,
    pub query: String,
    pub results: usize,
    /// Set when the search itself failed.
    pub error: Option<String>,
}

/// A source kept for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// `S1`, `S2`... in rank order.
    pub id: String,
    /// The URL as found (a local file's `file://` URL).
    pub url: String,
    /// Where redirects ended, when different.
    pub final_url: Option<String>,
    pub title: String,
    /// `F1`, `F2`...: sources of one family are one voice.
    pub family: String,
    /// The site (registrable domain) the source is on.
    pub site: String,
    pub quality: f64,
    pub quality_signals: Vec<String>,
    /// RFC 3339.
    pub fetched_at: String,
    pub published: Option<String>,
    pub author: Option<String>,
    pub redirects: u32,
    pub from_cache: bool,
    pub truncated: bool,
    pub words: usize,
}

/// A URL that yielded no source, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub url: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub searches: usize,
    pub search_results: usize,
    pub fetched: usize,
    pub from_cache: usize,
    pub retried: usize,
    pub redirected: usize,
    pub truncated: usize,
    pub skipped: usize,
    pub documents: usize,
    pub sources: usize,
    pub families: usize,
    pub passages: usize,
    pub selected_passages: usize,
    pub findings: usize,
    /// Citations a synthesizer offered whose quote was not in the source: dropped.
    pub rejected_citations: usize,
    /// Pages folded whole because other pages hold their passages (compilations, copies).
    #[serde(default)]
    pub folded_pages: usize,
    /// Passages folded into a more specific page that holds them too.
    #[serde(default)]
    pub folded_passages: usize,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub query: String,
    pub strategy: Strategy,
    pub levels: u8,
    /// Levels actually run (a focused search may stop early).
    pub levels_run: u8,
    pub provider: String,
    pub sub_queries: Vec<SubQuery>,
    pub summary: Option<String>,
    pub findings: Vec<Finding>,
    pub sources: Vec<SourceEntry>,
    pub bias: BiasReport,
    pub searches: Vec<SearchRecord>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    pub stats: Stats,
    /// The title a model gave the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The model's sections, holding the same sentences as `findings`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_questions: Vec<String>,
    /// The verification pass, when a model wrote the synthesis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Sentences removed (or kept marked), and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<RemovedSentence>,
    /// How the run went: its id, whether a model took part, budgets, cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunInfo>,
}

/// The run behind a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The journal id (`--resume <id>`), when the run was journaled.
    pub id: Option<String>,
    /// `model` or `model-free`.
    pub mode: String,
    pub model: Option<String>,
    /// Why no model took part, in model-free mode.
    pub model_free_reason: Option<ModelFreeReason>,
    /// What the model really did, in model mode: the report's method line says only that.
    #[serde(default)]
    pub authorship: Authorship,
    /// Set when a budget stopped the run early: which one.
    pub partial: Option<String>,
    /// Fallbacks taken and other things the reader should know.
    pub notes: Vec<String>,
    pub spent: Spent,
    /// How many times the run was resumed.
    pub resumes: u32,
}

/// Why a run had no model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelFreeReason {
    /// `--no-model`.
    NoModelFlag,
    /// No model provider is configured.
    NoModelConfigured,
    /// A provider is configured but could not be used (the front end said why).
    ProviderUnusable,
}

/// Which parts of a report a model produced, counted as they happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorship {
    /// Levels whose queries the model submitted (or that it judged covered).
    pub levels_planned_by_model: usize,
    /// Levels planned with the engine's own queries because the model's plan was unusable.
    pub levels_planned_by_engine: usize,
    /// The model submitted the report (its sentences were then checked).
    pub written_by_model: bool,
}

impl Authorship {
    /// The start of the method line for a run with `model`.
    fn describe(&self, model: &str) -> String {
        let levels = self.levels_planned_by_model + self.levels_planned_by_engine;
        let planned_all = self.levels_planned_by_model > 0 && self.levels_planned_by_engine == 0;
        match (self.levels_planned_by_model, self.written_by_model) {
            _ if planned_all && self.written_by_model => {
                format!("Planned and written by `{model}`; every sentence checked. ")
            }
            (0, true) => format!(
                "Written by `{model}` from the engine's own queries; every sentence checked. "
            ),
            (by_model, true) => format!(
                "Written by `{model}`, which planned {by_model} of {levels} levels; every sentence checked. "
            ),
            (0, false) => format!(
                "`{model}` neither planned nor wrote this report (see the notes): the engine's own \
                 queries and quoted sentences. "
            ),
            (by_model, false) => format!(
                "Planned by `{model}` ({by_model} of {levels} levels); the findings are quoted \
                 sentences, not written by the model. "
            ),
        }
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

impl Report {
    /// Source ids in order of first use by the findings, numbered from 1.
    pub fn citation_numbers(&self) -> HashMap<String, usize> {
        let mut numbers = HashMap::new();
        for citation in self.findings.iter().flat_map(|f| &f.citations) {
            let next = numbers.len() + 1;
            numbers.entry(citation.source_id.clone()).or_insert(next);
        }
        numbers
    }

    fn write_run(&self, out: &mut String) {
        let Some(run) = &self.run else { return };
        match &run.model {
            Some(model) => out.push_str(&run.authorship.describe(model)),
            None => out.push_str(
                "Model-free engine: queries derived from the question, findings quoted from the sources. ",
            ),
        }
        let spent = &run.spent;
        let _ = write!(
            out,
            "{} model calls ({} replayed from the journal), {} tokens",
            spent.model_calls, spent.replayed_calls, spent.tokens
        );
        if let Some(cost) = spent.cost_usd {
            let _ = write!(out, ", ${cost:.4}");
        }
        let _ = write!(out, ", {} pages", spent.pages);
        if let Some(id) = &run.id {
            let _ = write!(out, "; run `{id}`");
        }
        let _ = writeln!(out, ".\n");
        if let Some(partial) = &run.partial {
            let _ = writeln!(
                out,
                "> **Partial report:** stopped by {partial}; the synthesis was written from what had been found.\n"
            );
        }
        for note in &run.notes {
            let _ = writeln!(out, "> **Note:** {note}\n");
        }
    }

    fn write_sentence(out: &mut String, finding: &Finding, numbers: &HashMap<String, usize>) {
        let marks: String = finding
            .citations
            .iter()
            .filter_map(|c| numbers.get(&c.source_id))
            .map(|n| format!("[{n}]"))
            .collect();
        match &finding.flag {
            Some(reason) => {
                let _ = writeln!(out, "- {} **[unsupported: {reason}]**", finding.text);
            }
            None => {
                let _ = writeln!(out, "- {} {marks}", finding.text);
            }
        }
    }

    fn write_verification(&self, out: &mut String) {
        let Some(v) = &self.verification else { return };
        let _ = writeln!(out, "\n## Verification\n");
        let _ = writeln!(
            out,
            "Sentences proposed {}, kept {}, kept marked {}, removed {}. Citations proposed {}, checked (quote found) {}, kept {}, removed {}; citation precision {:.2}. {} verifier calls ({} per sentence).",
            v.sentences_proposed,
            v.sentences_kept,
            v.sentences_flagged,
            v.sentences_removed,
            v.citations_proposed,
            v.citations_checked,
            v.citations_kept,
            v.citations_removed,
            v.citation_precision,
            v.verifier_calls,
            v.votes_per_sentence
        );
        if !self.removed.is_empty() {
            let _ = writeln!(out);
            for r in &self.removed {
                let what = if r.flagged {
                    "marked"
                } else if r.reason.starts_with("kept") {
                    "kept"
                } else {
                    "removed"
                };
                let _ = writeln!(out, "- {what}: \"{}\": {}", r.text, r.reason);
                for c in &r.removed_citations {
                    let _ = writeln!(
                        out,
                        "  - citation {} \"{}\": {}",
                        c.source_id, c.quote, c.reason
                    );
                }
            }
        }
    }

    fn write_model_body(&self, out: &mut String) {
        let numbers = self.citation_numbers();
        for section in &self.sections {
            let _ = writeln!(out, "## {}\n", section.heading);
            for finding in &section.sentences {
                Self::write_sentence(out, finding, &numbers);
            }
            let _ = writeln!(out);
        }
        let in_sections: usize = self.sections.iter().map(|s| s.sentences.len()).sum();
        if in_sections < self.findings.len() {
            let _ = writeln!(out, "## Findings\n");
            for finding in &self.findings {
                if !self.sections.iter().any(|s| s.sentences.contains(finding)) {
                    Self::write_sentence(out, finding, &numbers);
                }
            }
            let _ = writeln!(out);
        }
        if self.findings.is_empty() {
            let _ = writeln!(out, "No sentence could be backed by a fetched source.\n");
        }
        if !self.open_questions.is_empty() {
            let _ = writeln!(out, "## Open questions\n");
            for q in &self.open_questions {
                let _ = writeln!(out, "- {q}");
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "## Sources\n");
        let mut cited: Vec<(&usize, &SourceEntry)> = self
            .sources
            .iter()
            .filter_map(|s| numbers.get(&s.id).map(|n| (n, s)))
            .collect();
        cited.sort_by_key(|(n, _)| **n);
        for (n, s) in &cited {
            let _ = writeln!(
                out,
                "[{n}] {} <{}>: family {} ({}), quality {:.2}",
                s.title, s.url, s.family, s.site, s.quality
            );
        }
        let uncited: Vec<&SourceEntry> = self
            .sources
            .iter()
            .filter(|s| !numbers.contains_key(&s.id))
            .collect();
        if !uncited.is_empty() {
            let _ = writeln!(out, "\nAlso read (not cited):\n");
            for s in uncited {
                let _ = writeln!(out, "- {} <{}>: family {}", s.title, s.url, s.family);
            }
        }
        self.write_verification(out);
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        match &self.title {
            Some(title) => {
                let _ = writeln!(out, "# {title}\n\nQuestion: {}\n", self.query);
            }
            None => {
                let _ = writeln!(out, "# Research: {}\n", self.query);
            }
        }
        let _ = writeln!(
            out,
            "Strategy **{}**, {} of {} levels, provider `{}`, {} sources in {} families.\n",
            self.strategy,
            self.levels_run,
            self.levels,
            self.provider,
            self.sources.len(),
            self.stats.families
        );
        self.write_run(&mut out);
        if let Some(summary) = &self.summary {
            let _ = writeln!(out, "{summary}\n");
        }
        for warning in self.bias.warnings.iter().chain(&self.warnings) {
            let _ = writeln!(out, "> **Warning:** {warning}\n");
        }
        if !self.sections.is_empty() || self.verification.is_some() {
            self.write_model_body(&mut out);
            self.write_balance_and_method(&mut out);
            return out;
        }
        let _ = writeln!(out, "## Findings\n");
        if self.findings.is_empty() {
            let _ = writeln!(out, "No finding could be backed by a fetched source.\n");
        }
        for (n, finding) in self.findings.iter().enumerate() {
            let ids: Vec<String> = finding
                .citations
                .iter()
                .map(|c| format!("[{}]", c.source_id))
                .collect();
            let mark = finding
                .flag
                .as_ref()
                .map(|reason| format!(" **[unsupported: {reason}]**"))
                .unwrap_or_default();
            let _ = writeln!(out, "{}. {} {}{mark}", n + 1, finding.text, ids.join(""));
            for citation in &finding.citations {
                if citation.quote != finding.text {
                    let _ = writeln!(out, "   > [{}] \"{}\"", citation.source_id, citation.quote);
                }
            }
        }
        let _ = writeln!(out, "\n## Sources\n");
        let _ = writeln!(
            out,
            "| id | title | family | quality | url |\n|---|---|---|---|---|"
        );
        for s in &self.sources {
            let _ = writeln!(
                out,
                "| {} | {} | {} ({}) | {:.2} | {} |",
                s.id,
                cell(&s.title),
                s.family,
                cell(&s.site),
                s.quality,
                s.url
            );
        }
        let _ = writeln!(out, "\nQuality signals:\n");
        for s in &self.sources {
            let _ = writeln!(out, "- {}: {}", s.id, s.quality_signals.join(", "));
        }
        self.write_verification(&mut out);
        self.write_balance_and_method(&mut out);
        out
    }

    fn write_balance_and_method(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n## Evidence balance\n\nCited families: {}, sites: {}; concentration (HHI) by family {:.2}, by site {:.2}.",
            self.bias.families, self.bias.domains, self.bias.family_hhi, self.bias.domain_hhi
        );
        if self.provider == "local" {
            let _ = writeln!(
                out,
                "\nFor local files a family is a top-level directory under a searched path (files directly in the path form one family of their own), joined with any file whose text nearly duplicates it: files of one directory tend to share an author and a point of view."
            );
        }
        let _ = writeln!(out, "\n## Method\n\nSearched:\n");
        for search in &self.searches {
            match &search.error {
                Some(error) => {
                    let _ = writeln!(
                        out,
                        "- level {}: `{}`: failed ({error})",
                        search.level, search.query
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "- level {}: `{}`: {} results",
                        search.level, search.query, search.results
                    );
                }
            }
        }
        let st = &self.stats;
        let _ = writeln!(
            out,
            "\nFetched {} documents ({} from cache, {} retried, {} redirected, {} cut at the size limit); kept {} sources; selected {} of {} passages.",
            st.fetched,
            st.from_cache,
            st.retried,
            st.redirected,
            st.truncated,
            st.sources,
            st.selected_passages,
            st.passages
        );
        if !self.skipped.is_empty() {
            let _ = writeln!(out, "\nSkipped:\n");
            for skipped in &self.skipped {
                let _ = writeln!(out, "- {}: {}", skipped.url, skipped.reason);
            }
        }
    }
}
