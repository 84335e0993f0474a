//! The report: serde types (the JSON format) and the Markdown rendering.

use crate::bias::BiasReport;
use crate::strategy::Strategy;
use crate::synth::Finding;
use serde::{Deserialize, Serialize};
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
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

impl Report {
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Research: {}\n", self.query);
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
        if let Some(summary) = &self.summary {
            let _ = writeln!(out, "{summary}\n");
        }
        for warning in self.bias.warnings.iter().chain(&self.warnings) {
            let _ = writeln!(out, "> **Warning:** {warning}\n");
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
            let _ = writeln!(out, "{}. {} {}", n + 1, finding.text, ids.join(""));
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
        let _ = writeln!(
            out,
            "\n## Evidence balance\n\nCited families: {}, sites: {}; concentration (HHI) by family {:.2}, by site {:.2}.",
            self.bias.families, self.bias.domains, self.bias.family_hhi, self.bias.domain_hhi
        );
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
        out
    }
}
