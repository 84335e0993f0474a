//! Claude Code subagents (`.claude/agents/*.md`): `name`, `description`, `tools`,
//! `disallowedTools`, `model`, `maxTurns`, `permissionMode`.
//!
//! `permissionMode` maps conservatively: `plan` (look, don't touch) is `offline`, `acceptEdits`
//! is `workspace-write`, and `bypassPermissions` is also only `workspace-write`: an imported
//! file never grants `trusted` (no sandbox); write `profile: trusted` in a cadre agent file to
//! choose that deliberately. A run's `--profile` caps whatever the role asks for.

use crate::RoleLoadProblem;
use crate::fields::Fields;
use crate::formats::is_inherit;
use crate::parse::{PartialRole, read_common};
use crate::tool_names::{CADRE_TOOLS, claude_code_tool, translate};
use cadre_protocol::SecurityProfile;

const MODEL_ALIASES: [&str; 3] = ["sonnet", "opus", "haiku"];

pub(crate) fn read(fields: &mut Fields<'_>) -> Result<PartialRole, RoleLoadProblem> {
    let common = read_common(fields, false)?;
    let mut tools = fields
        .list("tools")?
        .map(|names| translate(fields, "tools", &names, claude_code_tool));
    if let Some(denied) = fields.list("disallowedTools")? {
        let denied = translate(fields, "disallowedTools", &denied, claude_code_tool);
        let allowed = tools.unwrap_or_else(|| CADRE_TOOLS.map(str::to_string).to_vec());
        tools = Some(
            allowed
                .into_iter()
                .filter(|tool| !denied.contains(tool))
                .collect(),
        );
    }
    let model = match fields.text("model")? {
        Some(model) if is_inherit(&model) => {
            fields.notice("model", "`inherit`: the role uses the session's model");
            None
        }
        Some(model) if MODEL_ALIASES.contains(&model.to_ascii_lowercase().as_str()) => {
            fields.notice(
                "model",
                format!("`{model}` is a Claude Code alias with no meaning in cadre; ignored (the session's model is used)"),
            );
            None
        }
        other => other,
    };
    let max_turns = fields.positive_integer("maxTurns")?;
    let profile = match fields.text("permissionMode")?.as_deref() {
        None | Some("default") => None,
        Some("plan") => Some(SecurityProfile::Offline),
        Some("acceptEdits") => Some(SecurityProfile::WorkspaceWrite),
        Some("bypassPermissions") => {
            fields.notice(
                "permissionMode",
                "`bypassPermissions` maps to workspace-write: an imported agent never gets the unsandboxed `trusted` profile",
            );
            Some(SecurityProfile::WorkspaceWrite)
        }
        Some(other) => {
            fields.notice(
                "permissionMode",
                format!("`{other}` has no cadre equivalent; the run's profile applies"),
            );
            None
        }
    };
    Ok(PartialRole {
        common,
        tools,
        model,
        profile,
        max_turns,
        timeout: None,
    })
}
