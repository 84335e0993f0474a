//! `cadre deep-research` through the real binary: local directories offline, and SearXNG over
//! the fixture web.

use assert_cmd::Command;
use cadre_test_support::fixture_web::FixtureWeb;
use predicates::prelude::*;
use serde_json::Value;

fn cadre(home: &std::path::Path) -> Command {
    let mut command = Command::cargo_bin("cadre").unwrap();
    command
        .env("CADRE_HOME", home)
        .env_remove("CADRE_SEARXNG_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("CADRE_MODEL_PROVIDER")
        .env_remove("CADRE_MODEL");
    command
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/").to_string()
}

fn skip_reason(report: &Value, path: &str) -> Option<String> {
    report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| path_of(s["url"].as_str().unwrap()) == path)
        .map(|s| s["reason"].as_str().unwrap().to_string())
}

#[test]
fn local_research_cites_files_verbatim_without_network() {
    let home = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(
        docs.path().join("guide.md"),
        "# Deploying\n\nThe service is deployed with a blue green rollout behind the load balancer.\n\nRollbacks switch traffic back to the previous colour within a minute.\n",
    )
    .unwrap();
    std::fs::write(
        docs.path().join("notes.txt"),
        "Deployment windows are Tuesdays and Thursdays.\n",
    )
    .unwrap();
    std::fs::write(docs.path().join("unrelated.rs"), "fn parse_config() {}\n").unwrap();

    let output = cadre(home.path())
        .args([
            "deep-research",
            "How is the service deployed and rolled back?",
            "--path",
        ])
        .arg(docs.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["query"],
        "How is the service deployed and rolled back?"
    );
    assert_eq!(report["strategy"], "comprehensive");
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    let sources = report["sources"].as_array().unwrap();
    for finding in findings {
        for citation in finding["citations"].as_array().unwrap() {
            let source = sources
                .iter()
                .find(|s| s["id"] == citation["source_id"])
                .unwrap();
            let url = source["url"].as_str().unwrap();
            assert!(url.starts_with("file://"), "{url}");
            let text = std::fs::read_to_string(path_of(url)).unwrap();
            assert!(text.contains(citation["quote"].as_str().unwrap()));
        }
    }
    let index_dir = home.path().join("cache/research/local-index");
    assert_eq!(
        std::fs::read_dir(index_dir).unwrap().count(),
        1,
        "one index file for one set of roots"
    );

    // Markdown by default, into a file with -o.
    let out = docs.path().join("report.md");
    cadre(home.path())
        .args(["deep-research", "rollback", "--path"])
        .arg(docs.path())
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let markdown = std::fs::read_to_string(out).unwrap();
    assert!(
        markdown.contains("## Findings")
            && markdown.contains("## Sources")
            && markdown.contains("Rollbacks switch traffic")
    );
}

