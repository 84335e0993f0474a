//! Reading rules from `policy.toml` files (the format is documented in the crate docs).

use crate::error::PolicyError;
use crate::evaluation::Decision;
use crate::rule::{Matcher, Rule};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    id: Option<String>,
    decision: Decision,
    command: Vec<String>,
    reason: Option<String>,
    writes_file: Option<bool>,
    piped_from_downloader: Option<bool>,
}

/// Reads and validates one rule file; `layer` (`user` or `project`) prefixes the rule ids.
pub(crate) fn load_rule_file(path: &Path, layer: &str) -> Result<Vec<Rule>, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_rule_file(&text, path, layer)
}

pub(crate) fn parse_rule_file(
    text: &str,
    path: &Path,
    layer: &str,
) -> Result<Vec<Rule>, PolicyError> {
    let file: RuleFile = toml::from_str(text).map_err(|err| {
        let line = err
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        PolicyError::Invalid {
            path: path.to_path_buf(),
            line,
            key: key_at(text, err.span().map(|span| span.start)),
            message: err.message().trim_end().to_string(),
        }
    })?;
    let invalid = |index: usize, key: &str, message: String| PolicyError::Invalid {
        path: path.to_path_buf(),
        line: None,
        key: Some(format!("rule[{index}].{key}")),
        message,
    };
    let mut seen_ids = HashSet::new();
    let mut rules = Vec::with_capacity(file.rule.len());
    for (index, entry) in file.rule.into_iter().enumerate() {
        if entry.command.is_empty() {
            return Err(invalid(
                index,
                "command",
                "expected at least the program name".to_string(),
            ));
        }
        if entry.command.iter().any(String::is_empty) {
            return Err(invalid(
                index,
                "command",
                "expected non-empty words".to_string(),
            ));
        }
        let id = entry.id.unwrap_or_else(|| format!("rule-{}", index + 1));
        if id.is_empty() || id.chars().any(char::is_whitespace) {
            return Err(invalid(
                index,
                "id",
                "expected a non-empty id without spaces".to_string(),
            ));
        }
        if !seen_ids.insert(id.clone()) {
            return Err(invalid(index, "id", format!("the id `{id}` is used twice")));
        }
        rules.push(Rule {
            id: format!("{layer}:{id}"),
            decision: entry.decision,
            reason: entry
                .reason
                .unwrap_or_else(|| format!("{layer} rule in {}", path.display())),
            matcher: Matcher::Prefix(entry.command),
            writes_file: entry.writes_file,
            piped_from_downloader: entry.piped_from_downloader,
            transparent: false,
        });
    }
    Ok(rules)
}

/// The key written on the line where a TOML error points, if that line is `key = value`.
fn key_at(text: &str, offset: Option<usize>) -> Option<String> {
    let offset = offset?.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[line_start..line_end];
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.contains(char::is_whitespace)).then(|| key.to_string())
}
