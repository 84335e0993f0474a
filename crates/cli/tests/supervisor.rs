//! `cadre supervisor` and `spawn_agent` end to end: the real binary against the scripted model
//! server, which plays the planner, the agents and the judge.

mod common;

use cadre_test_support::model_server::{ModelServer, RecordedRequest, Reply};
use common::{TestEnv, jsonl};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The task an agent request belongs to (its prompt carries `<your_task id="...">`).
fn task_of(request: &RecordedRequest) -> Option<String> {
    request.messages().iter().find_map(|(_, text)| {
        let start = text.find("<your_task id=\"")? + "<your_task id=\"".len();
        let end = text[start..].find('"')? + start;
        Some(text[start..end].to_string())
    })
}

fn is_planner(request: &RecordedRequest) -> bool {
    request.tool_names().iter().any(|t| t == "submit_plan")
}

fn is_judge(request: &RecordedRequest) -> bool {
    request.tool_names().iter().any(|t| t == "submit_score")
}

fn task(id: &str, role: &str, deps: &[&str]) -> Value {
    json!({
        "id": id,
        "title": format!("Title of {id}"),
        "role": role,
        "prompt": format!("Work on {id}."),
        "depends_on": deps,
    })
}

fn write_plan(env: &TestEnv, tasks: Vec<Value>) -> String {
    let path = env.dir.path().join("plan.json");
    std::fs::write(&path, json!({ "tasks": tasks }).to_string()).unwrap();
    path.display().to_string()
}

fn run(env: &TestEnv, args: &[&str]) -> Output {
    env.cadre().arg("supervisor").args(args).output().unwrap()
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e})\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn result<'a>(report: &'a Value, task_id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["task_id"] == task_id)
        .unwrap_or_else(|| panic!("no result for {task_id}: {report:#}"))
}

/// An agent that runs `true` and then answers with its task id.
fn shell_then_answer(request: &RecordedRequest) -> Reply {
    let task = task_of(request).unwrap_or_default();
    if request.tool_outputs().is_empty() {
        Reply::tool_call("shell", json!({"command": "true"}))
    } else {
        Reply::text(format!("Finished {task}."))
    }
}

