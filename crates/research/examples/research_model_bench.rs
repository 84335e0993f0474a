//! Figures for deep research with a model, run by `bench/research-model.sh` in release mode
//! against a zero-latency scripted model server and the fixture web (no artificial delays):
//! the cost of verification per sentence (one verifier call per vote, on top of the quote
//! check), and a resumed run's time against the original run's.

#![allow(clippy::print_stdout)]

use cadre_model::{ModelClient, ProviderConfig, WireApi};
use cadre_research::journal::{Journal, RunMeta};
use cadre_research::synth::{SynthesisPassage, SynthesisSource};
use cadre_research::{
    Budgets, DeepOptions, Engine, FetchConfig, Fetcher, Ledger, ModelSetup, ModelSynthesizer,
    OnUnsupported, ResearchRequest, SearxngProvider, Strategy, SynthesisRequest, Synthesizer,
    run_deep_research,
};
use cadre_test_support::fixture_web::FixtureWeb;
use cadre_test_support::model_server::{ModelServer, RecordedRequest, Reply};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SENTENCES: usize = 40;
const ROUNDS: usize = 5;

fn client(server: &ModelServer) -> ModelClient {
    ModelClient::new(ProviderConfig {
        name: "bench".into(),
        base_url: server.base_url(),
        wire_api: WireApi::Responses,
        env_key: None,
        http_headers: Default::default(),
        query_params: Default::default(),
        request_max_retries: Some(0),
        stream_idle_timeout_ms: None,
        request_max_wait_ms: None,
    })
    .expect("client")
}

fn sentence(i: usize) -> String {
    format!("Fact number {i} says that value {i} has exactly one owner at a time.")
}

/// A report whose sentences cite `source` with real quotes.
fn report(source: &str) -> Reply {
    let sentences: Vec<serde_json::Value> = (0..SENTENCES)
        .map(|i| json!({"text": sentence(i), "citations": [{"source_id": source, "quote": sentence(i)}]}))
        .collect();
    Reply::tool_call(
        "submit_report",
        json!({"title": "Bench", "sections": [{"heading": "All", "sentences": sentences}], "open_questions": []}),
    )
}

fn handler(source: &'static str) -> impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static {
    move |req: &RecordedRequest| {
        let tools = req.tool_names();
        if tools.iter().any(|t| t == "submit_report") {
            report(source)
        } else if tools.iter().any(|t| t == "submit_verdict") {
            Reply::tool_call(
                "submit_verdict",
                json!({"verdict": "supported", "reason": "stated"}),
            )
        } else {
            Reply::tool_call(
                "submit_queries",
                json!({"queries": ["rust ownership"], "covered": false, "reason": "bench"}),
            )
        }
    }
}

fn synthesis_request() -> SynthesisRequest {
    let text: String = (0..SENTENCES).map(|i| sentence(i) + " ").collect();
    SynthesisRequest {
        question: "who owns a value?".into(),
        sub_queries: vec![],
        sources: vec![SynthesisSource {
            id: "S1".into(),
            title: "Facts".into(),
            url: "file:///facts.md".into(),
            family: "F1".into(),
            text: text.clone(),
        }],
        passages: vec![SynthesisPassage {
            source_id: "S1".into(),
            passage_id: "p1".into(),
            heading: None,
            text,
            score: 1.0,
        }],
        max_findings: SENTENCES,
    }
}

/// Median seconds of one synthesis (report call, quote checks, verifier calls).
async fn time_synthesis(source: &'static str, votes: usize) -> f64 {
    let server = ModelServer::with_handler(handler(source));
    let request = synthesis_request();
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let ledger = Arc::new(Ledger::new(Budgets::default(), None));
        let caller = Arc::new(cadre_research::model::ModelCaller::new(
            client(&server),
            "bench",
            ledger,
        ));
        let synthesizer = ModelSynthesizer::new(caller, votes, OnUnsupported::Drop);
        let started = Instant::now();
        let synthesis = synthesizer.synthesize(&request).await.expect("synthesis");
        times.push(started.elapsed().as_secs_f64());
        let expected = if source == "S1" { SENTENCES } else { 0 };
        assert_eq!(synthesis.findings.len(), expected);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

async fn deep_run(web: &FixtureWeb, server: &ModelServer, journal: Arc<Journal>) -> Duration {
    let fetcher = Arc::new(
        Fetcher::new(
            FetchConfig {
                timeout: Duration::from_secs(2),
                ..FetchConfig::default()
            },
            None,
        )
        .expect("fetcher"),
    );
    let base = cadre_research::url::Url::parse(&format!("{}/", web.searxng_url())).unwrap();
    let provider = Arc::new(SearxngProvider::new(fetcher.client().clone(), base));
    let mut request = ResearchRequest::new("How does ownership work in Rust?");
    request.levels = 2;
    request.strategy = Strategy::Focused;
    let options = DeepOptions {
        model: Some(ModelSetup {
            client: client(server),
            model: "bench".into(),
            price: None,
        }),
        journal: Some(journal),
        ..DeepOptions::default()
    };
    let started = Instant::now();
    run_deep_research(Engine::new(provider, fetcher), &request, options)
        .await
        .expect("run");
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let checked_only = time_synthesis("S99", 1).await;
    let one_vote = time_synthesis("S1", 1).await;
    let three_votes = time_synthesis("S1", 3).await;
    println!(
        "verification, {SENTENCES} sentences, zero-latency model server (median of {ROUNDS}):"
    );
    println!(
        "  report call + quote checks only: {:.1} ms",
        checked_only * 1e3
    );
    println!(
        "  + 1 verifier vote:  {:.1} ms, {:.2} ms per sentence",
        one_vote * 1e3,
        (one_vote - checked_only) * 1e3 / SENTENCES as f64
    );
    println!(
        "  + 3 verifier votes: {:.1} ms, {:.2} ms per sentence",
        three_votes * 1e3,
        (three_votes - checked_only) * 1e3 / SENTENCES as f64
    );

    let web = FixtureWeb::start_without_delays();
    let server = ModelServer::with_handler(handler("S1"));
    let root = tempfile::tempdir().expect("tempdir");
    let meta = RunMeta::starting(
        "bench".into(),
        "How does ownership work in Rust?".into(),
        serde_json::Value::Null,
    );
    let journal = Arc::new(Journal::create(root.path(), &meta).expect("journal"));
    let original = deep_run(&web, &server, journal).await;
    let (requests, fetches) = (server.requests().len(), web.fetch_log().len());
    let (journal, _) = Journal::open(root.path(), "bench").expect("journal");
    let resumed = deep_run(&web, &server, Arc::new(journal)).await;
    println!("resume, fixture web + zero-latency model server, 2 focused levels:");
    println!(
        "  original run: {:.1} ms ({requests} model calls, {fetches} HTTP requests)",
        original.as_secs_f64() * 1e3
    );
    println!(
        "  resumed from its complete journal: {:.1} ms ({} new model calls, {} new HTTP requests)",
        resumed.as_secs_f64() * 1e3,
        server.requests().len() - requests,
        web.fetch_log().len() - fetches
    );
}
