//! Which variable assignments can change what a later command does.

/// Upper-case variables that only change formatting, locale or logging.
const HARMLESS_VARIABLES: &[&str] = &[
    "LANG",
    "LANGUAGE",
    "TZ",
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "TERM",
    "COLUMNS",
    "LINES",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "CI",
    "CARGO_TERM_COLOR",
    "IFS",
];

/// True when `NAME=value` sets a variable that programs may read to decide what to run or load
/// (`PATH`, `LD_PRELOAD`, `GIT_PAGER`...). Lower-case names are the script's own variables,
/// except the proxy settings.
pub(crate) fn is_risky_assignment(assignment: &str) -> bool {
    let name = assignment
        .split_once('=')
        .map_or(assignment, |(name, _)| name)
        .trim_end_matches('+');
    let lowercase = name.chars().all(|c| !c.is_ascii_uppercase());
    if lowercase {
        return name.ends_with("_proxy");
    }
    !(HARMLESS_VARIABLES.contains(&name) || name.starts_with("LC_"))
}
