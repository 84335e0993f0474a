//! One module per role file format: which fields it has and how they map to a role.

pub(crate) mod cadre;
pub(crate) mod claude_code;
pub(crate) mod codex;
pub(crate) mod gemini_cli;

/// Model names that mean "whatever the session uses", which is what a role without a model
/// gets in cadre anyway.
pub(crate) fn is_inherit(model: &str) -> bool {
    model.eq_ignore_ascii_case("inherit")
}
