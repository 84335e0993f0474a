//! Retrieval evaluation: runs `cadre deep-research` (local provider, no model) on each question
//! of a gold file over a documentation corpus, runs a page-level BM25 baseline on the same
//! questions, and prints both side by side.
//!
//! Usage: research_eval <cadre binary> <corpus dir> <gold.toml> <all-in-one page, relative>
//! (`bench/research-eval.sh` prepares the corpus and calls it.)

use cadre_research::bm25::{Bm25Index, weighted_terms};
use cadre_research::extract::extract_html;
use cadre_research::text::{sentences, terms};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Deserialize)]
struct Gold {
    question: Vec<Question>,
}

#[derive(Deserialize)]
struct Question {
    q: String,
    gold: String,
}

/// One system's answer to one question: the cited pages (relative paths) in citation order,
/// with their quotes.
struct Answer {
    citations: Vec<(String, String)>,
    elapsed: Duration,
}

// ---- The baseline: page-level BM25, the best sentence of each of the top pages. ----------

const BASELINE_PAGES: usize = 8;

struct Baseline {
    pages: Vec<(String, String)>,
    index: Bm25Index,
}

impl Baseline {
    fn new(corpus: &Path, files: &[String]) -> Baseline {
        let pages: Vec<(String, String)> = files
            .iter()
            .map(|f| {
                let html = std::fs::read_to_string(corpus.join(f)).unwrap_or_default();
                (f.clone(), extract_html(&html).text())
            })
            .collect();
        let index = Bm25Index::new(pages.iter().map(|(_, text)| terms(text)));
        Baseline { pages, index }
    }

    fn answer(&self, question: &str) -> Answer {
        let started = Instant::now();
        let query = weighted_terms(question, 1.0);
        let wanted: HashSet<String> = query.iter().map(|(t, _)| t.clone()).collect();
        let mut ranked: Vec<(usize, f64)> =
            self.index.scores(&query).into_iter().enumerate().collect();
        ranked.retain(|(_, s)| *s > 0.0);
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let citations = ranked
            .iter()
            .take(BASELINE_PAGES)
            .filter_map(|&(page, _)| {
                let (path, text) = &self.pages[page];
                let best = sentences(text)
                    .into_iter()
                    .max_by_key(|s| terms(s).into_iter().filter(|t| wanted.contains(t)).count())?;
                Some((path.clone(), best.to_string()))
            })
            .collect();
        Answer {
            citations,
            elapsed: started.elapsed(),
        }
    }
}

// ---- The engine under test. ---------------------------------------------------------------