#[test]
fn planned_parallel_run_completes_every_task_with_facts() {
    let server = ModelServer::with_handler(|request| {
        if is_planner(request) {
            return Reply::tool_call(
                "submit_plan",
                json!({"tasks": [task("t1", "Tester", &[]), task("t2", "Security", &[]), task("t3", "Backend", &[])]}),
            );
        }
        shell_then_answer(request)
    })
    .with_latency(std::time::Duration::from_millis(100));
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    std::fs::write(env.work().join("AGENTS.md"), "Always be brief.\n").unwrap();
    std::fs::write(env.work().join("main.rs"), "fn main() {}\n").unwrap();
    let out = run(
        &env,
        &[
            "Check the project",
            "--strategy",
            "parallel",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report(&out);
    assert_eq!(report["strategy"], "parallel");
    assert_eq!(report["plan"]["tasks"].as_array().unwrap().len(), 3);
    for id in ["t1", "t2", "t3"] {
        let r = result(&report, id);
        assert_eq!(r["status"], "completed", "{r:#}");
        assert_eq!(r["verified"], true);
        assert_eq!(r["agent_id"], id);
        assert_eq!(r["commands"], json!([{"command": "true", "exit_code": 0}]));
        assert_eq!(r["final_message"], format!("Finished {id}."));
        assert!(r["usage"]["input_tokens"].as_u64().unwrap() > 0);
    }
    // The Security role is read-only even though the run's ceiling is the default.
    assert_eq!(result(&report, "t2")["profile"], "offline");
    assert!(
        report["merged"]["text"]
            .as_str()
            .unwrap()
            .contains("## Title of t2\n\nFinished t2.")
    );

    let requests = server.requests();
    let planner = &requests[0];
    assert!(is_planner(planner));
    let input = planner.last_user_text().unwrap();
    for needle in [
        "Check the project",
        "Security",
        "Always be brief.",
        "main.rs",
    ] {
        assert!(input.contains(needle), "{needle} missing from {input}");
    }
    // Parallel: every agent's first request came before any agent's second one.
    let agents: Vec<&RecordedRequest> = requests.iter().skip(1).collect();
    let first_followup = agents
        .iter()
        .position(|r| !r.tool_outputs().is_empty())
        .unwrap();
    assert_eq!(first_followup, 3, "agents did not overlap");
}

#[test]
fn sequential_passes_earlier_results_on() {
    let server = ModelServer::with_handler(shell_then_answer);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(
        &env,
        vec![task("t1", "Tester", &[]), task("t2", "Security", &[])],
    );
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--strategy",
            "sequential",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = server.requests();
    let tasks: Vec<String> = requests.iter().filter_map(task_of).collect();
    assert_eq!(tasks, vec!["t1", "t1", "t2", "t2"]);
    let t2_prompt = requests[2].last_user_text().unwrap();
    assert!(t2_prompt.contains("Finished t1."), "{t2_prompt}");
    assert!(t2_prompt.contains("task=\"t1\""), "{t2_prompt}");
}

#[test]
fn hybrid_starts_a_dependent_after_its_dependencies() {
    let server = ModelServer::with_handler(shell_then_answer);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "chat", "");
    let plan = write_plan(
        &env,
        vec![
            task("t3", "Security", &["t1", "t2"]),
            task("t1", "Tester", &[]),
            task("t2", "Backend", &[]),
        ],
    );
    let out = run(&env, &["goal", "--plan", &plan, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = server.requests();
    let tasks: Vec<String> = requests.iter().filter_map(task_of).collect();
    let first_t3 = tasks.iter().position(|t| t == "t3").unwrap();
    let last_dep = tasks.iter().rposition(|t| t != "t3").unwrap();
    assert!(first_t3 > last_dep, "{tasks:?}");
    let prompt = requests[first_t3].last_user_text().unwrap();
    assert!(
        prompt.contains("Finished t1.") && prompt.contains("Finished t2."),
        "{prompt}"
    );
    // Results come in plan order.
    let report = report(&out);
    let ids: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["task_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["t3", "t1", "t2"]);
}

#[test]
fn a_failed_dependency_skips_its_dependents() {
    let server = ModelServer::with_handler(|request| match task_of(request).as_deref() {
        Some("t1") => Reply::failed("server_error", "boom"),
        _ => shell_then_answer(request),
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(
        &env,
        vec![
            task("t1", "Tester", &[]),
            task("t2", "Tester", &["t1"]),
            task("t3", "Security", &[]),
        ],
    );
    let out = run(&env, &["goal", "--plan", &plan, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = report(&out);
    assert_eq!(result(&report, "t1")["status"], "failed");
    assert_eq!(result(&report, "t2")["status"], "skipped");
    assert!(
        result(&report, "t2")["error"]
            .as_str()
            .unwrap()
            .contains("`t1`")
    );
    assert_eq!(result(&report, "t3")["status"], "completed");
}

#[test]
fn an_invalid_plan_gets_one_repair_round() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let server = ModelServer::with_handler(move |request| {
        if is_planner(request) {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let role = if n == 0 { "Wizard" } else { "Tester" };
            return Reply::tool_call("submit_plan", json!({"tasks": [task("t1", role, &[])]}));
        }
        shell_then_answer(request)
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = run(&env, &["goal", "--plan-only"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["tasks"][0]["role"], "Tester");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let feedback = requests[1].tool_outputs();
    assert!(
        feedback[0].1.contains("unknown role `Wizard`"),
        "{feedback:?}"
    );
}

#[test]
fn a_second_invalid_plan_ends_the_run_with_the_errors() {
    let server = ModelServer::with_handler(|_| {
        Reply::tool_call(
            "submit_plan",
            json!({"tasks": [task("a", "Tester", &["b"]), task("b", "Tester", &["a"])]}),
        )
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = run(&env, &["goal"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the plan is invalid"), "{stderr}");
    assert!(stderr.contains("cycle"), "{stderr}");
    assert_eq!(server.requests().len(), 2);

    // A given plan with dependencies under the parallel strategy is refused as well.
    let plan = write_plan(
        &env,
        vec![task("a", "Tester", &[]), task("b", "Tester", &["a"])],
    );
    let out = run(&env, &["goal", "--plan", &plan, "--strategy", "parallel"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("parallel strategy"), "{stderr}");
    assert!(stderr.contains("--strategy hybrid"), "{stderr}");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn init_repo(dir: &Path) {
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("shared.txt"), "original\n").unwrap();
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "-m",
            "init",
        ],
    );
}

#[test]
fn parallel_writers_in_git_are_isolated_and_a_conflict_is_reported() {
    let env = TestEnv::new();
    init_repo(&env.work());
    let escape = env.work().join("escape.txt");
    let escape_cmd = format!("echo leaked > {}", escape.display());
    let server = ModelServer::with_handler(move |request| {
        let task = task_of(request).unwrap_or_default();
        let step = request.tool_outputs().len();
        let patch = format!(
            "*** Begin Patch\n*** Update File: shared.txt\n@@\n-original\n+changed by {task}\n*** End Patch\n"
        );
        match (task.as_str(), step) {
            ("t1", 0) => Reply::tool_call("shell", json!({"command": escape_cmd})),
            (_, 0) | ("t1", 1) => Reply::tool_call("apply_patch", json!({"patch": patch})),
            _ => Reply::text(format!("{task} edited shared.txt")),
        }
    });
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(
        &env,
        vec![task("t1", "Backend", &[]), task("t2", "Database", &[])],
    );
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--strategy",
            "parallel",
            "--profile",
            "workspace-write",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report(&out);
    let t1 = result(&report, "t1");
    let t2 = result(&report, "t2");
    assert_eq!(t1["status"], "completed", "{t1:#}");
    assert_eq!(t2["status"], "completed", "{t2:#}");
    // The write into the main checkout from the worktree was refused by the sandbox.
    assert_ne!(t1["commands"][0]["exit_code"], 0, "{t1:#}");
    assert!(!escape.exists());
    // Both measured their own change; the first in plan order merged, the second conflicted.
    assert_eq!(
        t1["files_changed"],
        json!([{"path": "shared.txt", "added": 1, "removed": 1}])
    );
    assert_eq!(t2["files_changed"], t1["files_changed"]);
    assert_eq!(
        std::fs::read_to_string(env.work().join("shared.txt")).unwrap(),
        "changed by t1\n"
    );
    assert!(t1.get("conflict").is_none());
    let conflict = &t2["conflict"];
    assert_eq!(conflict["files"], json!(["shared.txt"]));
    let branch = conflict["branch"].as_str().unwrap();
    let kept = git(&env.work(), &["show", &format!("{branch}:shared.txt")]);
    assert_eq!(kept, "changed by t2\n");
    // No worktree is left behind.
    assert_eq!(git(&env.work(), &["worktree", "list"]).lines().count(), 1);
}

#[test]
fn an_offline_run_caps_a_writing_role() {
    let env = TestEnv::new();
    let server = ModelServer::with_handler(|request| {
        if request.tool_outputs().is_empty() {
            Reply::tool_call("shell", json!({"command": "echo x > created.txt"}))
        } else {
            Reply::text("Tried.")
        }
    });
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(&env, vec![task("t1", "Backend", &[])]);
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--profile",
            "offline",
            "--format",
            "json",
        ],
    );
    let report = report(&out);
    let t1 = result(&report, "t1");
    assert_eq!(t1["profile"], "offline");
    assert_ne!(t1["commands"][0]["exit_code"], 0, "{t1:#}");
    assert!(!env.work().join("created.txt").exists());
}

#[test]
fn token_budget_stops_the_run_and_keeps_finished_results() {
    let server = ModelServer::with_handler(|request| match task_of(request).as_deref() {
        Some("t1") => Reply::text("Quick answer.").with_usage(1, 1),
        _ => Reply::tool_call("shell", json!({"command": "sleep 20"})).with_usage(40, 10),
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(
        &env,
        vec![
            task("t1", "Tester", &[]),
            task("t2", "Tester", &[]),
            task("t3", "Tester", &[]),
        ],
    );
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--strategy",
            "sequential",
            "--budget-tokens",
            "20",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = report(&out);
    assert_eq!(result(&report, "t1")["status"], "completed");
    assert_eq!(result(&report, "t1")["final_message"], "Quick answer.");
    assert_eq!(result(&report, "t2")["status"], "budget_exhausted");
    assert_eq!(result(&report, "t3")["status"], "skipped");
    assert!(
        report["stopped"]
            .as_str()
            .unwrap()
            .contains("token budget of 20")
    );
}

#[test]
fn the_run_timeout_stops_what_runs_and_keeps_what_finished() {
    let server = ModelServer::with_handler(|request| match task_of(request).as_deref() {
        Some("slow") => Reply::tool_call("shell", json!({"command": "sleep 20"})),
        _ => Reply::text("Done quickly."),
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(
        &env,
        vec![
            task("ok", "Tester", &[]),
            task("slow", "Tester", &[]),
            task("after", "Tester", &["slow"]),
        ],
    );
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--timeout",
            "1s",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = report(&out);
    assert_eq!(result(&report, "ok")["status"], "completed");
    assert_eq!(result(&report, "slow")["status"], "timed_out");
    assert_eq!(result(&report, "after")["status"], "skipped");
    assert!(
        report["stopped"]
            .as_str()
            .unwrap()
            .contains("run's time limit of 1s")
    );
}

#[test]
fn task_timeout_turn_cap_and_stall_each_get_their_status() {
    let server = ModelServer::with_handler(|request| match task_of(request).as_deref() {
        Some("slow") => Reply::tool_call("shell", json!({"command": "sleep 20"})),
        Some("loop") => Reply::tool_call("shell", json!({"command": "true"})),
        Some("mute") => Reply::silent(),
        _ => Reply::text("Done quickly."),
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(
        &env,
        vec![
            task("ok", "Tester", &[]),
            task("slow", "Tester", &[]),
            task("loop", "Tester", &[]),
            task("mute", "Tester", &[]),
        ],
    );
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--task-timeout",
            "3s",
            "--max-turns",
            "2",
            "--stall-timeout",
            "1500ms",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = report(&out);
    assert_eq!(result(&report, "ok")["status"], "completed");
    // `sleep 20` shows no progress either; whichever limit strikes first names it.
    let slow = result(&report, "slow")["status"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(slow == "stalled" || slow == "timed_out", "{slow}");
    let looping = result(&report, "loop");
    assert_eq!(looping["status"], "budget_exhausted", "{looping:#}");
    assert!(looping["error"].as_str().unwrap().contains("turn cap of 2"));
    assert_eq!(looping["commands"].as_array().unwrap().len(), 2);
    assert_eq!(result(&report, "mute")["status"], "stalled");
}

#[test]
fn a_task_timeout_stops_a_running_command() {
    let server = ModelServer::with_handler(|request| match task_of(request).as_deref() {
        Some("slow") if request.tool_outputs().is_empty() => Reply::tool_call(
            "shell",
            json!({"command": "for i in $(seq 40); do echo tick; sleep 0.5; done"}),
        ),
        _ => Reply::text("Done."),
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(
        &env,
        vec![task("slow", "Tester", &[]), task("ok", "Tester", &[])],
    );
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--task-timeout",
            "2s",
            "--format",
            "json",
        ],
    );
    let report = report(&out);
    let slow = result(&report, "slow");
    assert_eq!(slow["status"], "timed_out", "{slow:#}");
    assert!(slow["error"].as_str().unwrap().contains("time limit"));
    assert_eq!(result(&report, "ok")["status"], "completed");
}

#[test]
fn a_false_tests_pass_claim_is_unverified() {
    let server = ModelServer::with_handler(|request| {
        if request.tool_outputs().is_empty() {
            Reply::tool_call(
                "shell",
                json!({"command": "echo '1 test failed'; exit 1 # run the tests"}),
            )
        } else {
            Reply::text("All tests pass.")
        }
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(&env, vec![task("t1", "Tester", &[])]);
    let out = run(&env, &["goal", "--plan", &plan, "--format", "json"]);
    let report = report(&out);
    let t1 = result(&report, "t1");
    assert_eq!(t1["status"], "completed");
    assert_eq!(t1["verified"], false);
    assert!(
        t1["verification"]
            .as_str()
            .unwrap()
            .contains("exited with 1"),
        "{t1:#}"
    );
}

#[test]
fn voting_picks_the_majority() {
    let answers = Arc::new(AtomicUsize::new(0));
    let server = ModelServer::with_handler(move |_| {
        let n = answers.fetch_add(1, Ordering::SeqCst);
        Reply::text(["Blue.", "red", " BLUE "][n % 3])
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(&env, vec![task("t1", "Security", &[])]);
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--merge",
            "voting",
            "--candidates",
            "3",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report(&out);
    assert_eq!(report["results"].as_array().unwrap().len(), 3);
    let votes = &report["merged"]["votes"];
    assert_eq!(votes[0]["answer"], "blue");
    assert_eq!(votes[0]["count"], 2);
    assert_eq!(votes[1]["count"], 1);
    let winner = report["merged"]["winner"]["t1"].as_str().unwrap();
    assert!(
        votes[0]["agents"]
            .as_array()
            .unwrap()
            .contains(&json!(winner))
    );
    assert_eq!(report["merged"]["ties"], json!([]));
}

#[test]
fn highest_score_picks_the_judges_favourite() {
    let answers = Arc::new(AtomicUsize::new(0));
    let server = ModelServer::with_handler(move |request| {
        if is_judge(request) {
            let text = request.last_user_text().unwrap_or_default();
            let score = if text.contains("A thorough answer") {
                9
            } else {
                3
            };
            return Reply::tool_call(
                "submit_score",
                json!({"score": score, "reason": format!("scored {score}")}),
            );
        }
        let n = answers.fetch_add(1, Ordering::SeqCst);
        Reply::text(["A short answer.", "A thorough answer."][n % 2])
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let mut t = task("t1", "Security", &[]);
    t["acceptance"] = json!("Be thorough.");
    let plan = write_plan(&env, vec![t]);
    let out = run(
        &env,
        &[
            "goal",
            "--plan",
            &plan,
            "--merge",
            "highest-score",
            "--candidates",
            "2",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report(&out);
    let scores = report["merged"]["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 2);
    let winner = report["merged"]["winner"]["t1"].as_str().unwrap();
    let best = scores.iter().find(|s| s["score"] == 9.0).unwrap();
    assert_eq!(best["agent_id"], winner);
    assert!(
        report["merged"]["text"]
            .as_str()
            .unwrap()
            .contains("A thorough answer.")
    );
    let judge = server.requests().into_iter().find(is_judge).unwrap();
    assert!(judge.last_user_text().unwrap().contains("Be thorough."));
}

/// A line's shape: its type, its item's type, and the names of its fields (and its item's),
/// so two streams can be compared without their ids, texts and numbers.
fn shape(event: &Value) -> String {
    let keys = |value: &Value| {
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys.join(",")
    };
    match event.get("item") {
        Some(item) => format!(
            "{} {} [{}] item [{}]",
            event["type"].as_str().unwrap(),
            item["type"].as_str().unwrap(),
            keys(event),
            keys(item)
        ),
        None => format!("{} [{}]", event["type"].as_str().unwrap(), keys(event)),
    }
}

#[test]
fn json_stream_is_the_exec_schema_with_agent_ids_and_milestones() {
    let server = ModelServer::with_handler(shell_then_answer);
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(&env, vec![task("t1", "Tester", &[])]);
    let out = run(&env, &["goal", "--plan", &plan, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = jsonl(&out.stdout);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"plan.created"), "{types:?}");
    assert_eq!(types.last(), Some(&"run.completed"), "{types:?}");
    for expected in ["agent.started", "agent.finished", "merge.completed"] {
        assert!(types.contains(&expected), "{expected} missing: {types:?}");
    }
    for event in &events {
        let t = event["type"].as_str().unwrap();
        assert!(
            t.contains('.') || t == "error",
            "a core event leaked into the stream: {event}"
        );
        if !matches!(
            t,
            "plan.created" | "plan.started" | "merge.completed" | "run.completed"
        ) {
            assert_eq!(event["agent_id"], "t1", "{event}");
        }
    }
    let finished = events
        .iter()
        .find(|e| e["type"] == "agent.finished")
        .unwrap();
    assert_eq!(finished["status"], "completed");
    assert_eq!(finished["verified"], true);

    // The agent's own lines are, but for `agent_id`, what `exec --json` prints for the same
    // conversation.
    let agent: Vec<String> = events
        .iter()
        .filter(|e| e["agent_id"] == "t1" && !e["type"].as_str().unwrap().starts_with("agent."))
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("agent_id");
            shape(&e)
        })
        .collect();
    let exec_server = ModelServer::with_handler(shell_then_answer);
    let exec_env = TestEnv::new();
    exec_env.configure(&exec_server.base_url(), "responses", "");
    let exec = exec_env
        .cadre()
        .args(["exec", "--json", "Work on t1."])
        .output()
        .unwrap();
    assert!(exec.status.success());
    let exec: Vec<String> = jsonl(&exec.stdout).iter().map(shape).collect();
    assert_eq!(agent, exec);
    assert!(
        exec.iter()
            .any(|s| s.starts_with("item.completed command_execution")),
        "{exec:#?}"
    );
}

#[test]
fn an_unverified_result_is_not_ok_and_exits_2() {
    let server = ModelServer::with_handler(|request| {
        if request.tool_outputs().is_empty() {
            Reply::tool_call(
                "shell",
                json!({"command": "echo '1 test failed'; exit 1 # run the tests"}),
            )
        } else {
            Reply::text("All tests pass.")
        }
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let plan = write_plan(&env, vec![task("t1", "Tester", &[])]);
    let out = run(&env, &["goal", "--plan", &plan]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("t1 "))
        .unwrap_or_else(|| panic!("no row for t1:\n{text}"));
    assert!(!row.contains("ok completed"), "{row}");
    assert!(row.contains("unverified"), "{row}");

    let out = run(&env, &["goal", "--plan", &plan, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let events = jsonl(&out.stdout);
    let finished = events
        .iter()
        .find(|e| e["type"] == "agent.finished")
        .unwrap();
    assert_eq!(finished["verified"], false, "{finished}");
}

#[test]
fn exec_spawns_two_sub_agents_at_once() {
    let server = ModelServer::with_handler(|request| {
        let last = request.last_user_text().unwrap_or_default();
        if last.contains("sub task A") {
            return Reply::text("A found 3 files.");
        }
        if last.contains("sub task B") {
            return Reply::text("B found no issue.");
        }
        if request.tool_outputs().is_empty() {
            Reply::tool_calls(vec![
                (
                    "spawn_agent",
                    json!({"role": "Tester", "prompt": "sub task A"}),
                ),
                (
                    "spawn_agent",
                    json!({"role": "Security", "prompt": "sub task B"}),
                ),
            ])
        } else {
            Reply::text("Both sub-agents reported.")
        }
    });
    let env = TestEnv::new();
    env.configure(&server.base_url(), "responses", "");
    let out = env.cadre().args(["exec", "delegate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = server.requests();
    assert!(
        requests[0]
            .tool_names()
            .contains(&"spawn_agent".to_string())
    );
    let subs: Vec<&RecordedRequest> = requests
        .iter()
        .filter(|r| r.last_user_text().unwrap_or_default().contains("sub task"))
        .collect();
    assert_eq!(subs.len(), 2);
    // Depth 1: a sub-agent is not offered spawn_agent.
    for sub in &subs {
        assert!(!sub.tool_names().contains(&"spawn_agent".to_string()));
    }
    let last = requests.last().unwrap();
    let outputs = last.tool_outputs();
    assert_eq!(outputs.len(), 2);
    assert!(outputs[0].1.contains("A found 3 files.") && outputs[0].1.contains("\"completed\""));
    assert!(outputs[1].1.contains("B found no issue."));

    // Each sub-agent's transcript names the session that started it.
    let transcripts: Vec<serde_json::Value> = std::fs::read_dir(env.home().join("sessions"))
        .unwrap()
        .map(|entry| {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            serde_json::from_str(text.lines().next().unwrap()).unwrap()
        })
        .collect();
    assert_eq!(transcripts.len(), 3);
    let parent = transcripts
        .iter()
        .find(|meta| meta.get("parent_session_id").is_none())
        .expect("the exec session")["id"]
        .clone();
    let linked = transcripts
        .iter()
        .filter(|meta| meta["parent_session_id"] == parent)
        .count();
    assert_eq!(linked, 2);

    // The audit log names the exec session on the sub-agents' start and stop records.
    let audit = env
        .cadre()
        .args(["audit", "show", "--format", "json"])
        .output()
        .unwrap();
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&audit.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let starts: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["event"] == "agent_start" || r["event"] == "agent_stop")
        .collect();
    assert_eq!(starts.len(), 4, "{records:?}");
    assert!(starts.iter().all(|r| r["session_id"] == parent));
}

#[test]
fn an_unwritable_audit_log_stops_a_run_before_any_model_is_asked() {
    let env = TestEnv::new();
    let server = ModelServer::with_handler(|_| Reply::text("Planned nothing."));
    env.configure(&server.base_url(), "responses", "");
    std::fs::write(env.dir.path().join("blocker"), "a file, not a directory").unwrap();
    let audit_path = env.dir.path().join("blocker/audit");
    let out = env
        .cadre()
        .args(["-c", &format!("audit.dir=\"{}\"", audit_path.display())])
        .args(["supervisor", "goal", "--profile", "workspace-write"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(server.requests().is_empty(), "the planner was asked");
    assert!(
        stderr.contains("cannot start under the workspace-write profile")
            && stderr.contains(&audit_path.display().to_string()),
        "{stderr}"
    );
}
