//! Each role file format loads with the right mapping, reports what it ignores once, and names
//! the file and field of what breaks it.

use cadre_protocol::SecurityProfile;
use cadre_roles::{RoleFormat, RoleLoadProblem, RoleSource, parse_role_file};
use std::path::Path;
use std::time::Duration;

const CLAUDE_CODE_AGENT: &str = "---
name: code-reviewer
description: Expert code review specialist. Use immediately after writing code. Examples: <example>user: \"review my PR\"</example>
tools: Read, Grep, Glob, Bash, Bash(git diff:*), WebSearch, mcp__github__create_issue, Edit, MultiEdit
model: sonnet
maxTurns: 12
permissionMode: acceptEdits
color: blue
---

You are a senior code reviewer ensuring high standards of code quality and security.

When invoked:
1. Run git diff to see recent changes
2. Focus on modified files
";

const GEMINI_CLI_AGENT: &str = "---
name: security-auditor
description: Specialized in finding security vulnerabilities in code.
kind: local
tools:
  - read_file
  - search_file_content
  - run_shell_command
  - save_memory
model: gemini-2.5-pro
temperature: 0.2
max_turns: 10
timeout_mins: 5
---
You are a ruthless Security Auditor. Analyze code for SQL injection, XSS and hard-coded secrets.
";

const CODEX_ROLE: &str = r#"
name = "reviewer"
description = "PR reviewer focused on correctness, security, and missing tests."
model = "gpt-5.1-codex-max"
model_reasoning_effort = "high"
sandbox_mode = "read-only"
developer_instructions = """
Review code like an owner.
Prioritize correctness, security, behavior regressions, and missing test coverage.
"""
"#;

fn notices_for<'a>(notices: &'a [RoleLoadProblem], field: &str) -> Vec<&'a str> {
    notices
        .iter()
        .filter(|notice| notice.field.as_deref() == Some(field))
        .map(|notice| notice.message.as_str())
        .collect()
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|item| item.to_string()).collect())
}

#[test]
fn a_claude_code_agent_maps_its_tools_model_and_permission_mode() {
    let path = Path::new("/p/.claude/agents/code-reviewer.md");
    let (role, notices) = parse_role_file(path, CLAUDE_CODE_AGENT, RoleFormat::ClaudeCode).unwrap();
    assert_eq!(role.name, "code-reviewer");
    assert!(
        role.description
            .starts_with("Expert code review specialist. Use")
    );
    assert!(role.description.ends_with("</example>"));
    assert_eq!(
        role.tools,
        strings(&[
            "shell",
            "apply_patch",
            "read_file",
            "list_dir",
            "grep",
            "research"
        ])
    );
    assert_eq!(
        role.model, None,
        "the `sonnet` alias means nothing to cadre"
    );
    assert_eq!(role.max_turns, Some(12));
    assert_eq!(role.profile, Some(SecurityProfile::WorkspaceWrite));
    assert_eq!(role.timeout, None);
    assert!(
        role.system_prompt
            .starts_with("You are a senior code reviewer")
    );
    assert!(role.system_prompt.ends_with("Focus on modified files"));
    assert_eq!(
        role.source,
        RoleSource::File {
            path: path.to_path_buf(),
            format: RoleFormat::ClaudeCode
        }
    );
    assert!(
        notices
            .iter()
            .all(|notice| !notice.fatal && notice.path == path)
    );
    assert_eq!(notices_for(&notices, "color").len(), 1);
    assert_eq!(notices_for(&notices, "model").len(), 1);
    let tool_notices = notices_for(&notices, "tools");
    assert_eq!(tool_notices.len(), 2, "{tool_notices:?}");
    assert!(
        tool_notices
            .iter()
            .any(|m| m.contains("`mcp__github__create_issue`"))
    );
    assert!(tool_notices.iter().any(|m| m.contains("Bash(git diff:*)")));
    assert_eq!(notices.len(), 4, "{notices:?}");
}

#[test]
fn claude_code_permission_modes_map_conservatively() {
    let cases = [
        ("plan", Some(SecurityProfile::Offline), 0),
        ("acceptEdits", Some(SecurityProfile::WorkspaceWrite), 0),
        (
            "bypassPermissions",
            Some(SecurityProfile::WorkspaceWrite),
            1,
        ),
        ("default", None, 0),
        ("somethingNew", None, 1),
    ];
    for (mode, profile, notice_count) in cases {
        let text = format!("---\nname: a\ndescription: b\npermissionMode: {mode}\n---\nbody");
        let (role, notices) =
            parse_role_file(Path::new("a.md"), &text, RoleFormat::ClaudeCode).unwrap();
        assert_eq!(role.profile, profile, "{mode}");
        assert_eq!(notices.len(), notice_count, "{mode}: {notices:?}");
    }
}

