//! The engine against the fixture web (SearXNG provider) and against local directories.

use cadre_protocol::SecurityProfile;
use cadre_research::{
    Engine, FetchCache, FetchConfig, Fetcher, LocalIndex, LocalProvider, ResearchError,
    ResearchOutcome, ResearchRequest, SearxngProvider, Strategy,
};
use cadre_test_support::fixture_web::FixtureWeb;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

fn fetch_config() -> FetchConfig {
    FetchConfig {
        timeout: Duration::from_secs(1),
        max_bytes: 1024 * 1024,
        politeness_delay: Duration::ZERO,
        initial_backoff: Duration::from_millis(20),
        ..FetchConfig::default()
    }
}

fn searxng_engine(web: &FixtureWeb, cache: Option<&std::path::Path>) -> Engine {
    let cache = cache.map(|dir| {
        FetchCache::open(&dir.join("fetch.sqlite3"), Duration::from_secs(3600)).unwrap()
    });
    let fetcher = Arc::new(Fetcher::new(fetch_config(), cache).unwrap());
    let base = Url::parse(&format!("{}/", web.searxng_url())).unwrap();
    let provider = Arc::new(SearxngProvider::new(fetcher.client().clone(), base));
    Engine::new(provider, fetcher)
}

fn request() -> ResearchRequest {
    ResearchRequest {
        question: "How does ownership work in Rust?".into(),
        levels: 2,
        strategy: Strategy::Comprehensive,
        max_sources: 20,
        profile: SecurityProfile::NetReadOnly,
    }
}

fn path_of(url: &str) -> String {
    Url::parse(url).unwrap().path().to_string()
}

fn source_by_path<'a>(
    outcome: &'a ResearchOutcome,
    path: &str,
) -> Option<&'a cadre_research::report::SourceEntry> {
    outcome
        .report
        .sources
        .iter()
        .find(|s| path_of(&s.url) == path)
}

