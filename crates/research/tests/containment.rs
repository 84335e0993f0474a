//! Containment folding and the tie-break between a chapter and a compilation, end to end over a
//! local directory: the compilation has a neutral name, so only its content can give it away.

use cadre_protocol::SecurityProfile;
use cadre_research::{
    Engine, FetchConfig, Fetcher, LocalIndex, LocalProvider, ResearchOutcome, ResearchRequest,
    Strategy,
};
use std::path::Path;
use std::sync::Arc;

const OWNERSHIP: &str = "<h1>Ownership</h1>
<p>Ownership is the set of rules that decides when a value is freed and who may use it.</p>
<p>Each value in Rust has exactly one owner, and the value is dropped when its owner goes out of
scope at the end of the block.</p>
<p>Assigning a value to another variable moves the ownership, and the old variable can no
longer be used afterwards.</p>";

const BORROWING: &str = "<h1>Borrowing</h1>
<p>A reference borrows a value without taking its ownership away from the owner.</p>
<p>Many shared references or exactly one mutable reference may exist at the same time, and the
borrow checker enforces that rule at compile time.</p>";

const INTRODUCTION: &str = "<h1>Introduction</h1>
<p>This book walks through the language one chapter at a time, with runnable examples on every
page and exercises at the end of each chapter.</p>";

fn page(title: &str, main: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{title}</title></head><body><nav>Contents</nav>\
         <main>{main}</main></body></html>"
    )
}

async fn research(dir: &Path, question: &str) -> ResearchOutcome {
    let cache = tempfile::tempdir().unwrap();
    let (index, _) = LocalIndex::open(&[dir.to_path_buf()], cache.path()).unwrap();
    let config = FetchConfig {
        allow_network: false,
        ..FetchConfig::default()
    };
    let fetcher = Arc::new(Fetcher::new(config, None).unwrap());
    let engine = Engine::new(Arc::new(LocalProvider::new(index)), fetcher);
    let mut request = ResearchRequest::new(question);
    request.profile = SecurityProfile::Offline;
    request.strategy = Strategy::Focused;
    request.max_sources = 8;
    engine.run(&request).await.unwrap()
}

fn cited_files(outcome: &ResearchOutcome) -> Vec<String> {
    let report = &outcome.report;
    report
        .findings
        .iter()
        .flat_map(|f| &f.citations)
        .map(|c| {
            let source = report.sources.iter().find(|s| s.id == c.source_id).unwrap();
            source.url.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_page_made_of_two_others_is_folded_and_never_cited() {
    let docs = tempfile::tempdir().unwrap();
    let dir = docs.path();
    std::fs::write(dir.join("ownership.html"), page("Ownership", OWNERSHIP)).unwrap();
    std::fs::write(dir.join("borrowing.html"), page("Borrowing", BORROWING)).unwrap();
    let all = format!("{INTRODUCTION}{OWNERSHIP}{BORROWING}");
    std::fs::write(dir.join("p7.html"), page("The Book", &all)).unwrap();

    let outcome = research(
        dir,
        "What is ownership and how does borrowing relate to it?",
    )
    .await;
    let report = &outcome.report;
    let cited = cited_files(&outcome);
    assert!(!cited.is_empty(), "{}", report.to_markdown());
    assert!(!cited.iter().any(|f| f == "p7.html"), "{cited:?}");
    assert!(!report.sources.iter().any(|s| s.url.ends_with("/p7.html")));
    assert_eq!(report.stats.folded_pages, 1, "{:?}", report.stats);
    let skipped = report
        .skipped
        .iter()
        .find(|s| s.url.ends_with("/p7.html"))
        .expect("the compilation is listed as skipped");
    assert!(skipped.reason.contains("compilation"), "{skipped:?}");
    assert!(skipped.reason.contains("ownership.html") && skipped.reason.contains("borrowing.html"));
}

#[tokio::test]
async fn the_specific_page_wins_over_a_compilation() {
    let docs = tempfile::tempdir().unwrap();
    let dir = docs.path();
    std::fs::write(dir.join("ownership.html"), page("Ownership", OWNERSHIP)).unwrap();
    // The compilation holds only one other page here, so it stays a source; the passage they
    // share is cited from the chapter alone.
    let all = format!("{INTRODUCTION}{OWNERSHIP}{BORROWING}");
    std::fs::write(dir.join("p7.html"), page("The Book", &all)).unwrap();

    let outcome = research(dir, "What is ownership?").await;
    let report = &outcome.report;
    let cited = cited_files(&outcome);
    assert_eq!(
        cited.first().map(String::as_str),
        Some("ownership.html"),
        "{cited:?}"
    );
    assert!(report.stats.folded_passages >= 1, "{:?}", report.stats);
    let shared = "Each value in Rust has exactly one owner";
    for finding in &report.findings {
        for citation in &finding.citations {
            if citation.quote.contains(shared) {
                let source = report
                    .sources
                    .iter()
                    .find(|s| s.id == citation.source_id)
                    .unwrap();
                assert!(source.url.ends_with("/ownership.html"), "{citation:?}");
            }
        }
    }
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.url.ends_with("/p7.html") && s.reason.contains("folded into")),
        "{:?}",
        report.skipped
    );
}
