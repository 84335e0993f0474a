//! A fixture web for the research engine: four HTTP hosts on 127.0.0.1 (four listeners, so four
//! sites), serving articles wrapped in boilerplate, exact and near copies on a mirror host, a
//! syndicated copy, an independent article, pages that `robots.txt` forbids, a slow page, a page that answers 429 once,
//! a huge page, a binary file, a redirect chain, a dead link, and a SearXNG-compatible JSON
//! search endpoint (`/search?q=...&format=json` on the main host) listing all of them.
//!
//! Paragraph texts are plain single-line HTML without entities or inline tags, so a verbatim
//! quote of the extracted text is also a substring of the page source ([`FixtureWeb::page_source`]).
//! Every request is logged ([`FixtureWeb::fetch_log`]); the server runs on its own thread and
//! runtime and stops when dropped.
//!
//! ```no_run
//! use cadre_test_support::fixture_web::FixtureWeb;
//! let web = FixtureWeb::start();
//! // point a SearXNG client at web.searxng_url(), run it, then:
//! assert!(!web.fetch_log().iter().any(|p| p.starts_with("/private/")));
//! ```

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long `/slow.html` waits before answering.
pub const SLOW_PAGE_DELAY: Duration = Duration::from_millis(1500);
/// Size of `/huge.html`: over the fetcher's default 5 MiB cap.
pub const HUGE_PAGE_BYTES: usize = 6 * 1024 * 1024;

/// Which listener a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    Main,
    Mirror,
    Syndicate,
    Independent,
}

struct Shared {
    log: Mutex<Vec<String>>,
    flaky_hits: AtomicUsize,
    addresses: Mutex<Vec<SocketAddr>>,
    /// When false, `/slow.html` answers at once and `/flaky.html` never answers 429.
    delays: bool,
}

/// The running fixture web.
pub struct FixtureWeb {
    addresses: Vec<SocketAddr>,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for FixtureWeb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixtureWeb")
            .field("addresses", &self.addresses)
            .finish_non_exhaustive()
    }
}

const OWNERSHIP_TITLE: &str = "Understanding Ownership in Rust";

/// The ownership article's body paragraphs: shared by the original, its copies and syndication.
const OWNERSHIP_PARAGRAPHS: &[&str] = &[
    "Ownership is the set of rules that governs how a Rust program manages memory without a garbage collector.",
    "Every value in Rust has a single owner, and when the owner goes out of scope the value is dropped and its memory is freed.",
    "Assigning a heap value such as a String to another variable moves ownership, so the original variable can no longer be used after the move.",
    "Types that implement the Copy trait, like integers and booleans, are duplicated on assignment instead of being moved, because copying them is cheap and safe.",
    "Passing a value to a function moves it into the function just as assignment does, and returning a value moves ownership back out to the caller.",
    "These rules are checked at compile time, which means ownership adds no runtime cost while still preventing double frees and use after free bugs.",
    "Programs that need several owners of one value can opt into shared ownership with reference counted pointers such as Rc and Arc.",
    "The ownership model is the foundation on which borrowing and lifetimes are built, and understanding it makes the borrow checker much less mysterious.",
];

const BORROWING_PARAGRAPHS: &[&str] = &[
    "Borrowing lets code use a value through a reference without taking ownership of it.",
    "A shared reference allows any number of readers at the same time, while a mutable reference grants exclusive access to a single writer.",
    "The borrow checker rejects programs in which a mutable reference coexists with any other reference to the same value.",
    "Non-lexical lifetimes made the borrow checker smarter by ending a borrow at its last use rather than at the end of its lexical scope.",
    "When the borrow checker reports an error, restructuring the code so that borrows do not overlap usually resolves it.",
];

const LIFETIMES_PARAGRAPHS: &[&str] = &[
    "Lifetimes are named regions of code during which a reference is guaranteed to be valid.",
    "The compiler infers most lifetimes through elision rules, so explicit lifetime annotations are needed only when the relationship between input and output references is ambiguous.",
    "A reference can never outlive the value it points to, which is how Rust prevents dangling pointers at compile time.",
];

const INDEPENDENT_PARAGRAPHS: &[&str] = &[
    "In my experience teaching Rust, ownership clicks once you think of a value as having exactly one place that is responsible for cleaning it up.",
    "Moves are cheap in Rust because a move copies only the small handle on the stack, while the heap buffer it points to stays where it is.",
    "Reaching for clone everywhere hides ownership problems instead of solving them, so it is worth asking which part of the code should own the data.",
];

const FLAKY_PARAGRAPHS: &[&str] = &[
    "Common borrow checker errors include using a value after it was moved and borrowing a value mutably while it is already borrowed.",
    "Cloning data or shortening the scope of a borrow are the usual ways to fix a use after move error reported by the compiler.",
];

