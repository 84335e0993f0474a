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

/// A stand-in for a vLLM server: `GET /v1/models` lists the model with its `max_model_len`.
fn vllm_models_server() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let (status, body) = if request_line.starts_with("GET /v1/models ") {
                (
                    "200 OK",
                    r#"{"object":"list","data":[{"id":"test-model","object":"model","max_model_len":4096}]}"#,
                )
            } else {
                ("404 Not Found", r#"{"error":"not found"}"#)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}/v1")
}

#[test]
fn doctor_shows_the_context_window_the_server_reports() {
    let env = TestEnv::new();
    env.configure(&vllm_models_server(), "chat", "");
    let out = env
        .cadre()
        .args(["doctor", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["model_window"],
        serde_json::json!({
            "context_window": {"tokens": 4096, "source": "vllm"},
            "max_output_tokens": 1024,
            "compact_prompt": true,
        })
    );
    let out = env.cadre().args(["doctor"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("context window:  4096 tokens (vLLM max_model_len)"),
        "{text}"
    );

    env.configure(
        &vllm_models_server(),
        "chat",
        "model_context_window = 200000\nmodel_max_output_tokens = 2000",
    );
    let out = env
        .cadre()
        .args(["doctor", "--offline", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["model_window"],
        serde_json::json!({
            "context_window": {"tokens": 200000, "source": "configured"},
            "max_output_tokens": 2000,
            "compact_prompt": false,
        })
    );
}
