//! `cadre sandbox` confines a command with the settings `exec` would use in the same place:
//! `profile`, `[sandbox] writable_roots` and `allow_git_writes`, `-c` overrides; a refused write
//! to `.git` names the profile and `sandbox.allow_git_writes`, to the user and to the agent.
#![cfg(target_os = "linux")]

mod common;

use cadre_test_support::model_server::{ModelServer, Reply};
use common::{TestEnv, jsonl};
use serde_json::json;

/// A workspace with a `.git`, and a directory beside it for `writable_roots`.
fn scene() -> (TestEnv, std::path::PathBuf) {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.work().join(".git")).unwrap();
    std::fs::write(env.work().join(".git/config"), "[core]\n").unwrap();
    let extra = env.dir.path().canonicalize().unwrap().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    (env, extra)
}

fn sandbox(env: &TestEnv, args: &[&str], script: &str) -> std::process::Output {
    env.cadre()
        .args(args)
        .args(["sandbox", "--", "bash", "-c", script])
        .output()
        .unwrap()
}

#[test]
fn writable_roots_and_profile_come_from_the_configuration() {
    let (env, extra) = scene();
    let write_extra = format!("echo hi > {}/f", extra.display());

    // No configuration: offline, and `extra` is not writable.
    let out = sandbox(&env, &[], &write_extra);
    assert!(!out.status.success(), "offline wrote outside: {out:?}");

    std::fs::write(
        env.home().join("config.toml"),
        format!(
            "profile = \"workspace-write\"\n[sandbox]\nwritable_roots = [\"{}\"]\n",
            extra.display()
        ),
    )
    .unwrap();
    let out = sandbox(
        &env,
        &[],
        &format!("{write_extra} && echo x > in-workspace"),
    );
    assert!(
        out.status.success(),
        "the configured profile and root: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(extra.join("f")).unwrap(), "hi\n");
    assert!(env.work().join("in-workspace").exists());

    // `-c` and `--profile` win over the file, as for exec.
    std::fs::remove_file(extra.join("f")).unwrap();
    for args in [
        &["-c", "profile=\"offline\""][..],
        &["-c", "sandbox.writable_roots=[]"],
    ] {
        let out = sandbox(&env, args, &write_extra);
        assert!(!out.status.success(), "{args:?} wrote: {out:?}");
        assert!(!extra.join("f").exists(), "{args:?}");
    }
    let out = env
        .cadre()
        .args(["sandbox", "--profile", "offline", "--", "bash", "-c"])
        .arg(&write_extra)
        .output()
        .unwrap();
    assert!(!out.status.success(), "--profile offline wrote: {out:?}");
}

#[test]
fn git_writes_follow_the_configuration_and_a_refusal_says_what_lifts_it() {
    let (env, _extra) = scene();
    let write_git = "echo '[user]' >> .git/config";
    let out = sandbox(&env, &["-c", "profile=\"workspace-write\""], write_git);
    assert!(!out.status.success(), "wrote .git: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Read-only file system"), "{stderr}");
    assert!(stderr.contains("profile workspace-write"), "{stderr}");
    assert!(stderr.contains("sandbox.allow_git_writes"), "{stderr}");

    let out = sandbox(
        &env,
        &[
            "-c",
            "profile=\"workspace-write\"",
            "-c",
            "sandbox.allow_git_writes=true",
        ],
        write_git,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(env.work().join(".git/config")).unwrap();
    assert!(config.contains("[user]"), "{config}");
}

#[test]
fn the_agent_is_told_which_setting_keeps_git_read_only() {
    let (env, _extra) = scene();
    let server = ModelServer::start(vec![
        Reply::tool_call("shell", json!({"command": "echo '[user]' >> .git/config"})),
        Reply::text("Could not write .git."),
    ]);
    env.configure(&server.base_url(), "responses", "");
    let out = env
        .cadre()
        .args([
            "exec",
            "--json",
            "--profile",
            "workspace-write",
            "-a",
            "never",
            "edit git config",
        ])
        .output()
        .unwrap();
    let events = jsonl(&out.stdout);
    let command = events
        .iter()
        .find(|e| e["type"] == "item.completed" && e["item"]["type"] == "command_execution")
        .expect("a command item");
    let shown = command["item"]["aggregated_output"].as_str().unwrap();
    assert!(shown.contains("profile workspace-write"), "{shown}");
    assert!(shown.contains("sandbox.allow_git_writes"), "{shown}");

    let outputs = server.requests()[1].tool_outputs();
    let (_, to_model) = outputs.first().expect("the command's output went back");
    assert!(to_model.contains("Read-only file system"), "{to_model}");
    assert!(to_model.contains("sandbox.allow_git_writes"), "{to_model}");

    // Human output, with a long output summarised: the note stays visible.
    let server = ModelServer::start(vec![
        Reply::tool_call(
            "shell",
            json!({"command": "seq 1 30; echo '[user]' >> .git/config"}),
        ),
        Reply::text("Could not write .git."),
    ]);
    env.configure(&server.base_url(), "responses", "");
    let human = env
        .cadre()
        .args([
            "exec",
            "--profile",
            "workspace-write",
            "-a",
            "never",
            "edit git config",
        ])
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.contains("read-only under profile workspace-write; set `sandbox.allow_git_writes"),
        "{human}"
    );
}