const SLOW_PARAGRAPHS: &[&str] = &[
    "Ownership transfer semantics in Rust are explained here at great length but this server is very slow to answer.",
];

const PRIVATE_PARAGRAPHS: &[&str] =
    &["Internal memo about ownership and borrowing that robots.txt forbids crawlers to read."];

const DRAFT_PARAGRAPHS: &[&str] = &[
    "Draft notes on ownership and the borrow checker that only the cadre crawler is asked not to read.",
];

/// Wraps content in the boilerplate real sites carry: a header, navigation, an aside and a footer.
fn page(title: &str, meta: &str, preface: &str, heading: &str, paragraphs: &[String]) -> String {
    let mut body = String::new();
    for p in paragraphs {
        body.push_str("<p>");
        body.push_str(p);
        body.push_str("</p>\n");
    }
    format!(
        "<!doctype html>\n<html><head><title>{title}</title>{meta}\n\
         <style>body {{ font-family: serif; }}</style>\n<script>window.analytics = 'tracking-pixel';</script></head>\n\
         <body>\n<header><a href=\"/\">Fixture Media</a> Subscribe to our newsletter for weekly tips</header>\n\
         <nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/archive\">Archive</a></li><li>Contact us</li></ul></nav>\n\
         <main><article>\n{preface}<h1>{heading}</h1>\n{body}</article>\n\
         <aside><h2>Related posts</h2><ul><li>Ten tips for faster builds</li></ul></aside></main>\n\
         <form action=\"/subscribe\">Enter your email to join the mailing list <input name=\"email\"></form>\n\
         <footer>Copyright 2025 Fixture Media. All rights reserved. Privacy policy.</footer>\n</body></html>\n"
    )
}

fn strings(paragraphs: &[&str]) -> Vec<String> {
    paragraphs.iter().map(|p| p.to_string()).collect()
}

const ARTICLE_META: &str = "<meta name=\"author\" content=\"Ferris Crab\">\
    <meta property=\"article:published_time\" content=\"2025-11-02T09:00:00Z\">";

fn ownership_page(canonical: &str) -> String {
    page(
        OWNERSHIP_TITLE,
        &format!("{ARTICLE_META}<link rel=\"canonical\" href=\"{canonical}\">"),
        "",
        OWNERSHIP_TITLE,
        &strings(OWNERSHIP_PARAGRAPHS),
    )
}

/// The mirror's near copy: the same article with a few words changed.
fn near_copy_paragraphs() -> Vec<String> {
    let mut paragraphs = strings(OWNERSHIP_PARAGRAPHS);
    paragraphs[1] = paragraphs[1].replace("single owner", "sole owner");
    paragraphs[6] = paragraphs[6].replace("Programs that need", "Code that needs");
    paragraphs
}

