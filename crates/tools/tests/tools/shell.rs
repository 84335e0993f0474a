use crate::support::Harness;
use cadre_protocol::{EventMsg, ExecStatus, SecurityProfile};
use cadre_tools::GateVerdict;
use serde_json::{Value, json};

fn parse_output(result: &cadre_tools::ToolResult) -> Value {
    serde_json::from_str(&result.output).unwrap_or_else(|e| panic!("{e}: {}", result.output))
}

#[tokio::test]
async fn runs_a_script_and_reports_events_and_exit_code() {
    let mut h = Harness::new();
    let result = h
        .call("shell", json!({"command": "echo hello; echo oops >&2"}))
        .await;
    assert!(result.success, "{}", result.output);
    let body = parse_output(&result);
    assert_eq!(body["metadata"]["exit_code"], 0);
    assert!(body["metadata"]["duration_seconds"].is_number());
    assert!(body.get("timed_out").is_none());
    let output = body["output"].as_str().unwrap();
    assert!(
        output.contains("hello\n") && output.contains("oops\n"),
        "{output}"
    );

    let events = h.events();
    assert!(
        matches!(&events[0], EventMsg::ExecCommandBegin { command, cwd, .. }
        if command == "echo hello; echo oops >&2" && cwd == &h.ctx.cwd)
    );
    let streamed: String = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::ExecCommandOutputDelta { chunk, .. } => Some(chunk.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed.len(), "hello\noops\n".len());
    assert!(matches!(events.last().unwrap(), EventMsg::ExecCommandEnd {
        status: ExecStatus::Completed, exit_code: Some(0), output: end_output, .. } if end_output == output));
    assert_eq!(
        *h.gate.finished_commands.lock().unwrap(),
        [(ExecStatus::Completed, Some(0))]
    );
    assert_eq!(
        h.gate.commands_seen.lock().unwrap()[0],
        ["bash", "-c", "echo hello; echo oops >&2"]
    );
}

#[tokio::test]
async fn argv_runs_directly_in_workdir_and_failures_report_the_exit_code() {
    let h = Harness::new();
    h.write("sub/marker.txt", "");
    let result = h
        .call("shell", json!({"command": ["ls"], "workdir": "sub"}))
        .await;
    assert_eq!(parse_output(&result)["output"], "marker.txt\n");

    let result = h.call("shell", json!({"command": "exit 3"})).await;
    assert!(!result.success);
    assert_eq!(parse_output(&result)["metadata"]["exit_code"], 3);
    assert_eq!(
        h.gate.finished_commands.lock().unwrap()[1],
        (ExecStatus::Failed, Some(3))
    );

    let missing = h
        .call("shell", json!({"command": "ls", "workdir": "nope"}))
        .await;
    assert!(!missing.success);
    assert!(
        missing.output.contains("not a directory"),
        "{}",
        missing.output
    );
}

#[tokio::test]
async fn long_output_is_capped_for_the_model_but_streamed_whole() {
    let mut h = Harness::new();
    let result = h.call("shell", json!({"command": "seq 1 20000"})).await;
    let output = parse_output(&result)["output"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(output.starts_with("1\n2\n3\n"));
    assert!(output.ends_with("19999\n20000\n"));
    assert!(output.contains("lines ("), "{output}");
    assert!(output.contains("omitted of 20000 lines"), "{output}");
    assert!(output.len() <= 11 * 1024, "{}", output.len());
    let events = h.events();
    let streamed: usize = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::ExecCommandOutputDelta { chunk, .. } => Some(chunk.lines().count()),
            _ => None,
        })
        .sum();
    assert!(streamed >= 20000 - 1, "{streamed}");
    assert!(
        matches!(events.last().unwrap(), EventMsg::ExecCommandEnd { output: end, .. } if *end == output)
    );
}

#[tokio::test]
async fn timeout_kills_the_command() {
    let mut h = Harness::new();
    let result = h
        .call(
            "shell",
            json!({"command": "echo started; sleep 30", "timeout_ms": 300}),
        )
        .await;
    assert!(!result.success);
    let body = parse_output(&result);
    assert_eq!(body["timed_out"], true);
    assert!(body["output"].as_str().unwrap().contains("started"));
    assert!(
        body["output"]
            .as_str()
            .unwrap()
            .contains("timed out after 300 ms")
    );
    assert!(matches!(
        h.events().last().unwrap(),
        EventMsg::ExecCommandEnd {
            status: ExecStatus::TimedOut,
            ..
        }
    ));
}

#[tokio::test]
async fn cancellation_interrupts_the_command() {
    let mut h = Harness::new();
    let ctx = h.ctx.clone();
    let registry = h.registry.clone();
    let task = tokio::spawn(async move {
        let call = cadre_tools::ToolCall {
            call_id: "c".into(),
            name: "shell".into(),
            arguments: json!({"command": "echo go; sleep 30"}).to_string(),
        };
        registry.dispatch(&ctx, &call).await
    });
    // Wait until the command has printed, so it is certainly running.
    loop {
        if let EventMsg::ExecCommandOutputDelta { chunk, .. } = h.next_event().await
            && chunk.contains("go")
        {
            break;
        }
    }
    h.ctx.cancel.cancel();
    let result = task.await.unwrap();
    assert!(!result.success);
    assert!(result.output.contains("interrupted"), "{}", result.output);
    assert!(matches!(
        h.events().last().unwrap(),
        EventMsg::ExecCommandEnd {
            status: ExecStatus::Interrupted,
            ..
        }
    ));
}

#[tokio::test]
async fn denied_commands_never_run() {
    for (verdict, abort) in [
        (
            GateVerdict::Deny {
                reason: "rm is not allowed".into(),
            },
            false,
        ),
        (
            GateVerdict::Abort {
                reason: "user aborted".into(),
            },
            true,
        ),
    ] {
        let mut h = Harness::with(SecurityProfile::Trusted, verdict);
        let result = h.call("shell", json!({"command": "touch ran"})).await;
        assert!(!result.success);
        assert_eq!(result.abort_turn, abort);
        assert!(result.output.contains("refused"), "{}", result.output);
        assert!(!h.exists("ran"));
        let events = h.events();
        assert_eq!(events.len(), 1, "{events:?}");
        assert!(matches!(
            &events[0],
            EventMsg::ExecCommandEnd {
                status: ExecStatus::Declined,
                exit_code: None,
                ..
            }
        ));
        assert!(h.gate.finished_commands.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn bad_arguments_and_sandbox_errors_are_explained() {
    let h = Harness::new();
    let result = h.call("shell", json!({"cmd": "ls"})).await;
    assert!(!result.success);
    assert!(
        result.output.contains("missing field `command`"),
        "{}",
        result.output
    );
    assert!(result.output.contains(r#""command": "cargo test""#));
    let result = h.call("shell", json!({"command": []})).await;
    assert!(result.output.contains("empty"), "{}", result.output);

    // A program that cannot be started: the sandbox's error reaches the model.
    let mut h = Harness::with(SecurityProfile::Trusted, GateVerdict::Allow);
    let result = h
        .call("shell", json!({"command": ["cadre-no-such-program-here"]}))
        .await;
    assert!(!result.success);
    assert!(result.output.contains("could not run"), "{}", result.output);
    assert!(
        result.output.contains("cadre-no-such-program-here"),
        "{}",
        result.output
    );
    assert!(matches!(
        h.events().last().unwrap(),
        EventMsg::ExecCommandEnd {
            status: ExecStatus::Failed,
            ..
        }
    ));
}
