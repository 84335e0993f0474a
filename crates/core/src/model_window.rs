//! Fitting cadre's requests to the model: the output cap sent with every request, and a compact
//! system prompt and tool descriptions when the context window is small (a 2K or 4K local
//! model cannot take the full ~2,400-token first request).

use crate::config::Config;
use crate::context;
use cadre_model::{ContextWindow, ContextWindowSource, ModelClient};
use cadre_protocol::ToolSpec;

/// Below this many tokens of context window the compact prompt and tool descriptions are sent.
pub const COMPACT_PROMPT_BELOW_TOKENS: u64 = 16_384;

/// A default output cap never takes more than this share of a known window (vLLM refuses a
/// request whose prompt plus `max_tokens` exceeds the window).
const DEFAULT_CAP_WINDOW_DIVISOR: u64 = 4;
/// ...nor less than this many tokens.
const MIN_DEFAULT_CAP: u64 = 256;

/// How requests are shaped for this model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelWindow {
    pub context_window: Option<ContextWindow>,
    pub max_output_tokens: u64,
    pub compact: bool,
}

impl ModelWindow {
    pub fn new(config: &Config, context_window: Option<ContextWindow>) -> ModelWindow {
        let max_output_tokens = config.model_max_output_tokens.unwrap_or_else(|| {
            let default = config.provider.default_max_output_tokens();
            match context_window {
                Some(window) => default
                    .min(window.tokens / DEFAULT_CAP_WINDOW_DIVISOR)
                    .max(MIN_DEFAULT_CAP),
                None => default,
            }
        });
        ModelWindow {
            context_window,
            max_output_tokens,
            compact: context_window.is_some_and(|w| w.tokens < COMPACT_PROMPT_BELOW_TOKENS),
        }
    }

    /// The configured window, else what the server says.
    pub async fn discover(config: &Config, client: &ModelClient) -> ModelWindow {
        let window = match config.model_context_window {
            Some(tokens) => Some(ContextWindow {
                tokens,
                source: ContextWindowSource::Configured,
            }),
            None => client.discover_context_window(&config.model).await,
        };
        ModelWindow::new(config, window)
    }

    /// cadre's system prompt in the size this window calls for, with `extra` after it.
    pub fn instructions(&self, extra: Option<&str>) -> String {
        let base = if self.compact {
            context::SYSTEM_PROMPT_COMPACT
        } else {
            context::SYSTEM_PROMPT
        };
        match extra {
            Some(extra) => format!("{base}\n\n{extra}"),
            None => base.to_string(),
        }
    }

    pub fn tool_specs(&self, specs: Vec<ToolSpec>) -> Vec<ToolSpec> {
        if self.compact {
            specs.into_iter().map(compact_spec).collect()
        } else {
            specs
        }
    }
}

/// A tool's first sentence, and its schema without the per-field descriptions (names, types,
/// enums and `required` stay, so the call still validates).
pub fn compact_spec(spec: ToolSpec) -> ToolSpec {
    let mut parameters = spec.parameters;
    strip_descriptions(&mut parameters);
    ToolSpec {
        description: first_sentence(&spec.description).to_string(),
        name: spec.name,
        parameters,
    }
}

fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let line = text.lines().next().unwrap_or_default();
    match line.find(". ") {
        Some(end) => &line[..=end],
        None => line,
    }
}

/// Removes `description` strings; a property that happens to be called `description` has an
/// object as its value and stays.
fn strip_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("description").is_some_and(|d| d.is_string()) {
                map.remove("description");
            }
            map.values_mut().for_each(strip_descriptions);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_specs_keep_names_types_and_required_fields() {
        let spec = ToolSpec {
            name: "read_file".into(),
            description: "Reads a file. Lines are numbered.\nMore detail.".into(),
            parameters: json!({"type": "object", "properties": {
                "path": {"type": "string", "description": "Path to read"},
                "description": {"type": "string", "description": "a field named description"},
            }, "required": ["path"]}),
        };
        let compact = compact_spec(spec);
        assert_eq!(compact.description, "Reads a file.");
        assert_eq!(
            compact.parameters,
            json!({"type": "object", "properties": {
                "path": {"type": "string"},
                "description": {"type": "string"},
            }, "required": ["path"]})
        );
    }

    #[test]
    fn the_full_and_compact_first_requests_differ_in_size() {
        let specs = cadre_tools::default_registry().specs();
        let full = serde_json::to_string(&specs).unwrap().len() + context::SYSTEM_PROMPT.len();
        let compact_specs: Vec<ToolSpec> = specs.into_iter().map(compact_spec).collect();
        let compact = serde_json::to_string(&compact_specs).unwrap().len()
            + context::SYSTEM_PROMPT_COMPACT.len();
        assert!(
            compact * 2 < full,
            "compact {compact} bytes, full {full} bytes"
        );
    }
}