fn huge_page() -> String {
    let mut page = String::with_capacity(HUGE_PAGE_BYTES + 1024);
    page.push_str("<!doctype html><html><head><title>Huge archive</title></head><body><main>\n");
    page.push_str(
        "<p>This archive page is far larger than any reasonable article about anything.</p>\n",
    );
    let filler = "<p>Filler paragraph number with lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor.</p>\n";
    while page.len() < HUGE_PAGE_BYTES {
        page.push_str(filler);
    }
    page.push_str("</main></body></html>\n");
    page
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn text(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

impl Shared {
    fn origin(&self, host: Host) -> String {
        let addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        let index = match host {
            Host::Main => 0,
            Host::Mirror => 1,
            Host::Syndicate => 2,
            Host::Independent => 3,
        };
        format!("http://{}", addresses[index])
    }

    /// The raw body of a page by host and path (before any delay or error), if it is a page.
    fn page(&self, host: Host, path: &str) -> Option<String> {
        let main = self.origin(Host::Main);
        let body = match (host, path) {
            (Host::Main, "/articles/ownership.html") => {
                ownership_page(&format!("{main}/articles/ownership.html"))
            }
            (Host::Main, "/articles/borrowing.html") => page(
                "Borrowing and References",
                ARTICLE_META,
                "",
                "Borrowing and References",
                &strings(BORROWING_PARAGRAPHS),
            ),
            (Host::Main, "/articles/lifetimes.html") => page(
                "Lifetimes Explained",
                "",
                "",
                "Lifetimes Explained",
                &strings(LIFETIMES_PARAGRAPHS),
            ),
            (Host::Main, "/flaky.html") => page(
                "Fixing Borrow Checker Errors",
                "",
                "",
                "Fixing Borrow Checker Errors",
                &strings(FLAKY_PARAGRAPHS),
            ),
            (Host::Main, "/slow.html") => page(
                "Ownership at Length",
                "",
                "",
                "Ownership at Length",
                &strings(SLOW_PARAGRAPHS),
            ),
            (Host::Main, "/private/internal.html") => page(
                "Internal",
                "",
                "",
                "Internal memo",
                &strings(PRIVATE_PARAGRAPHS),
            ),
            (Host::Mirror, "/mirror/ownership.html") => page(
                "Mirror: Understanding Ownership in Rust",
                "",
                "",
                OWNERSHIP_TITLE,
                &strings(OWNERSHIP_PARAGRAPHS),
            ),
            (Host::Mirror, "/mirror/ownership-near.html") => page(
                "Ownership, revisited",
                "",
                "",
                OWNERSHIP_TITLE,
                &near_copy_paragraphs(),
            ),
            (Host::Syndicate, "/syndicated/ownership.html") => page(
                "Syndicated: Understanding Ownership in Rust",
                "",
                "<p>This article originally appeared on Fixture Media.</p>\n",
                OWNERSHIP_TITLE,
                &strings(OWNERSHIP_PARAGRAPHS),
            ),
            (Host::Independent, "/blog/ownership-notes.html") => page(
                "Notes on Teaching Ownership",
                "<meta name=\"author\" content=\"Independent Writer\">",
                "",
                "Notes on Teaching Ownership",
                &strings(INDEPENDENT_PARAGRAPHS),
            ),
            (Host::Syndicate, "/drafts/ownership.html") => {
                page("Draft", "", "", "Draft", &strings(DRAFT_PARAGRAPHS))
            }
            _ => return None,
        };
        Some(body)
    }

    fn search_results(&self) -> serde_json::Value {
        let main = self.origin(Host::Main);
        let mirror = self.origin(Host::Mirror);
        let syndicate = self.origin(Host::Syndicate);
        let independent = self.origin(Host::Independent);
        let results: Vec<(String, &str, &str)> = vec![
            (
                format!("{main}/articles/ownership.html"),
                OWNERSHIP_TITLE,
                "Every value in Rust has a single owner.",
            ),
            (
                format!("{main}/articles/ownership.html?utm_source=feed&utm_medium=rss#top"),
                OWNERSHIP_TITLE,
                "Same article, tracked.",
            ),
            (
                format!("{main}/articles/borrowing.html"),
                "Borrowing and References",
                "References without ownership.",
            ),
            (
                format!("{main}/redirect/start"),
                "Lifetimes Explained",
                "Regions in which a reference is valid.",
            ),
            (
                format!("{mirror}/mirror/ownership.html"),
                OWNERSHIP_TITLE,
                "A mirrored copy.",
            ),
            (
                format!("{mirror}/mirror/ownership-near.html"),
                "Ownership, revisited",
                "Nearly the same article.",
            ),
            (
                format!("{syndicate}/syndicated/ownership.html"),
                OWNERSHIP_TITLE,
                "Syndicated.",
            ),
            (
                format!("{syndicate}/drafts/ownership.html"),
                "Draft",
                "Draft notes.",
            ),
            (
                format!("{independent}/blog/ownership-notes.html"),
                "Notes on Teaching Ownership",
                "Teaching ownership.",
            ),
            (
                format!("{main}/private/internal.html"),
                "Internal",
                "Internal memo.",
            ),
            (
                format!("{main}/flaky.html"),
                "Fixing Borrow Checker Errors",
                "Common borrow checker errors.",
            ),
            (
                format!("{main}/slow.html"),
                "Ownership at Length",
                "Slow page.",
            ),
            (
                format!("{main}/huge.html"),
                "Huge archive",
                "A very large page.",
            ),
            (
                format!("{main}/files/ownership.bin"),
                "ownership.bin",
                "A binary file.",
            ),
            (
                format!("{main}/dead.html"),
                "Gone",
                "This page was removed.",
            ),
        ];
        serde_json::json!({
            "results": results.iter().map(|(url, title, content)| serde_json::json!({"url": url, "title": title, "content": content})).collect::<Vec<_>>()
        })
    }
}

async fn handle(
    State((shared, host)): State<(Arc<Shared>, Host)>,
    Query(params): Query<HashMap<String, String>>,
    uri: Uri,
) -> Response {
    let path = uri.path().to_string();
    let logged = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.clone(),
    };
    shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(logged);
    match (host, path.as_str()) {
        (Host::Main, "/robots.txt") => return text("User-agent: *\nDisallow: /private/\n"),
        (Host::Syndicate, "/robots.txt") => {
            return text("User-agent: *\nDisallow:\n\nUser-agent: cadre\nDisallow: /drafts/\n");
        }
        (Host::Main, "/search") => {
            if params.get("format").map(String::as_str) != Some("json") {
                return (StatusCode::FORBIDDEN, "format=json required").into_response();
            }
            return axum::Json(shared.search_results()).into_response();
        }
        (Host::Main, "/redirect/start") => {
            return redirect(StatusCode::MOVED_PERMANENTLY, "/redirect/middle");
        }
        (Host::Main, "/redirect/middle") => {
            return redirect(StatusCode::FOUND, "/articles/lifetimes.html");
        }
        (Host::Main, "/redirect/loop") => return redirect(StatusCode::FOUND, "/redirect/loop"),
        (Host::Main, "/huge.html") => return html(huge_page()),
        (Host::Main, "/files/ownership.bin") => {
            let bytes: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
            return ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response();
        }
        (Host::Main, "/flaky.html")
            if shared.delays && shared.flaky_hits.fetch_add(1, Ordering::SeqCst) == 0 =>
        {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "1")],
                "slow down",
            )
                .into_response();
        }
        (Host::Main, "/slow.html") if shared.delays => tokio::time::sleep(SLOW_PAGE_DELAY).await,
        _ => {}
    }
    match shared.page(host, &path) {
        Some(body) => html(body),
        None => not_found(),
    }
}

