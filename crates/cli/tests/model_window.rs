//! A small context window gets the compact system prompt and tool descriptions, and a default
//! output cap that fits it.

mod common;

use cadre_test_support::model_server::{ModelServer, Reply};
use common::TestEnv;
use serde_json::{Value, json};

fn first_request(extra: &str) -> Value {
    let server = ModelServer::start(vec![Reply::text("ok")]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", extra);
    env.cadre().args(["exec", "hi"]).assert().success();
    server.requests()[0].body.clone()
}

fn has_field_descriptions(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, value)| {
            (key == "description" && value.is_string()) || has_field_descriptions(value)
        }),
        Value::Array(items) => items.iter().any(has_field_descriptions),
        _ => false,
    }
}

#[test]
fn a_small_window_gets_the_compact_prompt_and_a_fitting_cap() {
    let full = first_request("");
    let compact = first_request("model_context_window = 4096");
    let system = |body: &Value| body["messages"][0]["content"].as_str().unwrap().to_string();
    assert!(
        system(&compact).len() * 3 < system(&full).len(),
        "compact {} bytes, full {} bytes",
        system(&compact).len(),
        system(&full).len()
    );
    assert!(system(&compact).starts_with("You are cadre"));
    assert_eq!(full["max_tokens"], json!(4096));
    assert_eq!(
        compact["max_tokens"],
        json!(1024),
        "a quarter of the window"
    );

    let tools = |body: &Value| body["tools"].as_array().unwrap().clone();
    assert_eq!(tools(&compact).len(), tools(&full).len(), "the same tools");
    for tool in tools(&compact) {
        assert!(
            !has_field_descriptions(&tool["function"]["parameters"]),
            "{tool}"
        );
    }
    assert!(
        tools(&full)
            .iter()
            .any(|t| has_field_descriptions(&t["function"]["parameters"]))
    );
    let size = |body: &Value| serde_json::to_string(body).unwrap().len();
    eprintln!(
        "first request: full {} bytes, compact {} bytes",
        size(&full),
        size(&compact)
    );
    assert!(size(&compact) * 3 < size(&full) * 2);
}
