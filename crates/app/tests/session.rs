//! Sessions started through the app: the typed event stream, resume, and a restricted profile
//! that refuses to start without its audit log.

use cadre_app::{App, AppError, ResumeSelector, SessionRequest};
use cadre_protocol::{EventMsg, Op, SecurityProfile};
use cadre_test_support::model_server::{ModelServer, Reply};
use std::path::Path;

fn configure(home: &Path, server: &ModelServer, extra: &str) {
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = \"test-model\"\nmodel_provider = \"mock\"\n{extra}\n[model_providers.mock]\nname = \"Scripted\"\nbase_url = \"{}\"\nwire_api = \"chat\"\nrequest_max_retries = 0\n",
            server.base_url()
        ),
    )
    .unwrap();
}

/// Sends one prompt, shuts down, and returns every event the session emitted.
async fn run_one(app: &App, request: SessionRequest, prompt: &str) -> (String, Vec<EventMsg>) {
    let mut started = app.start_session(request).await.unwrap();
    started.handle.submit(Op::UserInput {
        text: prompt.into(),
    });
    started.handle.submit(Op::Shutdown);
    let mut events = Vec::new();
    while let Some(event) = started.handle.events.recv().await {
        let done = matches!(event.msg, EventMsg::ShutdownComplete);
        events.push(event.msg);
        if done {
            break;
        }
    }
    (started.session_id, events)
}

#[tokio::test]
async fn a_session_streams_protocol_events_and_resumes_under_its_own_profile() {
    let dir = tempfile::tempdir().unwrap();
    let (home, work) = (dir.path().join("home"), dir.path().join("work"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let server = ModelServer::start(vec![
        Reply::tool_call(
            "shell",
            serde_json::json!({"command": "echo hi > made.txt"}),
        ),
        Reply::text("made it"),
        Reply::text("still here"),
    ]);
    configure(&home, &server, "");
    let app = App::new(Vec::new()).with_cadre_home(&home);

    let request = SessionRequest {
        cd: Some(work.clone()),
        flags: cadre_core::ConfigToml {
            profile: Some(SecurityProfile::WorkspaceWrite),
            ..Default::default()
        },
        ..SessionRequest::default()
    };
    let (first_id, events) = run_one(&app, request, "make a file").await;
    assert!(work.join("made.txt").exists(), "{events:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        EventMsg::TurnComplete { last_agent_message: Some(text), .. } if text == "made it"
    )));

    // Resumed from elsewhere, with no flags: the same session, its directory and profile.
    let resume = SessionRequest {
        cd: None,
        resume: Some(ResumeSelector::Id(first_id.clone())),
        ..SessionRequest::default()
    };
    let (config, path, id) = app.prepare_session(&resume).unwrap();
    assert_eq!(id, first_id);
    assert!(path.is_some());
    assert_eq!(config.profile, SecurityProfile::WorkspaceWrite);
    assert_eq!(config.cwd, std::fs::canonicalize(&work).unwrap());
    let (resumed_id, events) = run_one(&app, resume, "and now?").await;
    assert_eq!(resumed_id, first_id);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::TurnComplete { .. }))
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_restricted_profile_does_not_start_without_its_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // A directory under a regular file cannot be created, not even by root.
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    let server = ModelServer::start(vec![Reply::text("never asked")]);
    configure(
        &home,
        &server,
        &format!(
            "[audit]\ndir = \"{}\"",
            dir.path().join("a-file/audit").display()
        ),
    );
    let app = App::new(Vec::new()).with_cadre_home(&home);
    let request = SessionRequest {
        cd: Some(dir.path().to_path_buf()),
        flags: cadre_core::ConfigToml {
            profile: Some(SecurityProfile::WorkspaceWrite),
            ..Default::default()
        },
        ..SessionRequest::default()
    };
    let Err(err) = app.start_session(request).await else {
        panic!("the session started without its audit log");
    };
    assert!(matches!(err, AppError::AuditRequired { .. }), "{err}");
    assert!(server.requests().is_empty());
}