fn skip_reason(outcome: &ResearchOutcome, path: &str) -> Option<String> {
    outcome
        .report
        .skipped
        .iter()
        .find(|s| path_of(&s.url) == path)
        .map(|s| s.reason.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_cites_only_fetched_pages_that_say_it() {
    let web = FixtureWeb::start();
    let outcome = searxng_engine(&web, None).run(&request()).await.unwrap();
    let report = &outcome.report;
    let log = web.fetch_log();

    assert!(!report.findings.is_empty(), "{}", report.to_markdown());
    for source in &report.sources {
        let fetched = source.final_url.as_deref().unwrap_or(&source.url);
        assert!(
            log.iter().any(|p| *p == path_of(fetched)),
            "{fetched} cited but never requested"
        );
    }
    for finding in &report.findings {
        assert!(!finding.citations.is_empty());
        for citation in &finding.citations {
            let source = report
                .sources
                .iter()
                .find(|s| s.id == citation.source_id)
                .expect("cited source is listed");
            let document = outcome
                .documents
                .iter()
                .find(|d| d.id.as_deref() == Some(&citation.source_id))
                .unwrap();
            assert!(document.text.contains(&citation.quote));
            let page = web
                .page_source(source.final_url.as_deref().unwrap_or(&source.url))
                .expect("a fixture page");
            assert!(
                page.contains(&citation.quote),
                "quote {:?} not in {}",
                citation.quote,
                source.url
            );
            for boilerplate in [
                "newsletter",
                "Copyright",
                "Related posts",
                "mailing list",
                "tracking",
            ] {
                assert!(!citation.quote.contains(boilerplate));
            }
        }
    }

    // Copies, near copies and syndication are folded into the page that holds their passages,
    // or, where kept, one family with it; other articles are not in it.
    let family = |path: &str| source_by_path(&outcome, path).map(|s| s.family.clone());
    let original = family("/articles/ownership.html").expect("the original article is a source");
    for copy in [
        "/mirror/ownership.html",
        "/mirror/ownership-near.html",
        "/syndicated/ownership.html",
    ] {
        match family(copy) {
            Some(family) => assert_eq!(family, original, "{copy}"),
            None => {
                let reason = skip_reason(&outcome, copy).unwrap_or_default();
                assert!(reason.contains("passage containment"), "{copy}: {reason}");
            }
        }
    }
    assert!(
        outcome.report.stats.folded_pages >= 1,
        "{:?}",
        outcome.report.stats
    );
    assert_ne!(
        family("/blog/ownership-notes.html")
            .unwrap_or_else(|| panic!("{:?}", outcome.report.skipped)),
        original
    );
    // The tracked URL variant was canonicalised and fetched once.
    assert_eq!(web.requests_for("/articles/ownership.html"), 1);

    // robots.txt: the `*` rule on the main host and the cadre rule on the syndication host.
    assert_eq!(web.requests_for("/private/internal.html"), 0);
    assert_eq!(web.requests_for("/drafts/ownership.html"), 0);
    assert_eq!(
        skip_reason(&outcome, "/private/internal.html").as_deref(),
        Some("disallowed by robots.txt")
    );
    assert_eq!(
        skip_reason(&outcome, "/drafts/ownership.html").as_deref(),
        Some("disallowed by robots.txt")
    );

    // 429 then 200: retried and used.
    assert_eq!(web.requests_for("/flaky.html"), 2);
    assert!(source_by_path(&outcome, "/flaky.html").is_some());
    assert!(report.stats.retried >= 1);

    // Dead link, binary file, slow page: reported, never cited.
    assert_eq!(
        skip_reason(&outcome, "/dead.html").as_deref(),
        Some("HTTP 404")
    );
    assert!(
        skip_reason(&outcome, "/files/ownership.bin")
            .unwrap()
            .contains("application/octet-stream")
    );
    assert_eq!(
        skip_reason(&outcome, "/slow.html").as_deref(),
        Some("timed out")
    );
    for path in [
        "/dead.html",
        "/files/ownership.bin",
        "/slow.html",
        "/private/internal.html",
    ] {
        assert!(
            source_by_path(&outcome, path).is_none(),
            "{path} is a source"
        );
    }

    // The huge page was cut at the size limit; the redirect chain was followed and reported.
    assert!(report.stats.truncated >= 1);
    let moved =
        source_by_path(&outcome, "/redirect/start").expect("the redirected page is a source");
    assert_eq!(moved.redirects, 2);
    assert!(
        moved
            .final_url
            .as_deref()
            .unwrap()
            .ends_with("/articles/lifetimes.html")
    );

    let markdown = report.to_markdown();
    assert!(
        markdown.contains("## Sources")
            && markdown.contains("Skipped:")
            && markdown.contains("HTTP 404")
    );
    let json = serde_json::to_value(report).unwrap();
    for field in [
        "query",
        "strategy",
        "levels",
        "sub_queries",
        "sources",
        "findings",
        "bias",
        "stats",
    ] {
        assert!(json.get(field).is_some(), "{field}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_run_is_served_from_the_cache() {
    let web = FixtureWeb::start();
    let cache = tempfile::tempdir().unwrap();
    let first = searxng_engine(&web, Some(cache.path()))
        .run(&request())
        .await
        .unwrap();
    assert_eq!(first.report.stats.from_cache, 0);
    let second = searxng_engine(&web, Some(cache.path()))
        .run(&request())
        .await
        .unwrap();
    assert!(
        second.report.stats.from_cache >= 5,
        "{:?}",
        second.report.stats
    );
    assert_eq!(web.requests_for("/articles/ownership.html"), 1);
    assert_eq!(web.requests_for("/mirror/ownership.html"), 1);
    assert_eq!(first.report.sources.len(), second.report.sources.len());
}

#[tokio::test]
async fn web_providers_are_refused_offline() {
    let web = FixtureWeb::start();
    let mut offline = request();
    offline.profile = SecurityProfile::Offline;
    let err = searxng_engine(&web, None).run(&offline).await.unwrap_err();
    assert!(matches!(err, ResearchError::NetworkRefused { .. }));
    assert!(err.to_string().contains("offline"));
    assert!(web.fetch_log().is_empty());
}

#[tokio::test]
async fn local_directories_are_researched_offline() {
    let docs = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(
        docs.path().join("ranking.md"),
        "# Ranking\n\nPassages are ranked with BM25 against the question and its sub-queries.\n\nQuality signals then scale the relevance score.\n",
    )
    .unwrap();
    std::fs::write(
        docs.path().join("notes.txt"),
        "The cache keeps fetched pages for a day.\n\nBM25 ranking needs no model at all.\n",
    )
    .unwrap();
    std::fs::write(
        docs.path().join("lib.rs"),
        "/// Ranks passages.\npub fn rank() {}\n",
    )
    .unwrap();
    std::fs::write(docs.path().join("page.html"), "<html><body><nav>menu</nav><main><p>Passages ranked by BM25 are selected with MMR.</p></main></body></html>").unwrap();
    std::fs::write(docs.path().join("blob.txt"), [b'a', 0, b'b']).unwrap();

    let (index, _) = LocalIndex::open(&[docs.path().to_path_buf()], cache.path()).unwrap();
    let fetcher = Arc::new(
        Fetcher::new(
            FetchConfig {
                allow_network: false,
                ..FetchConfig::default()
            },
            None,
        )
        .unwrap(),
    );
    let engine = Engine::new(Arc::new(LocalProvider::new(index)), fetcher);
    let mut request = ResearchRequest::new("How are passages ranked?");
    request.profile = SecurityProfile::Offline;
    let outcome = engine.run(&request).await.unwrap();
    let report = &outcome.report;
    assert!(!report.findings.is_empty(), "{}", report.to_markdown());
    for finding in &report.findings {
        for citation in &finding.citations {
            let source = report
                .sources
                .iter()
                .find(|s| s.id == citation.source_id)
                .unwrap();
            assert!(source.url.starts_with("file://"));
            let path = Url::parse(&source.url).unwrap().to_file_path().unwrap();
            assert!(
                std::fs::read_to_string(path)
                    .unwrap()
                    .contains(&citation.quote)
            );
        }
    }
    assert!(
        report
            .sources
            .iter()
            .all(|s| s.family == report.sources[0].family),
        "local files are one site"
    );
    assert!(
        report
            .bias
            .warnings
            .iter()
            .any(|w| w.contains("one source family"))
    );
}

#[tokio::test]
async fn the_fetcher_never_requests_a_host_off_the_allowlist() {
    let web = FixtureWeb::start();
    let allowed_elsewhere = Fetcher::new(
        FetchConfig {
            allowlist: cadre_protocol::DomainAllowlist::new(&["docs.rs".into()]),
            ..fetch_config()
        },
        None,
    )
    .unwrap();
    let page = Url::parse(&format!("{}/articles/ownership.html", web.base_url())).unwrap();
    let failure = allowed_elsewhere.fetch(&page).await.unwrap_err();
    assert_eq!(
        failure,
        cadre_research::FetchFailure::NotOnAllowlist("127.0.0.1".into())
    );
    assert!(!failure.was_requested());
    assert!(web.fetch_log().is_empty(), "{:?}", web.fetch_log());

    let allowed_here = Fetcher::new(
        FetchConfig {
            allowlist: cadre_protocol::DomainAllowlist::new(&["127.0.0.1".into()]),
            ..fetch_config()
        },
        None,
    )
    .unwrap();
    assert!(allowed_here.fetch(&page).await.is_ok());
}