#[test]
fn claude_code_disallowed_tools_narrow_the_tool_set() {
    let text = "---\nname: a\ndescription: b\ndisallowedTools: Write, Bash, Task\nmodel: claude-opus-4-1\n---\nbody";
    let (role, notices) = parse_role_file(Path::new("a.md"), text, RoleFormat::ClaudeCode).unwrap();
    assert_eq!(
        role.tools,
        strings(&[
            "read_file",
            "list_dir",
            "grep",
            "update_plan",
            "web_fetch",
            "research"
        ])
    );
    assert_eq!(
        role.model.as_deref(),
        Some("claude-opus-4-1"),
        "a full model id is kept"
    );
    assert!(notices.is_empty(), "{notices:?}");
}

#[test]
fn a_gemini_cli_agent_maps_its_tools_and_limits() {
    let path = Path::new("/p/.gemini/agents/security-auditor.md");
    let (role, notices) = parse_role_file(path, GEMINI_CLI_AGENT, RoleFormat::GeminiCli).unwrap();
    assert_eq!(role.name, "security-auditor");
    assert_eq!(role.tools, strings(&["shell", "read_file", "grep"]));
    assert_eq!(role.model.as_deref(), Some("gemini-2.5-pro"));
    assert_eq!(role.max_turns, Some(10));
    assert_eq!(role.timeout, Some(Duration::from_secs(300)));
    assert_eq!(role.profile, None);
    assert!(
        role.system_prompt
            .starts_with("You are a ruthless Security Auditor.")
    );
    assert_eq!(notices_for(&notices, "temperature").len(), 1);
    let tool_notices = notices_for(&notices, "tools");
    assert_eq!(tool_notices.len(), 1);
    assert!(tool_notices[0].contains("`save_memory`"));
    assert_eq!(notices.len(), 2, "{notices:?}");
}

#[test]
fn a_remote_gemini_agent_is_refused() {
    let text = "---\nname: remote\ndescription: x\nkind: remote\nagent_card_url: https://example.com\n---\n";
    let problem = parse_role_file(Path::new("r.md"), text, RoleFormat::GeminiCli).unwrap_err();
    assert_eq!(problem.field.as_deref(), Some("kind"));
    assert!(problem.fatal);
}

#[test]
fn a_codex_role_file_maps_its_sandbox_and_instructions() {
    let path = Path::new("/home/u/.codex/agents/reviewer.toml");
    let (role, notices) = parse_role_file(path, CODEX_ROLE, RoleFormat::Codex).unwrap();
    assert_eq!(role.name, "reviewer");
    assert_eq!(
        role.description,
        "PR reviewer focused on correctness, security, and missing tests."
    );
    assert_eq!(role.model.as_deref(), Some("gpt-5.1-codex-max"));
    assert_eq!(role.profile, Some(SecurityProfile::Offline));
    assert_eq!(role.tools, None);
    assert!(
        role.system_prompt
            .starts_with("Review code like an owner.\nPrioritize")
    );
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].field.as_deref(), Some("model_reasoning_effort"));
}

#[test]
fn codex_sandbox_modes_map_and_the_file_name_stands_in_for_a_missing_name() {
    for (mode, profile) in [
        ("read-only", SecurityProfile::Offline),
        ("workspace-write", SecurityProfile::WorkspaceWrite),
        ("danger-full-access", SecurityProfile::Trusted),
    ] {
        let text = format!(
            "description = \"d\"\ndeveloper_instructions = \"p\"\nsandbox_mode = \"{mode}\"\n"
        );
        let (role, _) = parse_role_file(
            Path::new("/c/agents/explorer.toml"),
            &text,
            RoleFormat::Codex,
        )
        .unwrap();
        assert_eq!(role.name, "explorer");
        assert_eq!(role.profile, Some(profile));
    }
    let problem = parse_role_file(
        Path::new("x.toml"),
        "sandbox_mode = \"everything\"\n",
        RoleFormat::Codex,
    )
    .unwrap_err();
    assert_eq!(problem.field.as_deref(), Some("sandbox_mode"));
}

#[test]
fn a_cadre_role_file_reads_every_field() {
    let text = "---\nname: Reviewer\ndescription: Reviews.\ntools: [read_file, grep, shell]\nmodel: gpt-5\nprofile: net-read-only\nmax_turns: 7\ntimeout: 10m\n---\nReview things.\n";
    let (role, notices) = parse_role_file(Path::new("r.md"), text, RoleFormat::Cadre).unwrap();
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(role.tools, strings(&["shell", "read_file", "grep"]));
    assert_eq!(role.model.as_deref(), Some("gpt-5"));
    assert_eq!(role.profile, Some(SecurityProfile::NetReadOnly));
    assert_eq!(role.max_turns, Some(7));
    assert_eq!(role.timeout, Some(Duration::from_secs(600)));
    assert_eq!(role.system_prompt, "Review things.");
}

