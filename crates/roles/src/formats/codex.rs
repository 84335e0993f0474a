//! Codex role files (`agents/*.toml` under `$CODEX_HOME` or `~/.codex`): `name` (else the file
//! name), `description`, `developer_instructions` (the system prompt), `model`, `sandbox_mode`.

use crate::fields::Fields;
use crate::front_matter::{Entry, Value};
use crate::parse::{PartialRole, finish, read_common};
use crate::{RoleDefinition, RoleFormat, RoleLoadProblem};
use cadre_protocol::SecurityProfile;
use std::path::Path;

pub(crate) fn parse(
    path: &Path,
    text: &str,
) -> Result<(RoleDefinition, Vec<RoleLoadProblem>), RoleLoadProblem> {
    let table: toml::Table = text
        .parse()
        .map_err(|error: toml::de::Error| RoleLoadProblem {
            path: path.to_path_buf(),
            field: None,
            message: format!("bad TOML: {}", error.message()),
            fatal: true,
        })?;
    let entries = table
        .into_iter()
        .map(|(key, value)| Entry {
            key,
            value: flatten(value),
        })
        .collect();
    let mut fields = Fields::new(path, entries);
    let common = read_common(&mut fields, true)?;
    let system_prompt = fields.text("developer_instructions")?.unwrap_or_default();
    let model = fields.text("model")?;
    let profile = match fields.text("sandbox_mode")?.as_deref() {
        None => None,
        Some("read-only") => Some(SecurityProfile::Offline),
        Some("workspace-write") => Some(SecurityProfile::WorkspaceWrite),
        Some("danger-full-access") => Some(SecurityProfile::Trusted),
        Some(other) => {
            return Err(fields.fatal(
                "sandbox_mode",
                &format!("`{other}` is not a Codex sandbox mode (read-only, workspace-write, danger-full-access)"),
            ));
        }
    };
    let role = PartialRole {
        common,
        tools: None,
        model,
        profile,
        max_turns: None,
        timeout: None,
    };
    finish(fields, role, system_prompt, RoleFormat::Codex, "Codex")
}

/// TOML values as the shared field reader sees them.
fn flatten(value: toml::Value) -> Value {
    match value {
        toml::Value::String(text) => Value::Text(text),
        toml::Value::Integer(number) => Value::Text(number.to_string()),
        toml::Value::Float(number) => Value::Text(number.to_string()),
        toml::Value::Boolean(flag) => Value::Text(flag.to_string()),
        toml::Value::Datetime(datetime) => Value::Text(datetime.to_string()),
        toml::Value::Array(items) => {
            let texts: Option<Vec<String>> = items
                .into_iter()
                .map(|item| match item {
                    toml::Value::String(text) => Some(text),
                    _ => None,
                })
                .collect();
            texts.map_or(Value::Nested, Value::List)
        }
        toml::Value::Table(_) => Value::Nested,
    }
}
