//! Sessions in real life: `cadre exec` stopped by signals (and SIGKILL) leaves no process behind
//! and resumes cleanly against a strict model server; resume keeps the session's directory and
//! profile; finding sessions (`--last`, prefixes, short ids); `cadre sessions`; empty prompts.
#![cfg(target_os = "linux")]

mod common;

use cadre_test_support::model_server::{ModelServer, Reply};
use common::{TestEnv, jsonl};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ABORTED: &str = "aborted: cadre stopped before it finished";

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_pid(path: &Path) -> i32 {
    let mut pid = None;
    wait_for(&format!("{}", path.display()), || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        pid.is_some()
    });
    pid.unwrap()
}

/// Whether `pid` is a live process (a zombie waiting for its reaper counts as gone).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.trim().chars().next());
            state != Some('Z') && state != Some('X')
        }
        Err(_) => false,
    }
}

/// `cadre ARGS` in the env's workspace, running in the background with its output discarded.
fn spawn_cadre(env: &TestEnv, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("cadre"))
        .args(args)
        .env("CADRE_HOME", env.home())
        .env_remove("CADRE_PROFILE")
        .current_dir(env.work())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Once the command's shell (its pid in `shell_pid_file`) and its background `sleep`
/// (`sleep.pid`) run, sends `signal` to cadre; returns cadre's exit status after checking that
/// neither process outlives it.
fn signal_mid_command(
    env: &TestEnv,
    child: &mut std::process::Child,
    shell_pid_file: &str,
    signal: i32,
) -> std::process::ExitStatus {
    let shell = read_pid(&env.work().join(shell_pid_file));
    let sleep = read_pid(&env.work().join("sleep.pid"));
    assert!(alive(shell) && alive(sleep));
    // SAFETY: signalling a child we spawned.
    unsafe { libc::kill(child.id() as i32, signal) };
    let status = child.wait().unwrap();
    wait_for("the command's processes to end", || {
        !alive(shell) && !alive(sleep)
    });
    status
}