impl FixtureWeb {
    /// Starts the four hosts on ephemeral ports.
    pub fn start() -> FixtureWeb {
        Self::start_with(true)
    }

    /// Like [`FixtureWeb::start`], but the slow page answers at once and the flaky page never
    /// answers 429, for tests that do not exercise timeouts or retries.
    pub fn start_without_delays() -> FixtureWeb {
        Self::start_with(false)
    }

    fn start_with(delays: bool) -> FixtureWeb {
        let listeners: Vec<std::net::TcpListener> = (0..4)
            .map(|_| {
                let listener =
                    std::net::TcpListener::bind(("127.0.0.1", 0)).expect("fixture web: bind");
                listener
                    .set_nonblocking(true)
                    .expect("fixture web: set_nonblocking");
                listener
            })
            .collect();
        let addresses: Vec<SocketAddr> = listeners
            .iter()
            .map(|l| l.local_addr().expect("fixture web: address"))
            .collect();
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            flaky_hits: AtomicUsize::new(0),
            addresses: Mutex::new(addresses.clone()),
            delays,
        });
        let (shutdown, signal) = tokio::sync::watch::channel(false);
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fixture-web".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fixture web: runtime");
                runtime.block_on(async move {
                    let mut servers = Vec::new();
                    for (listener, host) in listeners.into_iter().zip([
                        Host::Main,
                        Host::Mirror,
                        Host::Syndicate,
                        Host::Independent,
                    ]) {
                        let listener = tokio::net::TcpListener::from_std(listener)
                            .expect("fixture web: listener");
                        let app = Router::new()
                            .fallback(handle)
                            .with_state((Arc::clone(&state), host));
                        let mut signal = signal.clone();
                        servers.push(tokio::spawn(async move {
                            let _ = axum::serve(listener, app)
                                .with_graceful_shutdown(async move {
                                    let _ = signal.wait_for(|stop| *stop).await;
                                })
                                .await;
                        }));
                    }
                    for server in servers {
                        let _ = server.await;
                    }
                });
            })
            .expect("fixture web: thread");
        FixtureWeb {
            addresses,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The main host, `http://127.0.0.1:PORT` (no trailing slash); it also serves `/search`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addresses[0])
    }

    /// The SearXNG-compatible endpoint's base URL.
    pub fn searxng_url(&self) -> String {
        self.base_url()
    }

    /// The mirror host (exact and near copies of the ownership article; no robots.txt).
    pub fn mirror_url(&self) -> String {
        format!("http://{}", self.addresses[1])
    }

    /// The syndication host (a syndicated copy; robots.txt forbids `/drafts/` to cadre only).
    pub fn syndicate_url(&self) -> String {
        format!("http://{}", self.addresses[2])
    }

    /// An unrelated site with its own article on the same topic (a separate family).
    pub fn independent_url(&self) -> String {
        format!("http://{}", self.addresses[3])
    }

    /// Paths (with query) of every request received on any host, in arrival order.
    pub fn fetch_log(&self) -> Vec<String> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many requests asked for exactly `path` (query ignored).
    pub fn requests_for(&self, path: &str) -> usize {
        self.fetch_log()
            .iter()
            .filter(|p| p.split('?').next() == Some(path))
            .count()
    }

    /// The HTML source of a fixture page given its full URL, as the server sends it.
    pub fn page_source(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix("http://")?;
        let (authority, path) = rest
            .split_once('/')
            .map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
        let path = path.split(['?', '#']).next().unwrap_or("/").to_string();
        let host = match self
            .addresses
            .iter()
            .position(|a| a.to_string() == authority)?
        {
            0 => Host::Main,
            1 => Host::Mirror,
            2 => Host::Syndicate,
            _ => Host::Independent,
        };
        self.shared.page(host, &path)
    }
}

impl Drop for FixtureWeb {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
