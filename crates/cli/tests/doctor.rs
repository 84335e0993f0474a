//! `cadre doctor` against the scripted model server.

mod common;

use cadre_test_support::model_server::ModelServer;
use common::TestEnv;

#[test]
fn doctor_reports_provider_sandbox_and_masks_secrets() {
    let server = ModelServer::start(vec![]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let config = std::fs::read_to_string(env.home().join("config.toml")).unwrap();
    std::fs::write(
        env.home().join("config.toml"),
        format!("{config}http_headers = {{ Authorization = \"Bearer sk-secret-value\" }}\n"),
    )
    .unwrap();
    let out = env
        .cadre()
        .args(["doctor", "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("sk-secret-value"), "secret leaked: {text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["provider"]["check"]["status"], 200);
    assert_eq!(report["model"], "test-model");
    assert_eq!(report["profile"], "offline");
    assert!(report["sandbox"]["profiles"].as_array().unwrap().len() == 5);
    assert!(report["audit_dir"].as_str().unwrap().ends_with("audit"));
    assert_eq!(
        server.requests().len(),
        0,
        "GET /models is not a model request"
    );

    let out = env.cadre().args(["doctor"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("provider check:  answers"), "{text}");
    assert!(text.contains("****"), "{text}");
}

#[test]
fn doctor_fails_when_the_provider_is_down() {
    let env = TestEnv::new();
    env.configure("http://127.0.0.1:9/v1", "responses", "");
    let out = env.cadre().args(["doctor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no answer"));
}
