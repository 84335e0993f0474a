//! cadre's tool names, and how the tool names of Claude Code and Gemini CLI translate to them.

use crate::fields::Fields;

/// Every tool a role may name, in the order they are shown.
pub const CADRE_TOOLS: [&str; 9] = [
    "shell",
    "apply_patch",
    "read_file",
    "list_dir",
    "grep",
    "update_plan",
    "web_fetch",
    "research",
    "spawn_agent",
];

/// The cadre tools that a Claude Code tool name stands for (`None`: no equivalent).
pub(crate) fn claude_code_tool(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "Bash" | "BashOutput" | "KillBash" | "KillShell" => &["shell"],
        "Edit" | "MultiEdit" | "Write" | "NotebookEdit" => &["apply_patch"],
        "Read" | "NotebookRead" => &["read_file"],
        "Glob" | "LS" => &["list_dir"],
        "Grep" => &["grep"],
        "TodoWrite" => &["update_plan"],
        "WebFetch" => &["web_fetch"],
        "WebSearch" => &["research"],
        "Task" | "Agent" => &["spawn_agent"],
        _ => return None,
    })
}

/// The cadre tools that a Gemini CLI tool name stands for (`None`: no equivalent).
pub(crate) fn gemini_cli_tool(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "run_shell_command" => &["shell"],
        "replace" | "write_file" | "edit" => &["apply_patch"],
        "read_file" | "read_many_files" => &["read_file"],
        "list_directory" | "glob" | "ls" => &["list_dir"],
        "search_file_content" | "grep" => &["grep"],
        "write_todos" => &["update_plan"],
        "web_fetch" => &["web_fetch"],
        "google_web_search" => &["research"],
        _ => return None,
    })
}

/// cadre's own names map to themselves.
pub(crate) fn cadre_tool(name: &str) -> Option<&'static [&'static str]> {
    let index = CADRE_TOOLS.iter().position(|tool| *tool == name)?;
    Some(std::slice::from_ref(&CADRE_TOOLS[index]))
}

/// Translates the names of field `key`, dropping (and reporting once, together) those with no
/// cadre equivalent. Claude Code's argument patterns (`Bash(git diff:*)`) are reported and the
/// tool kept whole: cadre's command policy, not the role, decides which commands run.
pub(crate) fn translate(
    fields: &mut Fields<'_>,
    key: &str,
    names: &[String],
    lookup: fn(&str) -> Option<&'static [&'static str]>,
) -> Vec<String> {
    let mut tools: Vec<String> = Vec::new();
    let mut unknown: Vec<&str> = Vec::new();
    let mut patterned: Vec<&str> = Vec::new();
    for name in names {
        let (base, pattern) = match name.split_once('(') {
            Some((base, _)) => (base.trim(), true),
            None => (name.as_str(), false),
        };
        match lookup(base) {
            Some(mapped) => {
                if pattern && !patterned.contains(&name.as_str()) {
                    patterned.push(name);
                }
                for tool in mapped {
                    if !tools.iter().any(|known| known == tool) {
                        tools.push((*tool).to_string());
                    }
                }
            }
            None => {
                if !unknown.contains(&name.as_str()) {
                    unknown.push(name);
                }
            }
        }
    }
    if !unknown.is_empty() {
        let message = format!(
            "no cadre tool for {}; dropped",
            unknown
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        fields.notice(key, message);
    }
    if !patterned.is_empty() {
        let message = format!(
            "argument patterns are not applied ({}); the whole tool is allowed and cadre's command policy decides what runs",
            patterned.join(", ")
        );
        fields.notice(key, message);
    }
    tools.sort_by_key(|tool| CADRE_TOOLS.iter().position(|known| known == tool));
    tools
}