#[test]
fn searxng_research_over_the_fixture_web() {
    let web = FixtureWeb::start();
    let home = tempfile::tempdir().unwrap();
    let output = cadre(home.path())
        .args([
            "deep-research",
            "How does ownership work in Rust?",
            "--provider",
            "searxng",
            "--searxng-url",
        ])
        .arg(web.searxng_url())
        .args([
            "--format",
            "json",
            "--sources",
            "20",
            "--fetch-timeout",
            "1",
            "--no-cache",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let log = web.fetch_log();
    let sources = report["sources"].as_array().unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for finding in findings {
        for citation in finding["citations"].as_array().unwrap() {
            let source = sources
                .iter()
                .find(|s| s["id"] == citation["source_id"])
                .expect("cited source listed");
            let fetched = source["final_url"]
                .as_str()
                .or(source["url"].as_str())
                .unwrap();
            assert!(
                log.contains(&path_of(fetched)),
                "{fetched} cited but never requested"
            );
            let page = web.page_source(fetched).unwrap();
            assert!(page.contains(citation["quote"].as_str().unwrap()));
        }
    }
    let family = |path: &str| {
        sources
            .iter()
            .find(|s| path_of(s["url"].as_str().unwrap()) == path)
            .map(|s| s["family"].clone())
    };
    let original = family("/articles/ownership.html").unwrap();
    // A copy is folded into the page that holds its passages, or else shares its family.
    for copy in [
        "/mirror/ownership.html",
        "/mirror/ownership-near.html",
        "/syndicated/ownership.html",
    ] {
        match family(copy) {
            Some(family) => assert_eq!(family, original, "{copy}"),
            None => assert!(
                skip_reason(&report, copy)
                    .unwrap_or_default()
                    .contains("passage containment"),
                "{copy}"
            ),
        }
    }
    assert_ne!(family("/blog/ownership-notes.html").unwrap(), original);

    assert_eq!(web.requests_for("/private/internal.html"), 0);
    assert_eq!(web.requests_for("/drafts/ownership.html"), 0);
    assert_eq!(web.requests_for("/flaky.html"), 2);
    assert!(family("/flaky.html").is_some());
    assert_eq!(
        skip_reason(&report, "/dead.html").as_deref(),
        Some("HTTP 404")
    );
    assert!(
        skip_reason(&report, "/files/ownership.bin")
            .unwrap()
            .contains("unsupported content type")
    );
    assert!(family("/dead.html").is_none() && family("/files/ownership.bin").is_none());
    assert!(report["stats"]["fetched"].as_u64().unwrap() >= 8);
    assert!(report["bias"]["family_hhi"].as_f64().unwrap() > 0.0);
    assert!(
        sources
            .iter()
            .all(|s| s["fetched_at"].as_str().is_some_and(|t| t.contains('T')))
    );

    // cadre's own fetches are in the audit log, and the log verifies.
    cadre(home.path())
        .args(["audit", "verify"])
        .assert()
        .success();
    let audit = cadre(home.path())
        .args(["audit", "show", "--format", "json"])
        .output()
        .unwrap();
    let fetches = String::from_utf8_lossy(&audit.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["event"] == "network" && r["origin"] == "cadre")
        .count();
    assert!(fetches >= 8, "{fetches} network records");
}

#[test]
fn web_providers_are_refused_under_offline() {
    let web = FixtureWeb::start();
    let home = tempfile::tempdir().unwrap();
    cadre(home.path())
        .args([
            "deep-research",
            "anything",
            "--provider",
            "searxng",
            "--profile",
            "offline",
            "--searxng-url",
        ])
        .arg(web.searxng_url())
        .assert()
        .failure()
        .stderr(
            predicates::str::contains("offline").and(predicates::str::contains("--provider local")),
        );
    assert!(web.fetch_log().is_empty());
}

#[test]
fn a_provider_must_be_chosen() {
    let home = tempfile::tempdir().unwrap();
    cadre(home.path())
        .args(["deep-research", "anything"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("--provider local --path DIR"));
}

// ---- With a model: the scripted model server plans, writes and judges. ----

mod common;

use cadre_test_support::model_server::{ModelServer, RecordedRequest, Reply};
use common::TestEnv;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The user prompt of a model request.
fn prompt(req: &RecordedRequest) -> String {
    req.last_user_text().unwrap_or_default()
}

fn offers(req: &RecordedRequest, tool: &str) -> bool {
    req.tool_names().iter().any(|t| t == tool)
}

/// `(source id, passage text)` of every passage in a `submit_report` prompt.
fn passages(prompt: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in prompt.lines() {
        if let Some(header) = line.strip_prefix("[S")
            && line.ends_with(']')
        {
            out.extend(current.take());
            let id = format!("S{}", header.split(' ').next().unwrap_or(""));
            current = Some((id, String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out.extend(current);
    out
}

/// The id of a source whose passage contains `words`.
fn source_with(prompt: &str, words: &str) -> String {
    passages(prompt)
        .into_iter()
        .find(|(_, text)| text.contains(words))
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("no passage contains `{words}` in:\n{prompt}"))
}

const OWNER_QUOTE: &str = "Every value in Rust has a single owner";
const BORROW_QUOTE: &str =
    "Borrowing lets code use a value through a reference without taking ownership of it.";

/// A report with five sentences: two honest ones, one with an invented quote, one whose real
/// quote does not support it, and one citing a source that is not in the run.
fn scripted_report(prompt: &str) -> Reply {
    let owner = source_with(prompt, OWNER_QUOTE);
    let borrow = source_with(prompt, "Borrowing lets code use a value");
    Reply::tool_call(
        "submit_report",
        json!({
            "title": "Ownership in Rust",
            "sections": [
                {"heading": "Owners", "sentences": [
                    {"text": "Each Rust value has exactly one owner.",
                     "citations": [{"source_id": owner, "quote": OWNER_QUOTE.to_uppercase()}]},
                    {"text": "Rust frees memory with a tracing garbage collector.",
                     "citations": [{"source_id": owner, "quote": "Rust uses a tracing garbage collector"}]},
                    {"text": "Ownership makes Rust programs run twice as fast.",
                     "citations": [{"source_id": owner, "quote": OWNER_QUOTE}]}
                ]},
                {"heading": "Borrowing", "sentences": [
                    {"text": "A reference lets code use a value without owning it.",
                     "citations": [{"source_id": borrow, "quote": BORROW_QUOTE}]},
                    {"text": "The borrow checker was designed in 1970.",
                     "citations": [{"source_id": "S99", "quote": BORROW_QUOTE}]}
                ]}
            ],
            "open_questions": ["How do lifetimes interact with async code?"]
        }),
    )
}

fn verdict(prompt: &str) -> Reply {
    if prompt.contains("twice as fast") {
        Reply::tool_call(
            "submit_verdict",
            json!({"verdict": "unsupported", "reason": "the quote says nothing about speed"}),
        )
    } else {
        Reply::tool_call(
            "submit_verdict",
            json!({"verdict": "supported", "reason": "the quote states it"}),
        )
    }
}

/// Plans one query per level; writes [`scripted_report`]; judges with [`verdict`].
fn honest_model(req: &RecordedRequest) -> Reply {
    let text = prompt(req);
    if offers(req, "submit_queries") {
        Reply::tool_call(
            "submit_queries",
            json!({"queries": ["rust ownership borrowing"], "covered": false, "reason": "start"}),
        )
    } else if offers(req, "submit_report") {
        scripted_report(&text)
    } else {
        verdict(&text)
    }
}

fn model_env(server: &ModelServer) -> TestEnv {
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    env
}

fn research_args(web: &FixtureWeb) -> Vec<String> {
    [
        "deep-research",
        "How does ownership work in Rust?",
        "--provider",
        "searxng",
        "--searxng-url",
        &web.searxng_url(),
        "--no-cache",
        "--fetch-timeout",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn json_report(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn texts(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_sentence_is_checked_and_unsupported_ones_are_removed() {
    let web = FixtureWeb::start_without_delays();
    let server = ModelServer::with_handler(honest_model);
    let env = model_env(&server);
    let output = env
        .cadre()
        .args(research_args(&web))
        .args(["--levels", "1", "--strategy", "focused", "--format", "json"])
        .output()
        .unwrap();
    let report = json_report(&output);
    assert_eq!(
        texts(&report["findings"]),
        [
            "Each Rust value has exactly one owner.",
            "A reference lets code use a value without owning it."
        ]
    );
    // The kept quote is the source's own words, not the model's upper-cased copy.
    let first = &report["findings"][0]["citations"][0];
    assert_eq!(first["quote"], OWNER_QUOTE);
    let reason_of = |text: &str| {
        report["removed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["text"] == text)
            .map(|r| r["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("`{text}` not in removed: {}", report["removed"]))
    };
    assert!(
        reason_of("Rust frees memory with a tracing garbage collector.")
            .contains("no citation left")
    );
    let invented = report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["text"] == "Rust frees memory with a tracing garbage collector.")
        .unwrap();
    assert!(
        invented["removed_citations"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("quote not found")
    );
    assert!(
        reason_of("Ownership makes Rust programs run twice as fast.")
            .contains("judged unsupported")
    );
    assert!(reason_of("The borrow checker was designed in 1970.").contains("no citation left"));
    let unknown = report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["text"] == "The borrow checker was designed in 1970.")
        .unwrap();
    assert!(
        unknown["removed_citations"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("`S99` is not in this run")
    );
    let v = &report["verification"];
    assert_eq!(v["sentences_proposed"], 5);
    assert_eq!(v["sentences_kept"], 2);
    assert_eq!(v["sentences_removed"], 3);
    assert_eq!(v["citations_proposed"], 5);
    assert_eq!(v["citations_checked"], 3);
    assert_eq!(v["citations_kept"], 2);
    assert_eq!(v["citation_precision"], 0.4);
    // Sentences left with no citation are not worth a verifier call.
    let verdict_calls = server
        .requests()
        .iter()
        .filter(|r| offers(r, "submit_verdict"))
        .count();
    assert_eq!(verdict_calls, 3);
    assert_eq!(v["verifier_calls"], 3);
    // The verifier sees the sentence and its quotes, not the sources.
    let verify_prompt = server
        .requests()
        .into_iter()
        .find(|r| offers(r, "submit_verdict"))
        .map(|r| prompt(&r))
        .unwrap();
    assert!(!verify_prompt.contains("http://"), "{verify_prompt}");
    assert_eq!(report["run"]["mode"], "model");
    assert_eq!(report["sections"].as_array().unwrap().len(), 2);
    assert_eq!(
        report["open_questions"][0],
        "How do lifetimes interact with async code?"
    );
    // Every kept citation was fetched in the run and its quote is on the page.
    let log = web.fetch_log();
    for finding in report["findings"].as_array().unwrap() {
        for citation in finding["citations"].as_array().unwrap() {
            let source = report["sources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == citation["source_id"])
                .unwrap();
            let url = source["final_url"]
                .as_str()
                .or(source["url"].as_str())
                .unwrap();
            assert!(log.contains(&path_of(url)));
            assert!(
                web.page_source(url)
                    .unwrap()
                    .contains(citation["quote"].as_str().unwrap())
            );
        }
    }
}

#[test]
fn flag_keeps_unsupported_sentences_marked_and_numbers_sources_by_first_use() {
    let web = FixtureWeb::start_without_delays();
    let server = ModelServer::with_handler(honest_model);
    let env = model_env(&server);
    let output = env
        .cadre()
        .args(research_args(&web))
        .args([
            "--levels",
            "1",
            "--strategy",
            "focused",
            "--on-unsupported",
            "flag",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let markdown = String::from_utf8(output.stdout).unwrap();
    assert!(markdown.starts_with("# Ownership in Rust"), "{markdown}");
    assert!(
        markdown.contains("- Each Rust value has exactly one owner. [1]"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- A reference lets code use a value without owning it. [2]"),
        "{markdown}"
    );
    for text in [
        "Rust frees memory with a tracing garbage collector.",
        "Ownership makes Rust programs run twice as fast.",
        "The borrow checker was designed in 1970.",
    ] {
        assert!(
            markdown.contains(&format!("- {text} **[unsupported:")),
            "{text}\n{markdown}"
        );
    }
    assert!(
        markdown.contains("\n[1] ") && markdown.contains("\n[2] "),
        "{markdown}"
    );
    assert!(markdown.contains("## Verification") && markdown.contains("citation precision 0.40"));
}

#[test]
fn focused_stops_when_the_model_says_covered() {
    let web = FixtureWeb::start_without_delays();
    let server = ModelServer::with_handler(|req| {
        let text = prompt(req);
        if offers(req, "submit_queries") {
            if text.contains("Level 1 of") {
                Reply::tool_call(
                    "submit_queries",
                    json!({"queries": ["rust ownership"], "covered": false, "reason": "start"}),
                )
            } else {
                Reply::tool_call(
                    "submit_queries",
                    json!({"queries": [], "covered": true, "reason": "the passages answer it"}),
                )
            }
        } else if offers(req, "submit_report") {
            scripted_report(&text)
        } else {
            verdict(&text)
        }
    });
    let env = model_env(&server);
    let report = json_report(
        &env.cadre()
            .args(research_args(&web))
            .args(["--levels", "3", "--strategy", "focused", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(report["levels_run"], 1);
    let plans = server
        .requests()
        .iter()
        .filter(|r| offers(r, "submit_queries"))
        .count();
    assert_eq!(
        plans, 2,
        "level 2 was planned, found covered, and level 3 never asked"
    );
    assert_eq!(report["sub_queries"][0]["query"], "rust ownership");
    assert!(
        report["run"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("covered")
    );
}

#[test]
fn an_unusable_plan_falls_back_to_the_engines_queries() {
    let web = FixtureWeb::start_without_delays();
    let server = ModelServer::with_handler(|req| {
        let text = prompt(req);
        if offers(req, "submit_queries") {
            Reply::text("I would search for ownership.")
        } else if offers(req, "submit_report") {
            scripted_report(&text)
        } else {
            verdict(&text)
        }
    });
    let env = model_env(&server);
    let report = json_report(
        &env.cadre()
            .args(research_args(&web))
            .args(["--levels", "1", "--strategy", "focused", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        report["sub_queries"][0]["query"],
        "How does ownership work in Rust?"
    );
    let notes = report["run"]["notes"].to_string();
    assert!(
        notes.contains("did not call submit_queries") && notes.contains("engine's own queries"),
        "{notes}"
    );
    assert!(!report["findings"].as_array().unwrap().is_empty());
}

#[test]
fn a_token_budget_stops_planning_and_still_reports() {
    let web = FixtureWeb::start_without_delays();
    let server = ModelServer::with_handler(|req| {
        let text = prompt(req);
        if offers(req, "submit_queries") {
            Reply::tool_call(
                "submit_queries",
                json!({"queries": [format!("ownership {}", text.len())], "covered": false, "reason": "more"}),
            )
            .with_usage(900, 100)
        } else if offers(req, "submit_report") {
            scripted_report(&text).with_usage(20, 10)
        } else {
            verdict(&text).with_usage(5, 5)
        }
    });
    let env = model_env(&server);
    let report = json_report(
        &env.cadre()
            .args(research_args(&web))
            .args([
                "--levels",
                "4",
                "--budget-tokens",
                "1500",
                "--format",
                "json",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(report["levels_run"], 1);
    let plans = server
        .requests()
        .iter()
        .filter(|r| offers(r, "submit_queries"))
        .count();
    assert_eq!(plans, 1);
    let partial = report["run"]["partial"].as_str().unwrap();
    assert!(partial.contains("token budget"), "{partial}");
    assert_eq!(texts(&report["findings"]).len(), 2);
    // comprehensive: three verifier votes per judged sentence.
    assert_eq!(report["verification"]["verifier_calls"], 9);
    let listed = env
        .cadre()
        .args(["deep-research", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("partial") && listed.contains("How does ownership work in Rust?"),
        "{listed}"
    );
}

#[test]
fn estimate_prints_calls_and_pages_without_running() {
    let server = ModelServer::with_handler(honest_model);
    let env = model_env(&server);
    let output = env
        .cadre()
        .args([
            "deep-research",
            "anything",
            "--provider",
            "searxng",
            "--searxng-url",
            "http://127.0.0.1:9",
            "--strategy",
            "focused",
            "--levels",
            "3",
            "--sources",
            "5",
            "--estimate",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("at most 14 model calls (3 planning, 1 synthesis, 10 verification"),
        "{text}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn without_a_usable_provider_the_run_is_model_free_and_says_so() {
    let web = FixtureWeb::start_without_delays();
    let home = tempfile::tempdir().unwrap();
    let report = json_report(
        &cadre(home.path())
            .args(research_args(&web))
            .args(["--levels", "1", "--format", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(report["run"]["mode"], "model-free");
    assert_eq!(report["run"]["model_free_reason"], "no_model_configured");
    assert!(!report["findings"].as_array().unwrap().is_empty());
}

/// The report's method line (the paragraph under the title) for a run with `handler` as the model.
fn method_line(handler: fn(&RecordedRequest) -> Reply) -> (String, TestEnv) {
    let web = FixtureWeb::start_without_delays();
    let server = ModelServer::with_handler(handler);
    let env = model_env(&server);
    let output = env
        .cadre()
        .args(research_args(&web))
        .args(["--levels", "1", "--strategy", "focused"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let markdown = String::from_utf8(output.stdout).unwrap();
    let line = markdown
        .lines()
        .find(|l| l.contains("model calls ("))
        .unwrap_or_else(|| panic!("no method line in:\n{markdown}"))
        .to_string();
    (line, env)
}

#[test]
fn the_method_line_says_what_the_model_really_did() {
    let (line, env) = method_line(honest_model);
    assert!(
        line.starts_with("Planned and written by `test-model`; every sentence checked."),
        "{line}"
    );
    // Each of the run's model requests is in the audit log, as cadre's own network request.
    let audit = env
        .cadre()
        .args(["audit", "show", "--format", "json"])
        .output()
        .unwrap();
    let model_requests: Vec<Value> = String::from_utf8_lossy(&audit.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| {
            r["event"] == "network"
                && r["origin"] == "cadre"
                && r.to_string().contains("research model request")
        })
        .collect();
    let purposes = model_requests
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        purposes.contains("research model request: plan:1"),
        "{purposes}"
    );
    assert!(
        purposes.contains("research model request: report"),
        "{purposes}"
    );
    assert!(model_requests.len() >= 3, "{purposes}");

    // A model that never calls the tools neither planned nor wrote anything.
    let (line, _) = method_line(|_| Reply::text("I think ownership is about owners."));
    assert!(!line.contains("Planned and written"), "{line}");
    assert!(
        line.contains("`test-model` neither planned nor wrote this report"),
        "{line}"
    );

    // A model that plans but does not submit the report.
    let (line, _) = method_line(|req| {
        if offers(req, "submit_queries") {
            Reply::tool_call(
                "submit_queries",
                json!({"queries": ["rust ownership borrowing"], "covered": false, "reason": "start"}),
            )
        } else {
            Reply::text("Here is my report in prose.")
        }
    });
    assert!(!line.contains("Planned and written"), "{line}");
    assert!(
        line.starts_with("Planned by `test-model` (1 of 1 levels); the findings are quoted"),
        "{line}"
    );
}

/// Documents to research locally.
fn local_docs() -> tempfile::TempDir {
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(
        docs.path().join("rollback.md"),
        "# Rollbacks\n\nRollbacks switch traffic back to the previous colour within a minute.\n",
    )
    .unwrap();
    docs
}

#[test]
fn with_no_model_the_report_says_model_free_once_and_gives_no_key_advice() {
    let home = tempfile::tempdir().unwrap();
    let docs = local_docs();
    let output = cadre(home.path())
        .args([
            "deep-research",
            "How do rollbacks work?",
            "--format",
            "text",
            "--path",
        ])
        .arg(docs.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout.matches("Model-free engine").count(), 1, "{stdout}");
    for both in [&stdout, &stderr] {
        assert!(!both.contains("API key"), "{both}");
        assert!(!both.contains("OPENAI_API_KEY"), "{both}");
        assert!(!both.contains("no model provider is usable"), "{both}");
    }
    assert!(!stdout.contains("Planned"), "{stdout}");
    assert!(stdout.contains("Rollbacks switch traffic"), "{stdout}");

    // A provider the user chose but that cannot be used is said once, on stderr.
    let output = cadre(home.path())
        .env("CADRE_MODEL_PROVIDER", "openai")
        .args(["deep-research", "How do rollbacks work?", "--path"])
        .arg(docs.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("running the model-free engine").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("OPENAI_API_KEY"));
}

#[test]
fn an_empty_question_or_a_path_without_documents_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let docs = local_docs();
    for question in ["", "   "] {
        cadre(home.path())
            .args(["deep-research", question, "--path"])
            .arg(docs.path())
            .assert()
            .failure()
            .stderr(predicate::str::contains("the question is empty"))
            .stdout(predicate::str::is_empty());
    }
    let empty = tempfile::tempdir().unwrap();
    cadre(home.path())
        .args(["deep-research", "How do rollbacks work?", "--path"])
        .arg(empty.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("no documents to search under"))
        .stdout(predicate::str::is_empty());
}

#[test]
fn the_help_says_local_still_uses_a_configured_model() {
    let home = tempfile::tempdir().unwrap();
    let help = cadre(home.path())
        .args(["deep-research", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(help.contains("The configured model still plans"), "{help}");
    assert!(!help.contains("no network, no model"), "{help}");
    assert!(help.contains("text"), "{help}");
}

#[test]
fn a_killed_run_resumes_without_refetching_or_repeating_model_calls() {
    let web = FixtureWeb::start_without_delays();
    // The first attempt hangs on its level-2 plan: that is where it gets killed.
    let hung = Arc::new(AtomicBool::new(false));
    let hung_in_handler = Arc::clone(&hung);
    let server = ModelServer::with_handler(move |req| {
        let text = prompt(req);
        if offers(req, "submit_queries") && text.contains("Level 2 of") {
            if !hung_in_handler.swap(true, Ordering::SeqCst) {
                return Reply::silent();
            }
            return Reply::tool_call(
                "submit_queries",
                json!({"queries": ["ownership moves"], "covered": false, "reason": "more"}),
            );
        }
        honest_model(req)
    });
    let env = model_env(&server);
    let mut args = research_args(&web);
    args.extend(["--levels", "2", "--strategy", "focused", "--format", "json"].map(String::from));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cadre"))
        .args(&args)
        .env("CADRE_HOME", env.home())
        .env_remove("OPENAI_API_KEY")
        .env_remove("CADRE_MODEL")
        .env_remove("CADRE_MODEL_PROVIDER")
        .current_dir(env.work())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let runs = env.home().join("research");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let journal = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "level 1 never finished"
        );
        let level_done = std::fs::read_dir(&runs).ok().and_then(|mut dirs| {
            let dir = dirs.next()?.ok()?.path();
            let text = std::fs::read_to_string(dir.join("journal.jsonl")).ok()?;
            text.contains("\"kind\":\"level_done\",\"level\":1")
                .then(|| dir.join("journal.jsonl"))
        });
        if let Some(path) = level_done
            && hung.load(Ordering::SeqCst)
        {
            break path;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first_log = web.fetch_log();
    let first_requests = server.requests();
    assert!(
        std::fs::read_to_string(&journal)
            .unwrap()
            .contains("\"kind\":\"page\"")
    );

    let report = json_report(
        &env.cadre()
            .args(["deep-research", "--resume", "last"])
            .output()
            .unwrap(),
    );
    let second_log: Vec<String> = web.fetch_log()[first_log.len()..].to_vec();
    for path in &second_log {
        assert!(
            path == "/robots.txt" || !first_log.contains(path),
            "{path} was fetched again after resuming"
        );
    }
    let second_requests: Vec<RecordedRequest> = server.requests()[first_requests.len()..].to_vec();
    assert!(!second_requests.is_empty());
    for request in &second_requests {
        let repeated = first_requests.iter().any(|r| r.body == request.body);
        // Only the call that was in flight when the run was killed had no answer to replay.
        assert!(
            !repeated || prompt(request).contains("Level 2 of"),
            "model call repeated: {}",
            prompt(request)
        );
    }
    assert_eq!(report["levels_run"], 2);
    assert_eq!(report["run"]["resumes"], 1);
    assert!(report["run"]["spent"]["replayed_calls"].as_u64().unwrap() >= 1);
    assert_eq!(texts(&report["findings"]).len(), 2);
    let listed = env
        .cadre()
        .args(["deep-research", "list"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(listed.stdout)
            .unwrap()
            .contains("finished")
    );
}

#[test]
fn research_fetches_obey_the_network_allowlist_and_refusals_are_audited() {
    let web = FixtureWeb::start();
    let home = tempfile::tempdir().unwrap();
    let output = cadre(home.path())
        .args([
            "-c",
            "network.allow=[\"docs.rs\"]",
            "deep-research",
            "How does ownership work in Rust?",
            "--provider",
            "searxng",
            "--searxng-url",
        ])
        .arg(web.searxng_url())
        .args(["--format", "json", "--fetch-timeout", "1", "--no-cache"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    });
    // Only the search endpoint the user configured was asked; no page was requested.
    let log = web.fetch_log();
    assert!(
        log.iter().all(|path| path.starts_with("/search")),
        "{log:?}"
    );
    let reason = skip_reason(&report, "/articles/ownership.html").unwrap();
    assert!(reason.contains("not on the network allowlist"), "{reason}");

    let audit = cadre(home.path())
        .args(["audit", "show", "--format", "json"])
        .output()
        .unwrap();
    let refused = String::from_utf8_lossy(&audit.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["event"] == "network" && r["origin"] == "cadre" && r["decision"] == "deny")
        .count();
    assert!(refused >= 5, "{refused} refusals recorded");
}

#[test]
fn durations_are_read_the_same_way_as_every_other_command() {
    let home = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    std::fs::write(
        docs.path().join("notes.md"),
        "# Notes\n\nThe audit log is chained.\n",
    )
    .unwrap();
    cadre(home.path())
        .args([
            "deep-research",
            "how is the log chained?",
            "--provider",
            "local",
        ])
        .arg("--path")
        .arg(docs.path())
        .args(["--timeout", "1h30m", "--estimate"])
        .assert()
        .success();
    cadre(home.path())
        .args([
            "deep-research",
            "q",
            "--provider",
            "local",
            "--timeout",
            "soon",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("`soon` is not a duration"));
    cadre(home.path())
        .args(["audit", "show", "--since", "2d"])
        .assert()
        .success();
}
