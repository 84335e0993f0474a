//! cadre's own format: `name`, `description`, `tools`, `model`, `profile`, `max_turns`,
//! `timeout`; the body is the system prompt.

use crate::RoleLoadProblem;
use crate::fields::Fields;
use crate::parse::{PartialRole, read_common};
use crate::tool_names::{cadre_tool, translate};
use cadre_protocol::SecurityProfile;
use cadre_protocol::duration::parse_duration;

pub(crate) fn read(fields: &mut Fields<'_>) -> Result<PartialRole, RoleLoadProblem> {
    let common = read_common(fields, false)?;
    let tools = fields
        .list("tools")?
        .map(|names| translate(fields, "tools", &names, cadre_tool));
    let model = fields.text("model")?;
    let profile = match fields.text("profile")? {
        None => None,
        Some(text) => Some(
            text.parse::<SecurityProfile>()
                .map_err(|message| fields.fatal("profile", &message))?,
        ),
    };
    let max_turns = fields.positive_integer("max_turns")?;
    let timeout = match fields.text("timeout")? {
        None => None,
        Some(text) => Some(
            parse_duration(&text)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    fields.fatal(
                        "timeout",
                        &format!(
                            "expected a duration such as `90s`, `10m` or `1h30m`, found `{text}`"
                        ),
                    )
                })?,
        ),
    };
    Ok(PartialRole {
        common,
        tools,
        model,
        profile,
        max_turns,
        timeout,
    })
}