fn engine_answer(cadre: &Path, corpus: &Path, cache: &Path, question: &str) -> Answer {
    let started = Instant::now();
    let output = std::process::Command::new(cadre)
        .args([
            "deep-research",
            "--provider",
            "local",
            "--strategy",
            "focused",
        ])
        .args([
            "--levels",
            "2",
            "--sources",
            "8",
            "--format",
            "json",
            "--no-model",
        ])
        .arg("--path")
        .arg(corpus)
        .arg(question)
        .env("CADRE_HOME", cache)
        .stderr(std::process::Stdio::null())
        .output()
        .expect("cadre runs");
    let elapsed = started.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    let root = std::fs::canonicalize(corpus).unwrap_or_else(|_| corpus.to_path_buf());
    let path_of = |id: &str| -> String {
        report["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["id"] == id)
            .and_then(|s| s["url"].as_str())
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.to_file_path().ok())
            .and_then(|p| p.strip_prefix(&root).ok().map(Path::to_path_buf))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let citations = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["citations"].as_array().into_iter().flatten())
        .map(|c| {
            (
                path_of(c["source_id"].as_str().unwrap_or_default()),
                c["quote"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Answer { citations, elapsed }
}

// ---- Scoring. -----------------------------------------------------------------------------

#[derive(Default)]
struct Figures {
    gold_cited: usize,
    gold_first: usize,
    duplicate_citations: usize,
    quotes: usize,
    valid_quotes: usize,
    times: Vec<Duration>,
}

impl Figures {
    fn add(
        &mut self,
        answer: &Answer,
        gold: &str,
        all_in_one: &str,
        texts: &dyn Fn(&str) -> String,
    ) {
        self.gold_cited += usize::from(answer.citations.iter().any(|(p, _)| p == gold));
        self.gold_first += usize::from(answer.citations.first().is_some_and(|(p, _)| p == gold));
        self.duplicate_citations += answer
            .citations
            .iter()
            .filter(|(p, _)| p == all_in_one)
            .count();
        for (page, quote) in &answer.citations {
            self.quotes += 1;
            self.valid_quotes +=
                usize::from(!quote.is_empty() && texts(page).contains(quote.as_str()));
        }
        self.times.push(answer.elapsed);
    }

    fn median_ms(&self) -> f64 {
        let mut times = self.times.clone();
        times.sort();
        times
            .get(times.len() / 2)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

fn html_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            html_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(
                path.strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, cadre, corpus, gold, all_in_one] = args.as_slice() else {
        eprintln!("usage: research_eval <cadre> <corpus dir> <gold.toml> <all-in-one page>");
        std::process::exit(2);
    };
    let (cadre, corpus) = (Path::new(cadre), Path::new(corpus));
    let gold: Gold = toml::from_str(&std::fs::read_to_string(gold).expect("gold file"))
        .expect("gold file parses");
    let mut files = Vec::new();
    html_files(corpus, corpus, &mut files);
    let texts = |page: &str| {
        extract_html(&std::fs::read_to_string(corpus.join(page)).unwrap_or_default()).text()
    };
    let cache = tempfile::tempdir().expect("temp dir");
    let mut query_times = Vec::new();
    let (mut engine_figures, mut baseline_figures) = (Figures::default(), Figures::default());
    for (n, question) in gold.question.iter().enumerate() {
        let engine = engine_answer(cadre, corpus, cache.path(), &question.q);
        // Like the engine, which runs as a fresh process, the baseline pays for its index on
        // every question: it reads and indexes every page, then ranks them.
        let fresh = Instant::now();
        let baseline = Baseline::new(corpus, &files);
        let index_time = fresh.elapsed();
        let mut naive = baseline.answer(&question.q);
        query_times.push(naive.elapsed);
        naive.elapsed += index_time;
        let first = |a: &Answer| a.citations.first().map_or("-".to_string(), |c| c.0.clone());
        println!(
            "Q{:<2} gold {:<36} engine first {:<36} baseline first {}",
            n + 1,
            question.gold,
            first(&engine),
            first(&naive)
        );
        engine_figures.add(&engine, &question.gold, all_in_one, &texts);
        baseline_figures.add(&naive, &question.gold, all_in_one, &texts);
    }
    let total = gold.question.len();
    println!();
    println!("{:<34} {:>14} {:>14}", "", "engine", "BM25 baseline");
    let row = |name: &str, a: String, b: String| println!("{name:<34} {a:>14} {b:>14}");
    let (e, b) = (&engine_figures, &baseline_figures);
    row(
        "gold cited",
        format!("{}/{total}", e.gold_cited),
        format!("{}/{total}", b.gold_cited),
    );
    row(
        "gold cited first",
        format!("{}/{total}", e.gold_first),
        format!("{}/{total}", b.gold_first),
    );
    row(
        "all-in-one page citations",
        e.duplicate_citations.to_string(),
        b.duplicate_citations.to_string(),
    );
    row(
        "quotes verbatim in their source",
        format!("{}/{}", e.valid_quotes, e.quotes),
        format!("{}/{}", b.valid_quotes, b.quotes),
    );
    row(
        "median time per question (ms)",
        format!("{:.0}", e.median_ms()),
        format!("{:.0}", b.median_ms()),
    );
    let ranking_only = Figures {
        times: query_times,
        ..Figures::default()
    };
    println!(
        "(engine: a whole `cadre deep-research` process with its cached index; baseline: \
         reading and indexing the {} pages, then ranking; its ranking alone: {:.1} ms)",
        files.len(),
        ranking_only.median_ms()
    );
}
