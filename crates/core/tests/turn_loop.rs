//! The turn loop at core level, against the scripted model server (strict mode): a tool call
//! and its output, the turn cap as a typed abort, and a call with broken arguments that is
//! never run.

use cadre_core::audit_sink::NoAudit;
use cadre_core::{Config, ConfigToml, LoadOptions, SessionOptions};
use cadre_protocol::{AbortReason, EventMsg, Op, SecurityProfile};
use cadre_test_support::model_server::{ModelServer, Reply};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

fn config(dir: &Path, server: &ModelServer, extra: &str) -> Config {
    let home = dir.join("home");
    let work = dir.join("work");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = \"m\"\nmodel_provider = \"mock\"\n{extra}\n[audit]\nenabled = false\n[model_providers.mock]\nname = \"Scripted\"\nbase_url = \"{}\"\nwire_api = \"responses\"\nrequest_max_retries = 0\n",
            server.base_url()
        ),
    )
    .unwrap();
    Config::load(LoadOptions {
        cadre_home: Some(home),
        cwd: Some(work),
        user_home: None,
        overrides: Vec::new(),
        flags: ConfigToml {
            profile: Some(SecurityProfile::WorkspaceWrite),
            ..ConfigToml::default()
        },
    })
    .unwrap()
}

/// Runs one turn of `prompt` and returns every event up to the session's end.
async fn one_turn(config: Config, prompt: &str) -> Vec<EventMsg> {
    let mut handle = cadre_core::spawn(SessionOptions {
        config,
        resume: None,
        interactive: false,
        launcher: None,
        policy: Arc::new(cadre_policy::Policy::builtin()),
        audit: Arc::new(NoAudit),
        agent_id: None,
        parent_session_id: None,
        tools: None,
        extra_instructions: None,
        session_id: None,
    })
    .await
    .unwrap();
    handle.submit(Op::UserInput {
        text: prompt.into(),
    });
    handle.submit(Op::Shutdown);
    let mut events = Vec::new();
    while let Some(event) = handle.events.recv().await {
        let end = matches!(event.msg, EventMsg::ShutdownComplete);
        events.push(event.msg);
        if end {
            break;
        }
    }
    events
}

#[tokio::test]
async fn a_tool_call_runs_and_its_output_goes_back_with_its_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = ModelServer::start(vec![
        Reply::tool_call("shell", json!({"command": "echo from-the-sandbox"})),
        Reply::text("done"),
    ]);
    let events = one_turn(config(dir.path(), &server, ""), "run it").await;
    assert!(
        events.iter().any(|e| matches!(
            e,
            EventMsg::ExecCommandEnd { exit_code: Some(0), output, .. } if output.contains("from-the-sandbox")
        )),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        EventMsg::TurnComplete { last_agent_message: Some(text), .. } if text == "done"
    )));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let outputs = requests[1].tool_outputs();
    assert_eq!(outputs.len(), 1);
    assert!(outputs[0].1.contains("from-the-sandbox"), "{outputs:?}");
}

#[tokio::test]
async fn the_turn_cap_ends_the_turn_with_a_typed_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        ModelServer::with_handler(|_| Reply::tool_call("shell", json!({"command": "true"})));
    let config = config(
        dir.path(),
        &server,
        "[limits]\nmax_model_calls_per_turn = 3",
    );
    let events = one_turn(config, "loop").await;
    let reason = events
        .iter()
        .find_map(|e| match e {
            EventMsg::TurnAborted { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .expect("the turn was aborted");
    assert_eq!(reason, AbortReason::ModelCallLimit { calls: 3 });
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_call_with_broken_arguments_is_never_run_and_never_sent_back_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let server = ModelServer::start(vec![
        // A JSON string is sent verbatim as the arguments: cut off mid-call.
        Reply::tool_call("shell", json!("{\"command\": \"touch made")),
        Reply::text("sorry"),
    ]);
    let config = config(dir.path(), &server, "");
    let work = config.cwd.clone();
    let events = one_turn(config, "break it").await;
    assert!(!work.join("made").exists());
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, EventMsg::ExecCommandBegin { .. }))
    );
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "the strict server accepted the follow-up"
    );
    for (_, _, arguments) in requests[1].function_calls() {
        assert!(
            serde_json::from_str::<serde_json::Value>(&arguments).is_ok(),
            "{arguments}"
        );
    }
}
