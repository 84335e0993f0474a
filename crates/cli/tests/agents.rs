//! `cadre agents` end to end: the real binary, with `CADRE_HOME` and `HOME` in a temporary
//! directory so that no real user's agent files are read.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

struct Dirs {
    root: tempfile::TempDir,
    home: PathBuf,
    cadre_home: PathBuf,
    project: PathBuf,
}

fn dirs() -> Dirs {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    let cadre_home = home.join(".cadre");
    let project = root.path().join("project");
    fs::create_dir_all(&cadre_home).unwrap();
    fs::create_dir_all(&project).unwrap();
    Dirs {
        root,
        home,
        cadre_home,
        project,
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn cadre(dirs: &Dirs) -> Command {
    let mut command = Command::cargo_bin("cadre").unwrap();
    command
        .env("CADRE_HOME", &dirs.cadre_home)
        .env("HOME", &dirs.home)
        .env_remove("CODEX_HOME")
        .current_dir(&dirs.project);
    command
}

/// A Claude Code agent in the (trusted) project, a Codex role for the user, and one broken file.
fn with_agent_files(dirs: &Dirs) {
    write(
        &dirs.project.join(".claude/agents/code-reviewer.md"),
        "---\nname: code-reviewer\ndescription: Reviews code after changes.\ntools: Read, Grep, Glob, Bash\nmodel: opus\npermissionMode: plan\ncolor: blue\n---\nYou are a meticulous reviewer.\n",
    );
    write(
        &dirs.home.join(".codex/agents/explorer.toml"),
        "description = \"Maps a codebase.\"\ndeveloper_instructions = \"Explore and summarise.\"\nsandbox_mode = \"read-only\"\nmodel = \"gpt-5-mini\"\n",
    );
    write(
        &dirs.cadre_home.join("agents/broken.md"),
        "---\nname: broken\nmax_turns: lots\n---\nbody\n",
    );
    // A project's role files apply once the user trusts them.
    cadre(dirs).arg("trust").assert().success();
}

fn list_lines(output: &[u8]) -> Vec<String> {
    String::from_utf8(output.to_vec())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn list_shows_builtin_roles_in_a_table() {
    let dirs = dirs();
    let output = cadre(&dirs).args(["agents", "list"]).assert().success();
    let lines = list_lines(&output.get_output().stdout);
    assert!(
        lines[0].starts_with("NAME")
            && lines[0].contains("SOURCE")
            && lines[0].ends_with("PROFILE")
    );
    assert_eq!(lines.len(), 9, "{lines:#?}");
    let security = lines
        .iter()
        .find(|line| line.starts_with("Security "))
        .unwrap();
    assert!(security.contains("built-in"));
    assert!(security.ends_with("offline"));
    assert!(!security.contains("apply_patch"));
    let backend = lines
        .iter()
        .find(|line| line.starts_with("Backend "))
        .unwrap();
    assert!(backend.contains("apply_patch") && backend.ends_with("workspace-write"));
    let researcher = lines
        .iter()
        .find(|line| line.starts_with("Researcher "))
        .unwrap();
    assert!(researcher.ends_with("net-read-only"));
}

#[test]
fn list_includes_role_files_and_reports_problems() {
    let dirs = dirs();
    with_agent_files(&dirs);
    let output = cadre(&dirs).args(["agents", "list"]).assert().success();
    let text = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    let reviewer = text
        .lines()
        .find(|line| line.starts_with("code-reviewer "))
        .unwrap();
    assert!(
        reviewer.contains(".claude/agents/code-reviewer.md"),
        "{reviewer}"
    );
    assert!(
        reviewer.contains("shell, read_file, list_dir, grep"),
        "{reviewer}"
    );
    assert!(reviewer.ends_with("offline"), "{reviewer}");
    let explorer = text
        .lines()
        .find(|line| line.starts_with("explorer "))
        .unwrap();
    assert!(explorer.contains(".codex/agents/explorer.toml") && explorer.contains("(all)"));
    assert!(!text.lines().any(|line| line.starts_with("broken ")));
    assert!(
        text.contains("Problems with role files (1 skipped, 2 notices):"),
        "{text}"
    );
    let broken = dirs.cadre_home.join("agents/broken.md");
    assert!(
        text.contains(&format!(
            "error   {}: max_turns: expected a positive whole number",
            broken.display()
        )),
        "{text}"
    );
    assert!(text.contains("code-reviewer.md: color: "), "{text}");
    assert!(text.contains("code-reviewer.md: model: `opus`"), "{text}");
}

#[test]
fn list_as_json_carries_every_role_and_problem() {
    let dirs = dirs();
    with_agent_files(&dirs);
    let output = cadre(&dirs)
        .args(["agents", "list", "--format", "json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    let roles = json["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 10);
    assert_eq!(roles[0]["name"], "CodeExpert");
    assert_eq!(roles[0]["format"], "built-in");
    assert_eq!(roles[0]["source"], serde_json::Value::Null);
    assert_eq!(roles[0]["profile"], "offline");
    let reviewer = roles
        .iter()
        .find(|role| role["name"] == "code-reviewer")
        .unwrap();
    assert_eq!(reviewer["format"], "claude-code");
    assert_eq!(reviewer["profile"], "offline");
    assert_eq!(reviewer["model"], serde_json::Value::Null);
    assert_eq!(
        reviewer["tools"],
        serde_json::json!(["shell", "read_file", "list_dir", "grep"])
    );
    let explorer = roles
        .iter()
        .find(|role| role["name"] == "explorer")
        .unwrap();
    assert_eq!(explorer["format"], "codex");
    assert_eq!(explorer["model"], "gpt-5-mini");
    assert_eq!(explorer["tools"], serde_json::Value::Null);
    assert!(roles.iter().all(|role| role.get("system_prompt").is_none()));

    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    let fatal: Vec<_> = problems.iter().filter(|p| p["fatal"] == true).collect();
    assert_eq!(fatal.len(), 1);
    assert_eq!(fatal[0]["field"], "max_turns");
    assert!(
        fatal[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("agents/broken.md")
    );
}

#[test]
fn the_cd_option_chooses_where_project_roles_are_found() {
    let dirs = dirs();
    with_agent_files(&dirs);
    let elsewhere = dirs.root.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    cadre(&dirs)
        .current_dir(&elsewhere)
        .args(["agents", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("code-reviewer").not());
    cadre(&dirs)
        .current_dir(&elsewhere)
        .args(["agents", "-C"])
        .arg(&dirs.project)
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("code-reviewer "));
}

#[test]
fn show_prints_every_field_and_the_system_prompt() {
    let dirs = dirs();
    with_agent_files(&dirs);
    let output = cadre(&dirs)
        .args(["agents", "show", "CODE-REVIEWER"])
        .assert()
        .success();
    let text = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("name:        code-reviewer\n"), "{text}");
    assert!(text.contains("description: Reviews code after changes.\n"));
    assert!(text.contains("(claude-code format)"));
    assert!(text.contains("tools:       shell, read_file, list_dir, grep\n"));
    assert!(text.contains("profile:     offline\n"));
    assert!(text.contains("model:       (the session's model)\n"));
    assert!(text.contains("notices:\n"));
    assert!(
        text.trim_end()
            .ends_with("system prompt:\n\nYou are a meticulous reviewer."),
        "{text}"
    );

    let output = cadre(&dirs)
        .args(["agents", "show", "tester"])
        .assert()
        .success();
    let text = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    assert!(text.contains("source:      built-in\n"));
    assert!(text.contains("You are the Tester."));
    assert!(!text.contains("notices:"));
}

#[test]
fn show_as_json_includes_the_prompt() {
    let dirs = dirs();
    with_agent_files(&dirs);
    let output = cadre(&dirs)
        .args(["agents", "show", "explorer", "--format", "json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    assert_eq!(json["name"], "explorer");
    assert_eq!(json["system_prompt"], "Explore and summarise.");
    assert_eq!(json["profile"], "offline");
    assert_eq!(json["problems"], serde_json::json!([]));
}

#[test]
fn show_of_an_unknown_role_fails_and_lists_the_known_ones() {
    let dirs = dirs();
    cadre(&dirs)
        .args(["agents", "show", "Wizard"])
        .assert()
        .failure()
        .stdout("")
        .stderr(predicate::str::contains(
            "unknown role `Wizard`; known roles: CodeExpert, Researcher, Tester, Security, Backend, Frontend, Database, DevOps",
        ));
}
