//! JSON schemas for tool arguments, generated from Rust types and reduced to the plain shape
//! that OpenAI function calling accepts: an inline object schema with `type`, `properties` and
//! `required`, without `$schema`, titles, `$ref`s or numeric `format` hints.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// The parameters schema for an arguments type.
///
/// ```
/// #[derive(schemars::JsonSchema)]
/// struct Args {
///     /// Where to look.
///     path: String,
///     depth: Option<u32>,
/// }
/// let schema = cadre_tools::schema::parameters_schema::<Args>();
/// assert_eq!(schema["type"], "object");
/// assert_eq!(schema["required"], serde_json::json!(["path"]));
/// assert_eq!(schema["properties"]["depth"]["type"], "integer");
/// assert!(schema.get("$schema").is_none());
/// ```
pub fn parameters_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    simplify(&mut schema);
    if let Value::Object(map) = &mut schema {
        map.remove("definitions");
        map.remove("$defs");
        map.entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    schema
}

/// Removes what function calling does not need, and turns `Option<T>`'s "T or null" into
/// plain `T`: optional fields are simply left out of `required`.
fn simplify(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in ["$schema", "title", "format", "default"] {
                map.remove(key);
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
            for key in ["anyOf", "oneOf"] {
                let Some(Value::Array(variants)) = map.get_mut(key) else {
                    continue;
                };
                variants.retain(|v| v.get("type").is_none_or(|t| t != "null"));
                if variants.len() == 1 {
                    let Some(Value::Object(only)) = map
                        .remove(key)
                        .and_then(|mut v| v.as_array_mut().and_then(|a| a.pop()))
                    else {
                        continue;
                    };
                    for (k, v) in only {
                        map.entry(k).or_insert(v);
                    }
                }
            }
            for child in map.values_mut() {
                simplify(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(simplify),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    enum Mood {
        #[serde(rename = "calm")]
        Calm,
        #[serde(rename = "busy")]
        Busy,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        mood: Mood,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// Things to do.
        items: Vec<Item>,
        limit: Option<u64>,
        mood: Option<Mood>,
    }

    fn contains_key(value: &Value, key: &str) -> bool {
        match value {
            Value::Object(map) => {
                map.contains_key(key) || map.values().any(|v| contains_key(v, key))
            }
            Value::Array(items) => items.iter().any(|v| contains_key(v, key)),
            _ => false,
        }
    }

    #[test]
    fn nested_types_are_inlined_without_noise() {
        let schema = parameters_schema::<Args>();
        for key in ["$ref", "$schema", "title", "definitions", "$defs", "format"] {
            assert!(!contains_key(&schema, key), "{key} in {schema:#}");
        }
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], serde_json::json!(["items"]));
        assert_eq!(
            schema["properties"]["items"]["description"],
            "Things to do."
        );
        let item = &schema["properties"]["items"]["items"];
        assert_eq!(item["type"], "object");
        assert_eq!(
            item["properties"]["mood"]["enum"],
            serde_json::json!(["calm", "busy"])
        );
        assert_eq!(schema["properties"]["limit"]["type"], "integer");
        assert_eq!(
            schema["properties"]["mood"]["enum"],
            serde_json::json!(["calm", "busy"]),
            "{schema:#}"
        );
    }
}
