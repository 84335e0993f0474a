//! Tools that are not commands show up in `exec --json` as `mcp_tool_call` items and in human
//! output as one line each; a call whose arguments are not JSON is never run nor sent back.

mod common;

use cadre_test_support::model_server::{ModelServer, Reply};
use common::{TestEnv, jsonl};
use serde_json::json;

fn read_tools_script() -> Vec<Reply> {
    vec![
        Reply::tool_calls(vec![
            ("read_file", json!({"path": "a.txt"})),
            ("list_dir", json!({"path": "."})),
            ("grep", json!({"pattern": "alpha"})),
        ]),
        Reply::text("done"),
    ]
}

#[test]
fn non_shell_tools_are_typed_items_in_json() {
    let server = ModelServer::start(read_tools_script());
    let env = TestEnv::new();
    std::fs::write(env.work().join("a.txt"), "alpha\nsecond line\n").unwrap();
    env.configure(&server.base_url(), "chat", "");
    let out = env
        .cadre()
        .args(["exec", "--json", "look"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = jsonl(&out.stdout);
    let items: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["item"]["type"] == "mcp_tool_call")
        .collect();
    assert_eq!(items.len(), 6, "a start and an end per call: {events:#?}");
    let completed: Vec<&serde_json::Value> = items
        .iter()
        .filter(|e| e["type"] == "item.completed")
        .map(|e| &e["item"])
        .collect();
    let tools: Vec<&str> = completed
        .iter()
        .map(|i| i["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools.len(), 3);
    for tool in ["read_file", "list_dir", "grep"] {
        assert!(tools.contains(&tool), "{tools:?}");
    }
    for item in &completed {
        assert_eq!(item["server"], "cadre");
        assert_eq!(item["status"], "completed", "{item}");
        assert_eq!(item["result"]["content"][0]["type"], "text");
    }
    let read = completed.iter().find(|i| i["tool"] == "read_file").unwrap();
    assert_eq!(read["arguments"], json!({"path": "a.txt"}));
    assert!(
        read["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("alpha")
    );
    let started = items.iter().find(|e| e["type"] == "item.started").unwrap();
    assert_eq!(started["item"]["status"], "in_progress");
}

#[test]
fn non_shell_tools_get_a_one_line_summary_in_human_output() {
    let server = ModelServer::start(read_tools_script());
    let env = TestEnv::new();
    std::fs::write(env.work().join("a.txt"), "alpha\nsecond line\n").unwrap();
    env.configure(&server.base_url(), "chat", "");
    let out = env.cadre().args(["exec", "look"]).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summaries: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ↳ ")).collect();
    assert_eq!(summaries.len(), 3, "{stdout}");
    assert!(stdout.contains("· read_file a.txt"), "{stdout}");
}

fn check_invalid_arguments(wire: &str) {
    let server = ModelServer::start(vec![
        // A call cut off mid-arguments, as a model stopped by the output limit sends it.
        Reply::tool_call("read_file", json!("{\"path\": \"READ")),
        Reply::text("done"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), wire, "");
    let out = env
        .cadre()
        .args(["exec", "--json", "read"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = jsonl(&out.stdout);
    let failed = events
        .iter()
        .find(|e| e["item"]["type"] == "mcp_tool_call")
        .unwrap_or_else(|| panic!("{wire}: no tool call item: {events:#?}"));
    assert_eq!(failed["type"], "item.completed");
    assert_eq!(failed["item"]["status"], "failed");
    assert!(
        failed["item"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{wire}");
    let calls = requests[1].function_calls();
    assert_eq!(calls.len(), 1, "{wire}");
    assert_eq!(
        calls[0].2, "{}",
        "{wire}: the broken arguments are not sent back"
    );
    let outputs = requests[1].tool_outputs();
    assert!(
        outputs[0].1.contains("not valid JSON"),
        "{wire}: {}",
        outputs[0].1
    );
}

#[test]
fn invalid_arguments_are_never_run_nor_sent_back_on_the_chat_wire() {
    check_invalid_arguments("chat");
}

#[test]
fn invalid_arguments_are_never_run_nor_sent_back_on_the_responses_wire() {
    check_invalid_arguments("responses");
}

#[test]
fn the_output_cap_is_sent_on_both_wires() {
    for (wire, field, default) in [
        ("chat", "max_tokens", 4096),
        ("responses", "max_output_tokens", 32768),
    ] {
        let server = ModelServer::start(vec![Reply::text("a"), Reply::text("b")]);
        let env = TestEnv::new();
        env.configure(&server.base_url(), wire, "");
        env.cadre().args(["exec", "hi"]).assert().success();
        assert_eq!(server.requests()[0].body[field], json!(default), "{wire}");

        env.configure(&server.base_url(), wire, "model_max_output_tokens = 300");
        env.cadre().args(["exec", "hi"]).assert().success();
        assert_eq!(server.requests()[1].body[field], json!(300), "{wire}");
    }
}

#[test]
fn a_call_that_was_not_run_is_one_line_in_human_output() {
    let server = ModelServer::start(vec![
        Reply::tool_call("read_file", json!("{\"path\": \"READ")),
        Reply::text("done"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let out = env.cadre().args(["exec", "read"]).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("✗ read_file not run"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("not valid JSON (EOF while parsing"), "{line}");
}
