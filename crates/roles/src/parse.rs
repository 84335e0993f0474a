//! Reading one role file in any of the supported formats.

use crate::fields::Fields;
use crate::formats;
use crate::front_matter::{FrontMatterError, parse_document};
use crate::{RoleDefinition, RoleFormat, RoleLoadProblem, RoleSource};
use std::path::Path;

/// Parses one role file. `Ok` carries the definition and the notices about fields that were
/// ignored or adjusted; `Err` is the fatal problem (naming the field where there is one) that
/// makes the file unusable.
pub fn parse_role_file(
    path: &Path,
    text: &str,
    format: RoleFormat,
) -> Result<(RoleDefinition, Vec<RoleLoadProblem>), RoleLoadProblem> {
    if format == RoleFormat::Codex {
        return formats::codex::parse(path, text);
    }
    let document = parse_document(text).map_err(|error| front_matter_problem(path, error))?;
    let Some(entries) = document.entries else {
        return Err(RoleLoadProblem {
            path: path.to_path_buf(),
            field: None,
            message:
                "no front matter: the file must open with a `---` block giving at least `name`"
                    .into(),
            fatal: true,
        });
    };
    let mut fields = Fields::new(path, entries);
    let (role, tool) = match format {
        RoleFormat::Cadre => (formats::cadre::read(&mut fields)?, "cadre"),
        RoleFormat::ClaudeCode => (formats::claude_code::read(&mut fields)?, "Claude Code"),
        RoleFormat::GeminiCli => (formats::gemini_cli::read(&mut fields)?, "Gemini CLI"),
        RoleFormat::Codex => unreachable!("Codex files are TOML, read above"),
    };
    finish(fields, role, document.body, format, tool)
}

/// What every format reads the same way, before the format's own fields.
pub(crate) struct CommonFields {
    pub name: String,
    pub description: String,
}

/// Reads `name` (falling back to `stem_fallback` where the format allows one) and
/// `description`.
pub(crate) fn read_common(
    fields: &mut Fields<'_>,
    stem_fallback: bool,
) -> Result<CommonFields, RoleLoadProblem> {
    let name = match fields.text("name")? {
        Some(name) => name,
        None if stem_fallback => fields
            .path()
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default(),
        None => return Err(fields.fatal("name", "missing: every role needs a name")),
    };
    if name.contains(',') || name.chars().any(char::is_control) {
        return Err(fields.fatal(
            "name",
            &format!(
                "`{name}` cannot be a role name: commas and control characters are not allowed"
            ),
        ));
    }
    let description = match fields.text("description")? {
        Some(description) => description,
        None => {
            fields.notice(
                "description",
                "missing: planners will know this role by its name alone",
            );
            String::new()
        }
    };
    Ok(CommonFields { name, description })
}

/// A definition as the format reads it, before the system prompt and source are attached.
pub(crate) struct PartialRole {
    pub common: CommonFields,
    pub tools: Option<Vec<String>>,
    pub model: Option<String>,
    pub profile: Option<cadre_protocol::SecurityProfile>,
    pub max_turns: Option<u32>,
    pub timeout: Option<std::time::Duration>,
}

pub(crate) fn finish(
    mut fields: Fields<'_>,
    role: PartialRole,
    system_prompt: String,
    format: RoleFormat,
    tool: &str,
) -> Result<(RoleDefinition, Vec<RoleLoadProblem>), RoleLoadProblem> {
    if system_prompt.trim().is_empty() {
        fields.notice(
            "system prompt",
            "empty: the agent gets no instructions beyond its task",
        );
    }
    let path = fields.path().to_path_buf();
    let unknown = if format == RoleFormat::Cadre {
        "not a cadre role field; ignored".to_string()
    } else {
        format!("a {tool} field with no meaning in cadre; ignored")
    };
    let notices = fields.finish(&unknown);
    let definition = RoleDefinition {
        name: role.common.name,
        description: role.common.description,
        tools: role.tools,
        model: role.model,
        profile: role.profile,
        max_turns: role.max_turns,
        timeout: role.timeout,
        system_prompt: system_prompt.trim().to_string(),
        source: RoleSource::File { path, format },
    };
    Ok((definition, notices))
}

fn front_matter_problem(path: &Path, error: FrontMatterError) -> RoleLoadProblem {
    RoleLoadProblem {
        path: path.to_path_buf(),
        field: error.field,
        message: format!("bad front matter at line {}: {}", error.line, error.message),
        fatal: true,
    }
}