#[test]
fn ignored_fields_and_unknown_tools_are_reported_once_each() {
    let text = "---\nname: a\ndescription: b\ntools: Read, Frobnicate, Frobnicate, Read\ncolor: red\nicon: x\n---\nbody";
    let (role, notices) = parse_role_file(Path::new("a.md"), text, RoleFormat::ClaudeCode).unwrap();
    assert_eq!(role.tools, strings(&["read_file"]));
    assert_eq!(notices_for(&notices, "color").len(), 1);
    assert_eq!(notices_for(&notices, "icon").len(), 1);
    let tool_notices = notices_for(&notices, "tools");
    assert_eq!(tool_notices.len(), 1);
    assert_eq!(tool_notices[0].matches("Frobnicate").count(), 1);
    assert_eq!(notices.len(), 3);
}

#[test]
fn a_broken_file_names_the_file_and_the_field() {
    let cases: [(&str, RoleFormat, Option<&str>); 9] = [
        (
            "---\ndescription: no name\n---\nbody",
            RoleFormat::ClaudeCode,
            Some("name"),
        ),
        (
            "---\nname: a\nmax_turns: many\n---\n",
            RoleFormat::Cadre,
            Some("max_turns"),
        ),
        (
            "---\nname: a\nmaxTurns: 0\n---\n",
            RoleFormat::ClaudeCode,
            Some("maxTurns"),
        ),
        (
            "---\nname: a\ntimeout: soon\n---\n",
            RoleFormat::Cadre,
            Some("timeout"),
        ),
        (
            "---\nname: a\nprofile: root\n---\n",
            RoleFormat::Cadre,
            Some("profile"),
        ),
        (
            "---\nname: [a, b]\n---\n",
            RoleFormat::GeminiCli,
            Some("name"),
        ),
        (
            "---\nname: a\ntools:\n  x: y\n---\n",
            RoleFormat::Cadre,
            Some("tools"),
        ),
        (
            "---\nname: a\ndescription: \"open\n---\n",
            RoleFormat::Cadre,
            Some("description"),
        ),
        (
            "just a prompt with no front matter",
            RoleFormat::Cadre,
            None,
        ),
    ];
    let path = Path::new("/agents/broken.md");
    for (text, format, field) in cases {
        let problem = parse_role_file(path, text, format).expect_err(text);
        assert!(problem.fatal, "{text}");
        assert_eq!(problem.path, path);
        assert_eq!(problem.field.as_deref(), field, "{text}: {problem}");
        let shown = problem.to_string();
        assert!(shown.starts_with("/agents/broken.md: "), "{shown}");
    }
    let problem = parse_role_file(Path::new("c.toml"), "name = 3\n", RoleFormat::Codex);
    assert!(problem.is_ok(), "a number is taken as text");
    let problem =
        parse_role_file(Path::new("c.toml"), "name = [\n", RoleFormat::Codex).unwrap_err();
    assert!(problem.message.starts_with("bad TOML"), "{problem}");
}

#[test]
fn a_claude_code_agent_with_hooks_and_skills_loads_and_reports_them() {
    let text = "---
name: devops
description: Handles Docker, CI/CD, deployment configuration, infrastructure setup, and dependency management. Use for infrastructure and deployment tasks.
tools: Read, Write, Edit, Bash, Glob, Grep
disallowedTools: WebSearch, WebFetch
model: inherit
permissionMode: plan
memory: project
maxTurns: 30
effort: medium
background: false
hooks:
  PreToolUse:
    - matcher: \"Bash\"
      hooks:
        - type: command
          command: \"$CLAUDE_PROJECT_DIR/.claude/hooks/validate-devops-bash.sh\"
          timeout: 10
skills:
  - update-deps
  - migrate
---

You are a DevOps engineer specializing in CI/CD, containerization, and infrastructure automation.
";
    let (role, notices) =
        parse_role_file(Path::new("devops.md"), text, RoleFormat::ClaudeCode).unwrap();
    assert_eq!(
        role.tools,
        strings(&["shell", "apply_patch", "read_file", "list_dir", "grep"])
    );
    assert_eq!(role.model, None);
    assert_eq!(role.profile, Some(SecurityProfile::Offline));
    assert_eq!(role.max_turns, Some(30));
    let mut ignored: Vec<&str> = notices.iter().filter_map(|n| n.field.as_deref()).collect();
    ignored.sort();
    assert_eq!(
        ignored,
        ["background", "effort", "hooks", "memory", "model", "skills"]
    );
}
