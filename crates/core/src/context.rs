//! What the model is told besides the conversation: the system prompt, the repository's
//! `AGENTS.md` files and a description of the environment.

use cadre_protocol::{ApprovalMode, ResponseItem, SecurityProfile};
use std::path::{Path, PathBuf};

/// The system prompt written for cadre.
pub const SYSTEM_PROMPT: &str = include_str!("prompts/system.md");

/// The same in a few sentences, for models with a small context window.
pub const SYSTEM_PROMPT_COMPACT: &str = include_str!("prompts/system_compact.md");

/// Largest total size of AGENTS.md text included, so a huge file cannot crowd out the task.
const MAX_AGENTS_BYTES: usize = 64 * 1024;

/// The `AGENTS.md` files from the repository root (the nearest ancestor holding `.git`, else the
/// working directory) down to the working directory, outermost first.
pub fn find_agents_files(cwd: &Path) -> Vec<PathBuf> {
    let root = cwd
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(cwd);
    let mut dirs: Vec<&Path> = cwd
        .ancestors()
        .take_while(|dir| dir.starts_with(root))
        .collect();
    dirs.reverse();
    dirs.into_iter()
        .map(|dir| dir.join("AGENTS.md"))
        .filter(|path| path.is_file())
        .collect()
}

/// The AGENTS.md instructions as one message, or `None` when there are none.
pub fn agents_message(cwd: &Path) -> Option<ResponseItem> {
    let mut text = String::new();
    for path in find_agents_files(cwd) {
        let Ok(content) = std::fs::read_to_string(&path) else {
            continue;
        };
        if text.len() + content.len() > MAX_AGENTS_BYTES {
            let room = MAX_AGENTS_BYTES.saturating_sub(text.len());
            let cut = floor_char_boundary(&content, room);
            text.push_str(&format!(
                "<agents_md path=\"{}\" truncated=\"true\">\n{}\n</agents_md>\n",
                path.display(),
                &content[..cut]
            ));
            break;
        }
        text.push_str(&format!(
            "<agents_md path=\"{}\">\n{}\n</agents_md>\n",
            path.display(),
            content.trim_end()
        ));
    }
    (!text.is_empty())
        .then(|| ResponseItem::user(format!("<user_instructions>\n{text}</user_instructions>")))
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    if index >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The environment block: where the agent is and what it may do.
pub fn environment_message(
    cwd: &Path,
    profile: SecurityProfile,
    approval: ApprovalMode,
) -> ResponseItem {
    ResponseItem::user(environment_text(cwd, profile, approval))
}

fn environment_text(cwd: &Path, profile: SecurityProfile, approval: ApprovalMode) -> String {
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "bash".into());
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let writes = if profile.allows_workspace_writes() {
        "the workspace is writable"
    } else {
        "read-only: no file may be written"
    };
    let network = if profile == SecurityProfile::Trusted {
        "unrestricted"
    } else if profile.allows_network() {
        "outbound HTTP(S) through cadre's proxy only"
    } else {
        "none"
    };
    format!(
        "<environment_context>\n  <cwd>{}</cwd>\n  <security_profile>{profile}</security_profile>\n  <file_writes>{writes}</file_writes>\n  <network>{network}</network>\n  <approval_policy>{approval}</approval_policy>\n  <shell>{shell}</shell>\n  <os>{}</os>\n  <date>{date}</date>\n</environment_context>",
        cwd.display(),
        std::env::consts::OS,
    )
}

/// A fresh environment block for a resumed session whose directory or profile is not the one
/// the conversation so far was told about, saying first what changed.
pub fn environment_change_message(
    before: (&Path, SecurityProfile),
    cwd: &Path,
    profile: SecurityProfile,
    approval: ApprovalMode,
) -> ResponseItem {
    let mut changes = Vec::new();
    if before.0 != cwd {
        changes.push(format!(
            "the working directory is now {} (it was {})",
            cwd.display(),
            before.0.display()
        ));
    }
    if before.1 != profile {
        changes.push(format!(
            "the security profile is now {profile} (it was {})",
            before.1
        ));
    }
    ResponseItem::user(format!(
        "<environment_change>The session was resumed and {}. The environment below replaces the earlier one.</environment_change>\n{}",
        changes.join(" and "),
        environment_text(cwd, profile, approval)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_files_from_root_down_to_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let sub = root.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "outside the repo").unwrap();
        std::fs::write(root.join("AGENTS.md"), "root rules").unwrap();
        std::fs::write(sub.join("AGENTS.md"), "deep rules").unwrap();
        let files = find_agents_files(&sub);
        assert_eq!(files, vec![root.join("AGENTS.md"), sub.join("AGENTS.md")]);
        let Some(ResponseItem::Message { content, .. }) = agents_message(&sub) else {
            panic!("expected a message");
        };
        assert!(content.find("root rules").unwrap() < content.find("deep rules").unwrap());
        assert!(!content.contains("outside the repo"));
    }

    #[test]
    fn environment_names_profile() {
        let ResponseItem::Message { content, .. } = environment_message(
            Path::new("/w"),
            SecurityProfile::Offline,
            ApprovalMode::Never,
        ) else {
            panic!()
        };
        assert!(content.contains("<security_profile>offline</security_profile>"));
        assert!(content.contains("<network>none</network>"));
    }
}
