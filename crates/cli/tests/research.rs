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
        .env_remove("CADRE_SEARXNG_URL");
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
    assert_eq!(family("/mirror/ownership.html").unwrap(), original);
    assert_eq!(family("/mirror/ownership-near.html").unwrap(), original);
    assert_eq!(family("/syndicated/ownership.html").unwrap(), original);
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