fn transcripts(env: &TestEnv) -> Vec<PathBuf> {
    std::fs::read_dir(env.home().join("sessions"))
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// `cadre exec` runs a command that starts a background `sleep 30`; `signal` is sent to cadre
/// once both are running. Nothing of the command may survive, and a resume must be accepted by
/// the strict server. Returns cadre's exit status, the output the resumed request carried and
/// what the resume printed.
fn stop_mid_command(signal: i32) -> (std::process::ExitStatus, String, String) {
    let server = ModelServer::start(vec![
        Reply::tool_call_with_id(
            "call_sleep",
            "shell",
            json!({"command": "echo $$ > shell.pid; sleep 30 & echo $! > sleep.pid; wait; touch finished"}),
        ),
        Reply::text("resumed fine"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    // `-a never`: the redirections would otherwise need an approval no one can give.
    let mut child = spawn_cadre(
        &env,
        &[
            "exec",
            "--json",
            "--profile",
            "workspace-write",
            "-a",
            "never",
            "sleep a while",
        ],
    );
    let status = signal_mid_command(&env, &mut child, "shell.pid", signal);
    assert!(!env.work().join("finished").exists());

    let out = env
        .cadre()
        .args(["exec", "--json", "resume", "--last", "go on"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "resume after signal {signal}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let outputs = requests[1].tool_outputs();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(outputs[0].0, "call_sleep");
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    (status, outputs[0].1.clone(), printed)
}

#[test]
fn sigterm_stops_the_command_records_it_and_exits_143() {
    let (status, output, _) = stop_mid_command(libc::SIGTERM);
    assert_eq!(status.code(), Some(143));
    assert!(output.contains("interrupted"), "{output}");
}

#[test]
fn sighup_stops_the_command_records_it_and_exits_129() {
    let (status, output, _) = stop_mid_command(libc::SIGHUP);
    assert_eq!(status.code(), Some(129));
    assert!(output.contains("interrupted"), "{output}");
}

#[test]
fn sigkill_takes_the_command_along_and_resume_closes_the_call() {
    use std::os::unix::process::ExitStatusExt;
    let (status, output, printed) = stop_mid_command(libc::SIGKILL);
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(output, ABORTED);
    assert!(
        printed.contains("never finished (cadre was stopped)"),
        "{printed}"
    );
}

#[test]
fn resume_keeps_the_directory_and_profile_unless_told_otherwise() {
    let server = ModelServer::start(vec![
        Reply::text("started"),
        Reply::tool_call("shell", json!({"command": "pwd > where.txt"})),
        Reply::text("wrote it"),
        Reply::text("moved"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let elsewhere = env.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    env.cadre()
        .args(["exec", "--profile", "workspace-write", "set up"])
        .assert()
        .success();

    // From another directory, without --profile: the command runs in the session's directory
    // and may write there (the default profile, offline, would refuse).
    let out = env
        .cadre()
        .current_dir(&elsewhere)
        .args([
            "exec",
            "--json",
            "-a",
            "never",
            "resume",
            "--last",
            "--all",
            "where are you",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(env.work().join("where.txt")).unwrap();
    assert_eq!(Path::new(written.trim()), env.work());
    assert!(!elsewhere.join("where.txt").exists());
    let requests = server.requests();
    let told = |index: usize| -> Vec<String> {
        requests[index]
            .messages()
            .into_iter()
            .map(|(_, text)| text)
            .filter(|text| text.contains("<environment_"))
            .collect()
    };
    assert_eq!(
        told(1).len(),
        1,
        "one environment block, not a second: {:?}",
        told(1)
    );
    assert!(told(1)[0].contains("<security_profile>workspace-write</security_profile>"));

    // A flag changes them, and the model is told what changed.
    env.cadre()
        .args(["exec", "--profile", "offline", "-C"])
        .arg(&elsewhere)
        .args(["resume", "--last", "--all", "and now"])
        .assert()
        .success();
    let requests = server.requests();
    let blocks: Vec<String> = requests[3]
        .messages()
        .into_iter()
        .map(|(_, text)| text)
        .filter(|text| text.contains("<environment_change>"))
        .collect();
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    let change = &blocks[0];
    assert!(
        change.contains("the security profile is now offline (it was workspace-write)"),
        "{change}"
    );
    assert!(
        change.contains(&format!(
            "the working directory is now {}",
            elsewhere.display()
        )),
        "{change}"
    );
    assert!(
        change.contains(&format!("<cwd>{}</cwd>", elsewhere.display())),
        "{change}"
    );
    // The next resume continues where the last one left it.
    let listed = env
        .cadre()
        .args(["sessions", "--all", "--format", "json"])
        .output()
        .unwrap();
    let sessions: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(sessions[0]["cwd"], json!(elsewhere));
}

/// A transcript as the supervisor writes it for one of its agents.
fn write_sub_agent_session(env: &TestEnv, id: &str, parent: &str) {
    let meta = json!({
        "type": "session_meta", "id": id, "created_at": "2026-01-01T00:00:00Z",
        "cwd": env.work(), "model": "test-model", "provider": "mock", "profile": "offline",
        "cadre_version": "0", "parent_session_id": parent,
    });
    let prompt = json!({"type": "turn_started", "turn_id": "turn_1", "ts": "2026-01-01T00:00:00Z"});
    let user = json!({"type": "item", "item": {"type": "message", "role": "user", "content": "sub-agent task"}});
    let path = env
        .home()
        .join("sessions")
        .join(format!("2026-01-01T00-00-00-{id}.jsonl"));
    std::fs::write(path, format!("{meta}\n{prompt}\n{user}\n")).unwrap();
}

fn thread_id(stdout: &[u8]) -> String {
    jsonl(stdout)[0]["thread_id"].as_str().unwrap().to_string()
}

#[test]
fn last_skips_sub_agents_and_other_directories() {
    let server = ModelServer::start(vec![
        Reply::text("mine"),
        Reply::text("other directory"),
        Reply::text("continued"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let out = env
        .cadre()
        .args(["exec", "--json", "my task"])
        .output()
        .unwrap();
    let mine = thread_id(&out.stdout);
    let other = env.dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    env.cadre()
        .current_dir(&other)
        .args(["exec", "elsewhere task"])
        .assert()
        .success();
    // Newest of all: a supervisor's sub-agent working in the same directory.
    write_sub_agent_session(&env, "0190aaaa-bbbb-7ccc-8ddd-000000000001", &mine);

    let out = env
        .cadre()
        .args(["exec", "--json", "resume", "--last", "follow up"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(thread_id(&out.stdout), mine);
    let texts: Vec<String> = server.requests()[2]
        .messages()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    assert!(texts.iter().any(|t| t == "my task"), "{texts:?}");
    assert!(
        !texts.iter().any(|t| t.contains("elsewhere task")),
        "{texts:?}"
    );

    // A directory with no session of the user's says so and points at --all.
    let empty = env.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = env
        .cadre()
        .current_dir(&empty)
        .args(["exec", "resume", "--last", "hello"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--all"), "{stderr}");
}

#[test]
fn an_ambiguous_prefix_lists_the_candidates_and_short_ids_resume() {
    let server = ModelServer::start(vec![
        Reply::text("one"),
        Reply::text("two"),
        Reply::text("three"),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let first = thread_id(
        &env.cadre()
            .args(["exec", "--json", "q1"])
            .output()
            .unwrap()
            .stdout,
    );
    let second = thread_id(
        &env.cadre()
            .args(["exec", "--json", "q2"])
            .output()
            .unwrap()
            .stdout,
    );
    let common: String = first
        .chars()
        .zip(second.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    assert!(!common.is_empty(), "{first} {second}");
    let out = env
        .cadre()
        .args(["exec", "resume", &common, "q3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ambiguous"), "{stderr}");
    let short = |id: &str| id.rsplit('-').next().unwrap().to_string();
    assert!(
        stderr.contains(&short(&first)) && stderr.contains(&short(&second)),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), 2, "nothing was sent");

    // The short id the listing shows resumes that session.
    let out = env
        .cadre()
        .args(["exec", "--json", "resume", &short(&first), "q3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(thread_id(&out.stdout), first);
}

#[test]
fn sessions_lists_them_as_a_table_and_json_and_shows_one() {
    let server = ModelServer::start(vec![
        Reply::tool_call("shell", json!({"command": "echo listed-output"})).with_usage(100, 10),
        Reply::text("All listed.").with_usage(120, 5),
        Reply::text("second session").with_usage(50, 2),
    ]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let first = thread_id(
        &env.cadre()
            .args([
                "exec",
                "--json",
                "--profile",
                "workspace-write",
                "list the\nfiles please",
            ])
            .output()
            .unwrap()
            .stdout,
    );
    env.cadre()
        .args(["exec", "another task"])
        .assert()
        .success();
    write_sub_agent_session(&env, "0190aaaa-bbbb-7ccc-8ddd-000000000002", &first);

    let out = env.cadre().args(["sessions"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "a header and two sessions, no sub-agent:\n{table}"
    );
    for column in [
        "ID",
        "STARTED",
        "TURNS",
        "TOKENS",
        "DIRECTORY",
        "FIRST PROMPT",
    ] {
        assert!(lines[0].contains(column), "{table}");
    }
    assert!(lines[1].contains("another task"), "newest first:\n{table}");
    let short = first.rsplit('-').next().unwrap();
    assert!(lines[2].starts_with(short), "{table}");
    assert!(lines[2].contains("list the files please"), "{table}");
    assert!(lines[2].contains(" 235 "), "tokens 100+10+120+5:\n{table}");

    let out = env
        .cadre()
        .args(["sessions", "list", "--format", "json"])
        .output()
        .unwrap();
    let sessions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[1]["id"], json!(first));
    assert_eq!(sessions[1]["short_id"], json!(short));
    assert_eq!(sessions[1]["first_prompt"], json!("list the\nfiles please"));
    assert_eq!(sessions[1]["turns"], json!(1));
    assert_eq!(sessions[1]["usage"]["input_tokens"], json!(220));
    assert_eq!(sessions[1]["cwd"], json!(env.work()));

    // Another directory has none of these, unless --all.
    let other = env.dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let out = env
        .cadre()
        .current_dir(&other)
        .args(["sessions"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("no sessions"));
    let out = env
        .cadre()
        .current_dir(&other)
        .args(["sessions", "--all", "--format", "json"])
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);

    let out = env
        .cadre()
        .args(["sessions", "show", short])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    for expected in [
        first.as_str(),
        "› list the",
        "$ echo listed-output",
        "  listed-output",
        "✓ exit 0",
        "All listed.",
        "tokens used: 220 input (0 cached), 15 output",
    ] {
        assert!(
            shown.contains(expected),
            "{expected:?} missing from:\n{shown}"
        );
    }
}

#[test]
fn empty_prompts_are_refused_alike_from_argv_and_stdin() {
    let server = ModelServer::start(vec![Reply::text("never")]);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let mut messages = Vec::new();
    for (args, stdin) in [
        (vec!["exec", ""], ""),
        (vec!["exec", "  \n\t "], ""),
        (vec!["exec", "-"], " \n "),
        (vec!["exec"], ""),
    ] {
        let out = env.cadre().args(&args).write_stdin(stdin).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        messages.push(String::from_utf8_lossy(&out.stderr).to_string());
    }
    assert!(messages[0].contains("no prompt"), "{}", messages[0]);
    assert!(messages.iter().all(|m| *m == messages[0]), "{messages:?}");
    assert!(server.requests().is_empty());
    assert!(transcripts(&env).is_empty(), "no session was started");
}

#[test]
fn sigterm_stops_a_supervisor_run_and_its_agents_commands_the_same_way() {
    let server = ModelServer::with_handler(|request| {
        if request.tool_outputs().is_empty() {
            Reply::tool_call(
                "shell",
                json!({"command": "echo $$ > agent.pid; sleep 30 & echo $! > sleep.pid; wait"}),
            )
        } else {
            Reply::text("done")
        }
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let plan = env.dir.path().join("plan.json");
    std::fs::write(
        &plan,
        json!({"tasks": [{"id": "t1", "title": "wait", "role": "Tester", "prompt": "wait", "depends_on": []}]})
            .to_string(),
    )
    .unwrap();
    let plan = plan.display().to_string();
    let mut child = spawn_cadre(
        &env,
        &[
            "supervisor",
            "goal",
            "--plan",
            &plan,
            "--profile",
            "workspace-write",
            "-a",
            "never",
            "--format",
            "json",
        ],
    );
    let status = signal_mid_command(&env, &mut child, "agent.pid", libc::SIGTERM);
    assert_eq!(status.code(), Some(143), "{status:?}");
}
