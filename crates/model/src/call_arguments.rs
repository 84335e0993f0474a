//! Function-call arguments are JSON text, and servers parse the ones sent back in the history:
//! llama.cpp answers a whole request with HTTP 500 when one earlier call's arguments do not
//! parse. A call cut off by the output token limit (`{"path": "READ`) must therefore never be
//! sent back as it is.

use std::borrow::Cow;

/// Why `arguments` is not JSON, or `None` when it is. An empty string counts as `{}`, as the
/// tools read it.
pub fn invalid_arguments(arguments: &str) -> Option<String> {
    if arguments.trim().is_empty() {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(arguments)
        .err()
        .map(|error| error.to_string())
}

/// The arguments as they go on the wire: unchanged when they are JSON, `{}` otherwise (and for
/// an empty string, which no server parses).
pub(crate) fn for_wire(arguments: &str) -> Cow<'_, str> {
    if arguments.trim().is_empty() || invalid_arguments(arguments).is_some() {
        Cow::Borrowed("{}")
    } else {
        Cow::Borrowed(arguments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_off_arguments_are_invalid_and_replaced_on_the_wire() {
        let cut = r#"{"path": "READ"#;
        let error = invalid_arguments(cut).expect("invalid");
        assert!(error.contains("EOF while parsing"), "{error}");
        assert_eq!(for_wire(cut), "{}");
        assert_eq!(for_wire(""), "{}");
        assert_eq!(invalid_arguments(""), None);
        assert_eq!(invalid_arguments(r#"{"path": "README.md"}"#), None);
        assert_eq!(
            for_wire(r#"{"path": "README.md"}"#),
            r#"{"path": "README.md"}"#
        );
    }
}
