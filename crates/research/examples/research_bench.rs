//! Throughput figures for the research engine, run by `bench/research.sh` in release mode:
//! pages per second through fetch + extraction + passage splitting from local servers, and a
//! near-duplicate pass (SimHash + banded pair search) over 10,000 generated documents.

#![allow(clippy::print_stdout)]

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use cadre_research::containment::{fold, shingles};
use cadre_research::extract::{extract_html, passages};
use cadre_research::simhash::{near_duplicate_pairs, simhash};
use cadre_research::{FetchConfig, Fetcher};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAGES: usize = 2000;
const HOSTS: usize = 4;
const DOCUMENTS: usize = 10_000;

/// A deterministic generator so runs are comparable.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const VOCABULARY: &[&str] = &[
    "ownership",
    "borrow",
    "reference",
    "lifetime",
    "memory",
    "value",
    "scope",
    "move",
    "copy",
    "heap",
    "stack",
    "compiler",
    "checker",
    "pointer",
    "thread",
    "safety",
    "type",
    "trait",
    "generic",
    "closure",
    "iterator",
    "vector",
    "string",
    "slice",
    "module",
    "crate",
    "macro",
    "pattern",
    "match",
    "enum",
    "struct",
    "function",
    "method",
    "error",
    "result",
    "option",
    "async",
    "await",
    "future",
    "runtime",
    "the",
    "a",
    "of",
    "and",
    "is",
    "to",
    "in",
    "it",
    "that",
    "with",
];

fn words(rng: &mut Lcg, count: usize) -> Vec<&'static str> {
    (0..count)
        .map(|_| VOCABULARY[rng.next() as usize % VOCABULARY.len()])
        .collect()
}

async fn article(Path(n): Path<String>) -> impl IntoResponse {
    let seed: u64 = n.trim_end_matches(".html").parse().unwrap_or(0);
    let mut rng = Lcg(seed + 1);
    let mut body = String::from(
        "<!doctype html><html><head><title>Article</title><meta name=\"author\" content=\"Bench\"></head><body>\
         <header>Site header <nav><a href=\"/\">Home</a> <a href=\"/a\">About</a></nav></header><main><article><h1>Article</h1>",
    );
    for _ in 0..12 {
        body.push_str("<p>");
        body.push_str(&words(&mut rng, 60).join(" "));
        body.push_str(".</p>");
    }
    body.push_str(
        "</article><aside>Related</aside></main><footer>Footer text</footer></body></html>",
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
}

async fn serve() -> Vec<String> {
    let mut bases = Vec::new();
    for _ in 0..HOSTS {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        bases.push(format!(
            "http://{}",
            listener.local_addr().expect("address")
        ));
        let app = Router::new().route("/page/{n}", axum::routing::get(article));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
    bases
}

async fn fetch_bench() {
    let bases = serve().await;
    let config = FetchConfig {
        politeness_delay: Duration::ZERO,
        ..FetchConfig::default()
    };
    let (per_host, global) = (config.per_host_concurrency, config.global_concurrency);
    let fetcher = Arc::new(Fetcher::new(config, None).expect("fetcher"));
    let urls: Vec<url::Url> = (0..PAGES)
        .map(|i| url::Url::parse(&format!("{}/page/{i}.html", bases[i % HOSTS])).expect("url"))
        .collect();
    let started = Instant::now();
    let results: Vec<usize> = futures::stream::iter(urls.into_iter().map(|url| {
        let fetcher = Arc::clone(&fetcher);
        async move {
            let fetched = fetcher.fetch(&url).await.expect("fetch");
            tokio::task::spawn_blocking(move || {
                let doc = extract_html(&fetched.body);
                passages(url.as_str(), &doc).len()
            })
            .await
            .expect("extract")
        }
    }))
    .buffer_unordered(global)
    .collect()
    .await;
    let elapsed = started.elapsed();
    let passages: usize = results.iter().sum();
    println!(
        "fetch+extract: {PAGES} pages ({passages} passages) from {HOSTS} local hosts, per-host limit {per_host}, global {global}: {:.2} s, {:.0} pages/s",
        elapsed.as_secs_f64(),
        PAGES as f64 / elapsed.as_secs_f64()
    );
}

fn near_duplicate_bench() {
    let mut rng = Lcg(42);
    let mut documents: Vec<String> = Vec::with_capacity(DOCUMENTS);
    let mut planted = Vec::new();
    for i in 0..DOCUMENTS {
        if i % 10 == 9 {
            // A near copy of an earlier document: three words changed.
            let source = (rng.next() as usize) % i;
            let mut copy: Vec<String> = documents[source].split(' ').map(str::to_string).collect();
            for _ in 0..3 {
                let at = rng.next() as usize % copy.len();
                copy[at] = VOCABULARY[rng.next() as usize % VOCABULARY.len()].to_string();
            }
            planted.push((source, i));
            documents.push(copy.join(" "));
        } else {
            documents.push(words(&mut rng, 300).join(" "));
        }
    }
    let started = Instant::now();
    let fingerprints: Vec<u64> = documents.iter().map(|d| simhash(d)).collect();
    let hashed = started.elapsed();
    let pairs = near_duplicate_pairs(&fingerprints);
    let elapsed = started.elapsed();
    let found: std::collections::HashSet<(usize, usize)> = pairs.iter().copied().collect();
    let recalled = planted.iter().filter(|p| found.contains(p)).count();
    println!(
        "near-duplicates: {DOCUMENTS} documents of ~300 words: {:.3} s ({:.3} s hashing, {:.3} s pairing); \
         {} pairs found, {recalled}/{} planted near copies recalled",
        elapsed.as_secs_f64(),
        hashed.as_secs_f64(),
        (elapsed - hashed).as_secs_f64(),
        pairs.len(),
        planted.len()
    );
}

/// Containment folding over a run-sized set: 200 pages of three ~90-word passages, plus one
/// compilation holding the first 50 of them whole.
fn containment_bench() {
    const CONTAINMENT_PAGES: usize = 200;
    let mut rng = Lcg(7);
    let pages: Vec<Vec<String>> = (0..CONTAINMENT_PAGES)
        .map(|_| (0..3).map(|_| words(&mut rng, 90).join(" ")).collect())
        .collect();
    let compilation: Vec<String> = pages[..50].iter().flatten().cloned().collect();
    let started = Instant::now();
    let shingled: Vec<Vec<Vec<u64>>> = pages
        .iter()
        .chain(std::iter::once(&compilation))
        .map(|page| page.iter().map(|p| shingles(p)).collect())
        .collect();
    let folding = fold(&shingled);
    let elapsed = started.elapsed();
    println!(
        "containment: {} pages ({} passages): {:.3} s; {} page(s) folded whole, {} passages folded",
        shingled.len(),
        shingled.iter().map(Vec::len).sum::<usize>(),
        elapsed.as_secs_f64(),
        folding.pages.len(),
        folding.passages.len()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(fetch_bench());
    near_duplicate_bench();
    containment_bench();
}
