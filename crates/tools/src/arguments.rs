//! Decoding a call's JSON arguments into a tool's argument type, with an error the model can act
//! on: what was wrong and the shape that was expected.

use crate::ToolResult;
use serde::de::DeserializeOwned;

/// Parses `raw` (an empty string counts as `{}`), or explains the problem to the model.
pub(crate) fn parse_arguments<T: DeserializeOwned>(
    tool: &str,
    raw: &str,
    expected_shape: &str,
) -> Result<T, ToolResult> {
    let raw = if raw.trim().is_empty() { "{}" } else { raw };
    serde_json::from_str(raw).map_err(|err| {
        ToolResult::error(format!(
            "invalid arguments for `{tool}`: {err}. Expected a JSON object like {expected_shape}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Args {
        #[allow(dead_code)]
        path: String,
    }

    #[test]
    fn missing_field_names_it_and_shows_the_shape() {
        let err =
            parse_arguments::<Args>("read_file", "{}", r#"{"path": "src/lib.rs"}"#).unwrap_err();
        assert!(!err.success);
        assert!(
            err.output.contains("missing field `path`"),
            "{}",
            err.output
        );
        assert!(err.output.contains(r#"{"path": "src/lib.rs"}"#));
    }

    #[test]
    fn malformed_json_is_an_error() {
        let err = parse_arguments::<Args>("read_file", "{path:", "{}").unwrap_err();
        assert!(err.output.starts_with("invalid arguments for `read_file`"));
    }
}
