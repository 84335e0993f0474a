//! Silence is explained: a model that is slow to answer shows "waiting for the model (N s)" in
//! human output, a retried request shows a retry notice, and a model that never answers ends the
//! turn at the total wait cap with an error naming it.

mod common;

use cadre_test_support::model_server::{ModelServer, Reply};
use common::TestEnv;
use std::time::Duration;

fn exec(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cadre().arg("exec").args(args).output().unwrap()
}

#[test]
fn a_slow_model_shows_the_waiting_notice() {
    let server = ModelServer::start(vec![Reply::text("Here at last.")])
        .with_latency(Duration::from_millis(4500));
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    std::fs::write(
        env.home().join("config.toml"),
        std::fs::read_to_string(env.home().join("config.toml"))
            .unwrap()
            .replace(
                "stream_idle_timeout_ms = 2000",
                "stream_idle_timeout_ms = 10000",
            ),
    )
    .unwrap();
    let out = exec(&env, &["say something"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Here at last."), "{stdout}");
    let notice = regex::Regex::new(r"waiting for the model \((\d+) s\)").unwrap();
    let seconds: Vec<u64> = notice
        .captures_iter(&stderr)
        .map(|c| c[1].parse().unwrap())
        .collect();
    assert!(
        !seconds.is_empty() && seconds.iter().all(|&s| (3..=5).contains(&s)),
        "no waiting notice after 3 s of silence:\n{stderr}"
    );
    assert!(
        !stdout.contains("waiting for the model"),
        "the notice is not part of the answer: {stdout}"
    );
}

#[test]
fn a_quick_model_and_json_output_show_no_waiting_notice() {
    let server = ModelServer::start(vec![Reply::text("Quick."), Reply::text("Quick.")]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = exec(&env, &["say something"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("waiting for the model"));

    let server =
        ModelServer::start(vec![Reply::text("Slow.")]).with_latency(Duration::from_millis(3500));
    env.configure(&server.base_url(), "responses", "");
    std::fs::write(
        env.home().join("config.toml"),
        std::fs::read_to_string(env.home().join("config.toml"))
            .unwrap()
            .replace(
                "stream_idle_timeout_ms = 2000",
                "stream_idle_timeout_ms = 10000",
            ),
    )
    .unwrap();
    let out = exec(&env, &["--json", "say something"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("waiting for the model"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("waiting for the model"));
}

#[test]
fn a_retry_is_announced_in_human_output() {
    let server = ModelServer::start(vec![
        Reply::http_error(503, serde_json::json!({"error": {"message": "overloaded"}})),
        Reply::text("Second time lucky."),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = exec(&env, &["say something"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("retrying (1/3)"), "{stdout}");
    assert!(stdout.contains("HTTP 503"), "{stdout}");
    assert!(stdout.contains("Second time lucky."), "{stdout}");
}

#[test]
fn a_model_that_never_answers_stops_at_the_wait_cap() {
    let server = ModelServer::start(vec![Reply::silent(); 8]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = exec(
        &env,
        &[
            "-c",
            "model_providers.mock.stream_idle_timeout_ms=600",
            "-c",
            "model_providers.mock.request_max_retries=6",
            "-c",
            "model_providers.mock.request_max_wait_ms=1500",
            "say something",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("request_max_wait_ms"), "{stdout}");
    assert!(
        server.requests().len() < 7,
        "every retry was spent: {} requests",
        server.requests().len()
    );
}

#[test]
fn on_a_terminal_the_notice_is_one_line_updated_in_place_and_cleared() {
    let server = ModelServer::start(vec![Reply::text("Here at last.")])
        .with_latency(Duration::from_millis(4500));
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    std::fs::write(
        env.home().join("config.toml"),
        std::fs::read_to_string(env.home().join("config.toml"))
            .unwrap()
            .replace(
                "stream_idle_timeout_ms = 2000",
                "stream_idle_timeout_ms = 10000",
            ),
    )
    .unwrap();
    // `script` (util-linux) gives cadre a terminal and records what it wrote to it.
    let cadre = assert_cmd::cargo::cargo_bin("cadre");
    let out = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("'{}' exec 'say something'", cadre.display()),
            "/dev/null",
        ])
        .env("CADRE_HOME", env.home())
        .env("NO_COLOR", "1")
        .env_remove("OPENAI_API_KEY")
        .current_dir(env.work())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("`script` from util-linux runs");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    let in_place = regex::Regex::new(r"\rwaiting for the model \(\d+ s\)\x1b\[K").unwrap();
    assert!(in_place.is_match(&screen), "no in-place notice: {screen:?}");
    let own_line = regex::Regex::new(r"waiting for the model \(\d+ s\)\r?\n").unwrap();
    assert!(
        !own_line.is_match(&screen),
        "the notice took a line of its own: {screen:?}"
    );
    let cleared = screen.rfind("\r\x1b[K").expect("the notice is cleared");
    let answer = screen.find("Here at last.").expect("the answer");
    assert!(cleared < answer, "{screen:?}");
}
