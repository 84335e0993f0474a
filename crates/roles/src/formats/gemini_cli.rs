//! Gemini CLI subagents (`.gemini/agents/*.md`): `name`, `description`, `tools`, `model`,
//! `max_turns`, `timeout_mins`. Remote (`kind: remote`) agents run elsewhere and cannot load.

use crate::RoleLoadProblem;
use crate::fields::Fields;
use crate::formats::is_inherit;
use crate::parse::{PartialRole, read_common};
use crate::tool_names::{gemini_cli_tool, translate};
use std::time::Duration;

pub(crate) fn read(fields: &mut Fields<'_>) -> Result<PartialRole, RoleLoadProblem> {
    let common = read_common(fields, false)?;
    match fields.text("kind")?.as_deref() {
        None | Some("local") => {}
        Some(kind) => {
            return Err(fields.fatal(
                "kind",
                &format!(
                    "`{kind}` agents run outside this machine; only local agents can be cadre roles"
                ),
            ));
        }
    }
    let tools = fields
        .list("tools")?
        .map(|names| translate(fields, "tools", &names, gemini_cli_tool));
    let model = match fields.text("model")? {
        Some(model) if is_inherit(&model) => {
            fields.notice("model", "`inherit`: the role uses the session's model");
            None
        }
        other => other,
    };
    let max_turns = fields.positive_integer("max_turns")?;
    let timeout = match fields.positive_number("timeout_mins")? {
        None => None,
        Some(minutes) => Some(
            Duration::try_from_secs_f64(minutes * 60.0)
                .map_err(|_| fields.fatal("timeout_mins", "too large a number of minutes"))?,
        ),
    };
    Ok(PartialRole {
        common,
        tools,
        model,
        profile: None,
        max_turns,
        timeout,
    })
}
