//! Commands asked for JSON print a JSON failure document on stdout when they fail, and still
//! exit non-zero.

mod common;

use common::TestEnv;

fn failure_document(stdout: &[u8], command: &str) -> serde_json::Value {
    let document: serde_json::Value = serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(stdout)
        )
    });
    assert_eq!(document["status"], "failed", "{document}");
    assert_eq!(document["command"], command, "{document}");
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(document["error"]["causes"].is_array());
    document
}

#[test]
fn supervisor_format_json_prints_a_json_failure() {
    let env = TestEnv::new();
    env.configure("http://127.0.0.1:9/v1", "chat", "");
    let out = env
        .cadre()
        .args([
            "supervisor",
            "a goal",
            "--plan",
            "no-such-plan.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let document = failure_document(&out.stdout, "supervisor");
    assert!(
        document["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-plan.json"),
        "{document}"
    );
    assert!(!out.stderr.is_empty(), "the message is on stderr too");

    let text = env
        .cadre()
        .args(["supervisor", "a goal", "--plan", "no-such-plan.json"])
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(1));
    assert!(
        text.stdout.is_empty(),
        "text format prints nothing on stdout"
    );
}

#[test]
fn deep_research_format_json_prints_a_json_failure() {
    let env = TestEnv::new();
    std::fs::write(
        env.home().join("config.toml"),
        "model_provider = \"nowhere\"\n",
    )
    .unwrap();
    let out = env
        .cadre()
        .args(["deep-research", "why?", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let document = failure_document(&out.stdout, "deep-research");
    assert!(
        document["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nowhere"),
        "{document}"
    );
}
