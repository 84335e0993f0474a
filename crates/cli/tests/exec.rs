//! `cadre exec` end to end: the real binary against the scripted model server.

mod common;

use cadre_test_support::model_server::{ModelServer, Reply};
use common::{TestEnv, jsonl, redact};
use serde_json::json;

const PATCH_ADD: &str =
    "*** Begin Patch\n*** Add File: notes/hello.txt\n+hello\n+world\n*** End Patch\n";
const PATCH_EDIT: &str = "*** Begin Patch\n*** Update File: notes/hello.txt\n@@\n hello\n-world\n+cadre\n*** End Patch\n";

fn multi_step_script() -> Vec<Reply> {
    vec![
        Reply::tool_call("shell", json!({"command": "echo ran-in-sandbox"})).with_usage(100, 10),
        Reply::tool_call("apply_patch", json!({"patch": PATCH_ADD})).with_usage(120, 20),
        Reply::tool_call("apply_patch", json!({"patch": PATCH_EDIT})).with_usage(140, 20),
        Reply::text("Created notes/hello.txt and edited it.").with_usage(160, 8),
    ]
}

fn run_multi_step(wire: &str) -> (TestEnv, ModelServer, Vec<serde_json::Value>) {
    let server = ModelServer::start(multi_step_script());
    let env = TestEnv::new();
    env.configure(&server.base_url(), wire, "");
    let out = env
        .cadre()
        .args([
            "exec",
            "--json",
            "--profile",
            "workspace-write",
            "create a note",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let events = jsonl(&out.stdout);
    (env, server, events)
}

fn check_multi_step(wire: &str) {
    let (env, server, events) = run_multi_step(wire);
    let content = std::fs::read_to_string(env.work().join("notes/hello.txt")).unwrap();
    assert_eq!(content, "hello\ncadre\n");

    let types: Vec<String> = events
        .iter()
        .map(|e| {
            let t = e["type"].as_str().unwrap().to_string();
            match e.get("item") {
                Some(item) => format!("{t}:{}", item["type"].as_str().unwrap()),
                None => t,
            }
        })
        .collect();
    assert_eq!(
        types,
        vec![
            "thread.started",
            "turn.started",
            "item.started:command_execution",
            "item.completed:command_execution",
            "item.completed:file_change",
            "item.completed:file_change",
            "item.completed:agent_message",
            "turn.completed",
        ]
    );
    let command = &events[3]["item"];
    assert_eq!(command["exit_code"], 0);
    assert_eq!(command["status"], "completed");
    assert!(
        command["aggregated_output"]
            .as_str()
            .unwrap()
            .contains("ran-in-sandbox")
    );
    assert_eq!(
        events[4]["item"]["changes"],
        json!([{"path": "notes/hello.txt", "kind": "add"}])
    );
    assert_eq!(
        events[5]["item"]["changes"],
        json!([{"path": "notes/hello.txt", "kind": "update"}])
    );
    assert_eq!(
        events[6]["item"]["text"],
        "Created notes/hello.txt and edited it."
    );
    assert_eq!(events[7]["usage"]["input_tokens"], 520);
    assert_eq!(events[7]["usage"]["output_tokens"], 58);

    // The model saw each tool's output on the next request.
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    let outputs = requests[1].tool_outputs();
    assert_eq!(outputs.len(), 1);
    assert!(outputs[0].1.contains("ran-in-sandbox"), "{outputs:?}");
    assert!(requests[3].tool_outputs().len() == 3);
    // Every request offers the tools.
    for name in [
        "shell",
        "apply_patch",
        "read_file",
        "list_dir",
        "grep",
        "update_plan",
    ] {
        assert!(
            requests[0].tool_names().contains(&name.to_string()),
            "{name} missing"
        );
    }
}

#[test]
fn multi_step_task_on_the_responses_wire() {
    check_multi_step("responses");
}

#[test]
fn multi_step_task_on_the_chat_wire() {
    check_multi_step("chat");
}

#[test]
fn jsonl_output_snapshot() {
    let (env, _server, events) = run_multi_step("responses");
    let text: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    insta::assert_snapshot!(redact(&text.join("\n"), &[env.dir.path()]));
}

#[test]
fn human_output_snapshot() {
    let server = ModelServer::start(multi_step_script());
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let out = env
        .cadre()
        .args(["exec", "--profile", "workspace-write", "create a note"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(redact(
        &String::from_utf8_lossy(&out.stdout),
        &[env.dir.path()]
    ));
}

#[test]
fn offline_profile_cannot_write() {
    let server = ModelServer::start(vec![
        Reply::tool_call("apply_patch", json!({"patch": PATCH_ADD})),
        Reply::text("could not write"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = env
        .cadre()
        .args(["exec", "--json", "write a note"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!env.work().join("notes/hello.txt").exists());
    let outputs = server.requests()[1].tool_outputs();
    assert!(outputs[0].1.contains("offline"), "{outputs:?}");
}

#[test]
fn parallel_read_only_calls_all_answered() {
    let server = ModelServer::start(vec![
        Reply::tool_calls(vec![
            ("read_file", json!({"path": "a.txt"})),
            ("read_file", json!({"path": "b.txt"})),
            ("list_dir", json!({"path": "."})),
        ]),
        Reply::text("done"),
    ]);
    let env = TestEnv::new();
    std::fs::write(env.work().join("a.txt"), "alpha\n").unwrap();
    std::fs::write(env.work().join("b.txt"), "beta\n").unwrap();
    env.configure(&server.base_url(), "chat", "");
    env.cadre().args(["exec", "read both"]).assert().success();
    let outputs = server.requests()[1].tool_outputs();
    assert_eq!(outputs.len(), 3);
    assert!(outputs[0].1.contains("alpha"));
    assert!(outputs[1].1.contains("beta"));
    assert!(outputs[2].1.contains("a.txt"));
}

#[test]
fn retries_429_with_retry_after_then_succeeds() {
    for wire in ["responses", "chat"] {
        let server = ModelServer::start(vec![
            Reply::http_error(429, json!({"error": {"message": "slow down"}})).retry_after(0),
            Reply::http_error(503, json!({"error": {"message": "busy"}})),
            Reply::cut_off(),
            Reply::text("finally"),
        ]);
        let env = TestEnv::new();
        env.configure(&server.base_url(), wire, "");
        let out = env.cadre().args(["exec", "--json", "hi"]).output().unwrap();
        assert!(
            out.status.success(),
            "{wire}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let events = jsonl(&out.stdout);
        let retries = events
            .iter()
            .filter(|e| {
                e["item"]["type"] == "error"
                    && e["item"]["message"]
                        .as_str()
                        .unwrap()
                        .starts_with("Reconnecting")
            })
            .count();
        assert_eq!(retries, 3, "{wire}");
        assert_eq!(events.last().unwrap()["type"], "turn.completed");
        assert_eq!(server.requests().len(), 4);
    }
}

#[test]
fn silent_stream_counts_as_dropped() {
    let server = ModelServer::start(vec![Reply::silent(), Reply::text("after silence")]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = env
        .cadre()
        .args([
            "-c",
            "model_providers.mock.stream_idle_timeout_ms=300",
            "exec",
            "hi",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("after silence"));
}

fn failing_run(reply: Reply) -> (String, i32) {
    let server = ModelServer::start(vec![reply]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = env.cadre().args(["exec", "--json", "hi"]).output().unwrap();
    let events = jsonl(&out.stdout);
    let last = events.last().expect("events");
    assert_eq!(last["type"], "turn.failed", "{events:?}");
    (
        last["error"]["message"].as_str().unwrap().to_string(),
        out.status.code().unwrap(),
    )
}

#[test]
fn error_paths_end_the_turn_with_advice() {
    let (msg, code) = failing_run(Reply::http_error(
        401,
        json!({"error": {"message": "bad key"}}),
    ));
    assert_eq!(code, 1);
    assert!(msg.contains("401"), "{msg}");
    let (msg, _) = failing_run(Reply::http_error(
        404,
        json!({"error": {"message": "no such model"}}),
    ));
    assert!(msg.contains("test-model"), "{msg}");
    let (msg, _) = failing_run(Reply::context_length_exceeded());
    assert!(msg.contains("context"), "{msg}");
    let (msg, _) = failing_run(Reply::malformed());
    assert!(msg.contains("malformed"), "{msg}");
}

#[test]
fn retries_exhausted_is_reported() {
    let server = ModelServer::start(vec![
        Reply::http_error(500, json!({})),
        Reply::http_error(500, json!({})),
        Reply::http_error(500, json!({})),
        Reply::http_error(500, json!({})),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let out = env.cadre().args(["exec", "hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(server.requests().len(), 4);
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 attempts"));
}

#[test]
fn resume_last_continues_the_conversation() {
    let server = ModelServer::start(vec![
        Reply::text("first answer"),
        Reply::text("second answer"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    env.cadre()
        .args(["exec", "first question"])
        .assert()
        .success();
    let out = env
        .cadre()
        .args(["exec", "--json", "resume", "--last", "follow-up question"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = server.requests();
    let messages = requests[1].messages();
    let texts: Vec<&str> = messages.iter().map(|(_, t)| t.as_str()).collect();
    assert!(texts.contains(&"first question"), "{texts:?}");
    assert!(texts.contains(&"first answer"), "{texts:?}");
    assert_eq!(
        requests[1].last_user_text().as_deref(),
        Some("follow-up question")
    );
    // Same thread id both times.
    let sessions: Vec<_> = std::fs::read_dir(env.home().join("sessions"))
        .unwrap()
        .collect();
    assert_eq!(sessions.len(), 1);
}

#[test]
fn resume_by_id_and_unknown_id() {
    let server = ModelServer::start(vec![Reply::text("one"), Reply::text("two")]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let out = env.cadre().args(["exec", "--json", "q1"]).output().unwrap();
    let thread = jsonl(&out.stdout)[0]["thread_id"]
        .as_str()
        .unwrap()
        .to_string();
    env.cadre()
        .args(["exec", "resume", &thread, "q2"])
        .assert()
        .success();
    assert!(
        server.requests()[1]
            .messages()
            .iter()
            .any(|(_, t)| t == "one")
    );
    let out = env
        .cadre()
        .args(["exec", "resume", "nosuchid", "q3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuchid"));
}

#[test]
fn prompt_from_stdin_and_last_message_file() {
    let server = ModelServer::start(vec![Reply::text("the answer")]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let file = env.dir.path().join("last.txt");
    env.cadre()
        .args(["exec", "-o", file.to_str().unwrap(), "-"])
        .write_stdin("question from stdin")
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(file).unwrap(), "the answer");
    assert_eq!(
        server.requests()[0].last_user_text().as_deref(),
        Some("question from stdin")
    );
}

#[test]
fn agents_md_and_environment_reach_the_model() {
    let server = ModelServer::start(vec![Reply::text("ok")]);
    let env = TestEnv::new();
    std::fs::create_dir_all(env.work().join(".git")).unwrap();
    std::fs::write(env.work().join("AGENTS.md"), "Always run the linter.").unwrap();
    env.configure(&server.base_url(), "responses", "");
    env.cadre().args(["exec", "hi"]).assert().success();
    let request = &server.requests()[0];
    let all: String = request.messages().iter().map(|(_, t)| t.clone()).collect();
    assert!(all.contains("Always run the linter."));
    assert!(all.contains("<security_profile>offline</security_profile>"));
    assert!(request.instructions().unwrap().contains("cadre"));
}

#[test]
fn config_precedence_file_env_override_flag() {
    let server = ModelServer::start(vec![
        Reply::text("1"),
        Reply::text("2"),
        Reply::text("3"),
        Reply::text("4"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    std::fs::create_dir_all(env.work().join(".cadre")).unwrap();
    std::fs::write(
        env.work().join(".cadre/config.toml"),
        "model = \"project-model\"\n",
    )
    .unwrap();
    env.cadre().arg("trust").assert().success();
    env.cadre().args(["exec", "q"]).assert().success();
    env.cadre()
        .env("CADRE_MODEL", "env-model")
        .args(["exec", "q"])
        .assert()
        .success();
    env.cadre()
        .env("CADRE_MODEL", "env-model")
        .args(["-c", "model=override-model", "exec", "q"])
        .assert()
        .success();
    env.cadre()
        .args([
            "-c",
            "model=override-model",
            "exec",
            "--model",
            "flag-model",
            "q",
        ])
        .assert()
        .success();
    let models: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.model().unwrap().to_string())
        .collect();
    assert_eq!(
        models,
        vec!["project-model", "env-model", "override-model", "flag-model"]
    );
}

#[test]
fn config_errors_name_file_key_and_expectation() {
    let env = TestEnv::new();
    std::fs::write(
        env.home().join("config.toml"),
        "model = \"x\"\nmodle_provider = \"y\"\n",
    )
    .unwrap();
    let out = env.cadre().args(["exec", "q"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml") && err.contains("modle_provider"),
        "{err}"
    );

    std::fs::write(
        env.home().join("config.toml"),
        "[limits]\nmax_model_calls_per_turn = \"lots\"\n",
    )
    .unwrap();
    let err = String::from_utf8_lossy(&env.cadre().args(["exec", "q"]).output().unwrap().stderr)
        .to_string();
    assert!(
        err.contains("max_model_calls_per_turn") && err.contains("expected u32"),
        "{err}"
    );

    std::fs::write(env.home().join("config.toml"), "").unwrap();
    let out = env
        .cadre()
        .args(["exec", "--profile", "bogus", "q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workspace-write"));
}

#[test]
fn turn_limit_stops_a_looping_model() {
    let server = ModelServer::with_handler(|_| Reply::tool_call("list_dir", json!({"path": "."})));
    let env = TestEnv::new();
    env.configure(
        &server.base_url(),
        "chat",
        "[limits]\nmax_model_calls_per_turn = 3\n",
    );
    let out = env
        .cadre()
        .args(["exec", "--json", "loop"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let events = jsonl(&out.stdout);
    let last = events.last().unwrap();
    assert_eq!(last["type"], "turn.failed");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 model calls")
    );
    assert_eq!(server.requests().len(), 3);
}

fn shell_then_answer(command: &str) -> ModelServer {
    ModelServer::start(vec![
        Reply::tool_call("shell", json!({"command": command})),
        Reply::text("done"),
    ])
}

fn command_item(stdout: &[u8]) -> serde_json::Value {
    jsonl(stdout)
        .into_iter()
        .find(|e| e["type"] == "item.completed" && e["item"]["type"] == "command_execution")
        .expect("a command item")["item"]
        .clone()
}

#[test]
fn forbidden_command_is_declined_and_never_runs() {
    let server = shell_then_answer("rm -rf / --no-preserve-root");
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let out = env
        .cadre()
        .args([
            "exec",
            "--json",
            "--profile",
            "trusted",
            "-a",
            "never",
            "clean up",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let item = command_item(&out.stdout);
    assert_eq!(item["status"], "declined");
    let output = &server.requests()[1].tool_outputs()[0].1;
    assert!(output.contains("forbidden by policy rule"), "{output}");
}

#[test]
fn approval_modes_settle_ask_without_a_human() {
    let policy = "[[rule]]\nid = \"ask-touch\"\ndecision = \"ask\"\ncommand = [\"touch\"]\n";
    // Under on-request the sandbox holds whatever a sandboxed profile runs; only unconfined
    // commands are asked about.
    for (profile, mode, runs) in [
        ("workspace-write", "on-request", true),
        ("trusted", "on-request", false),
        ("workspace-write", "untrusted", false),
        ("workspace-write", "never", true),
    ] {
        let server = shell_then_answer("touch marker");
        let env = TestEnv::new();
        env.configure(&server.base_url(), "chat", "");
        std::fs::write(env.home().join("policy.toml"), policy).unwrap();
        let out = env
            .cadre()
            .args([
                "exec",
                "--json",
                "--profile",
                profile,
                "-a",
                mode,
                "touch it",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{mode}");
        assert_eq!(env.work().join("marker").exists(), runs, "{mode}");
        let item = command_item(&out.stdout);
        assert_eq!(
            item["status"],
            if runs { "completed" } else { "declined" },
            "{mode}"
        );
    }
    // An unknown command runs under on-request but needs approval under untrusted.
    for (mode, runs) in [("on-request", true), ("untrusted", false)] {
        let server = shell_then_answer("mkdir made-here");
        let env = TestEnv::new();
        env.configure(&server.base_url(), "chat", "");
        env.cadre()
            .args([
                "exec",
                "--profile",
                "workspace-write",
                "-a",
                mode,
                "make it",
            ])
            .assert()
            .success();
        assert_eq!(env.work().join("made-here").exists(), runs, "{mode}");
    }
}

#[test]
fn ctrl_c_kills_the_command_and_records_the_interruption() {
    let server = ModelServer::start(vec![
        Reply::tool_call(
            "shell",
            json!({"command": "touch started; sleep 30; touch finished"}),
        ),
        Reply::text("never reached"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let binary = assert_cmd::cargo::cargo_bin("cadre");
    let child = std::process::Command::new(binary)
        .args(["exec", "--json", "--profile", "workspace-write", "wait"])
        .env("CADRE_HOME", env.home())
        .current_dir(env.work())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !env.work().join("started").exists() {
        assert!(
            started.elapsed().as_secs() < 20,
            "the command never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: sending SIGINT to a child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(started.elapsed().as_secs() < 20);
    assert!(!env.work().join("finished").exists());
    let events = jsonl(&out.stdout);
    assert_eq!(events.last().unwrap()["type"], "turn.failed");
    let transcript = std::fs::read_dir(env.home().join("sessions"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(transcript).unwrap();
    assert!(
        text.contains("\"turn_aborted\"") && text.contains("interrupted"),
        "{text}"
    );
    // The model was not asked again after the interruption.
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn every_action_is_in_a_verifiable_redacted_audit_log() {
    let fake_key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    let server = ModelServer::start(vec![
        Reply::tool_call(
            "shell",
            json!({"command": format!("echo {fake_key} > /dev/null; echo audited")}),
        ),
        Reply::tool_call("apply_patch", json!({"patch": PATCH_ADD})),
        Reply::text("done"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    env.cadre()
        .args(["exec", "--profile", "workspace-write", "-a", "never", "go"])
        .assert()
        .success();
    env.cadre().args(["audit", "verify"]).assert().success();
    let out = env
        .cadre()
        .args(["audit", "show", "--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!text.contains(fake_key), "secret in the audit log: {text}");
    assert!(text.contains("[REDACTED:"), "{text}");
    let records = jsonl(&out.stdout);
    let events: Vec<&str> = records
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    for expected in [
        "session_start",
        "config_loaded",
        "policy_loaded",
        "network",
        "command",
        "command_end",
        "file_change",
        "session_end",
    ] {
        assert!(
            events.contains(&expected),
            "{expected} missing from {events:?}"
        );
    }
    let command = records.iter().find(|r| r["event"] == "command").unwrap();
    assert_eq!(command["decision"], "allow");
    assert_eq!(command["profile"], "workspace-write");
    assert!(command["policy_rule"].is_string());
    let session_id = &records[0]["session_id"];
    assert!(records.iter().all(|r| &r["session_id"] == session_id));
    // The command record was written before the command ran: it precedes its end.
    let decided = events.iter().position(|e| *e == "command").unwrap();
    let ended = events.iter().position(|e| *e == "command_end").unwrap();
    assert!(decided < ended);
}

#[test]
fn unwritable_audit_log_stops_restricted_profiles_at_start_up_and_warns_under_trusted() {
    // A directory under a regular file cannot be created, not even by root.
    for (profile, runs) in [("workspace-write", false), ("trusted", true)] {
        let server = shell_then_answer("touch touched");
        let env = TestEnv::new();
        std::fs::write(env.dir.path().join("blocker"), "a file, not a directory").unwrap();
        env.configure(&server.base_url(), "chat", "");
        let audit_path = env.dir.path().join("blocker/audit");
        let audit_dir = format!("audit.dir=\"{}\"", audit_path.display());
        let out = env
            .cadre()
            .args([
                "-c",
                &audit_dir,
                "exec",
                "--json",
                "--profile",
                profile,
                "-a",
                "never",
                "touch",
            ])
            .output()
            .unwrap();
        assert_eq!(env.work().join("touched").exists(), runs, "{profile}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if runs {
            assert!(out.status.success(), "{profile}: {stderr}");
            assert!(stdout.contains("audit log not written"), "{stdout}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{profile}: {stdout}");
            assert!(
                server.requests().is_empty(),
                "the model was asked before the start-up failure"
            );
            assert!(stdout.is_empty(), "{stdout}");
            for needed in [
                "cannot start under the workspace-write profile",
                &audit_path.display().to_string(),
                "audit.enabled=false",
                "Not a directory",
            ] {
                assert!(stderr.contains(needed), "{needed} missing from: {stderr}");
            }
        }
    }
}

#[test]
fn proxy_refusals_reach_the_audit_log() {
    let server = shell_then_answer("curl -sS http://outside.example/ ; echo curl-done");
    let env = TestEnv::new();
    env.configure(
        &server.base_url(),
        "chat",
        "[network]\nallow = [\"docs.rs\"]\n",
    );
    env.cadre()
        .args(["exec", "--profile", "workspace-net", "-a", "never", "fetch"])
        .assert()
        .success();
    let output = &server.requests()[1].tool_outputs()[0].1;
    assert!(output.contains("not on the network allowlist"), "{output}");
    let out = env
        .cadre()
        .args(["audit", "show", "--format", "json"])
        .output()
        .unwrap();
    let records = jsonl(&out.stdout);
    let refused = records
        .iter()
        .find(|r| r["origin"] == "proxy")
        .unwrap_or_else(|| panic!("no proxy record in {records:?}"));
    assert_eq!(refused["host"], "outside.example");
    assert_eq!(refused["decision"], "deny");
}

#[test]
fn the_agent_can_research_local_files_with_checked_citations() {
    let server = ModelServer::with_handler(|request| {
        let tools = request.tool_names();
        if tools
            .iter()
            .any(|t| t == "submit_queries" || t == "submit_report" || t == "submit_verdict")
        {
            // The research pipeline's own calls: an unusable answer makes it fall back to the
            // engine's model-free steps.
            return Reply::text("no structured answer");
        }
        if request.tool_outputs().is_empty() {
            Reply::tool_call(
                "research",
                json!({"question": "how does the frobnicator rotate keys", "provider": "local", "paths": ["docs"]}),
            )
        } else {
            Reply::text("answered from the docs")
        }
    });
    let env = TestEnv::new();
    std::fs::create_dir_all(env.work().join("docs")).unwrap();
    std::fs::write(
        env.work().join("docs/keys.md"),
        "# Key rotation\n\nThe frobnicator rotates its signing keys every thirty days and keeps the previous key for verification.\n",
    )
    .unwrap();
    env.configure(&server.base_url(), "chat", "");
    env.cadre().args(["exec", "research it"]).assert().success();
    let requests = server.requests();
    let agent_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.tool_names().iter().any(|t| t == "research"))
        .collect();
    let output = &agent_requests.last().unwrap().tool_outputs()[0].1;
    assert!(output.contains("file://"), "{output}");
    assert!(output.contains("rotates its signing keys"), "{output}");
}
