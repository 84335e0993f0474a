use super::*;

fn entries(text: &str) -> Vec<(String, Value)> {
    let document = parse_document(text).expect("parses");
    document
        .entries
        .expect("has front matter")
        .into_iter()
        .map(|entry| (entry.key, entry.value))
        .collect()
}

fn text(value: &str) -> Value {
    Value::Text(value.to_string())
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|item| item.to_string()).collect())
}

#[test]
fn reads_plain_quoted_and_empty_values_and_the_body() {
    let document = parse_document(
        "---\nname: reviewer\ndescription: \"Reviews code.\\nThoroughly.\"\nmodel: 'it''s'\ncolor:\n# a comment\nmax_turns: 5 # five\n---\n\nYou review code.\n",
    )
    .unwrap();
    assert_eq!(document.body, "You review code.");
    let entries: Vec<_> = document
        .entries
        .unwrap()
        .into_iter()
        .map(|entry| (entry.key, entry.value))
        .collect();
    assert_eq!(
        entries,
        vec![
            ("name".into(), text("reviewer")),
            ("description".into(), text("Reviews code.\nThoroughly.")),
            ("model".into(), text("it's")),
            ("color".into(), Value::Null),
            ("max_turns".into(), text("5")),
        ]
    );
}

#[test]
fn keeps_colons_and_hashes_inside_plain_values() {
    let found = entries(
        "---\ndescription: Use this agent when: the user asks. Example: <example>user: \"hi\"</example>\nurl: http://x/#frag\n---\n",
    );
    assert_eq!(
        found[0].1,
        text("Use this agent when: the user asks. Example: <example>user: \"hi\"</example>")
    );
    assert_eq!(found[1].1, text("http://x/#frag"));
}

#[test]
fn reads_flow_and_block_lists() {
    let found = entries(
        "---\na: [Read, \"Grep\", 'Bash(git diff:*)', ]\nb:\n  - one\n  - \"two, three\"\nc:\n- top\n- level\nd: Read, Grep\n---\n",
    );
    assert_eq!(found[0].1, list(&["Read", "Grep", "Bash(git diff:*)"]));
    assert_eq!(found[1].1, list(&["one", "two, three"]));
    assert_eq!(found[2].1, list(&["top", "level"]));
    assert_eq!(found[3].1, text("Read, Grep"));
}

#[test]
fn reads_block_scalars_with_chomping() {
    let found = entries(
        "---\nliteral: |\n  line one\n    indented\n\n  line three\nfolded: >-\n  folded\n  together\n\n  new paragraph\nkept: |+\n  text\n\nnext: x\n---\n",
    );
    assert_eq!(found[0].1, text("line one\n  indented\n\nline three\n"));
    assert_eq!(found[1].1, text("folded together\nnew paragraph"));
    assert_eq!(found[2].1, text("text\n\n"));
    assert_eq!(found[3].1, text("x"));
}

#[test]
fn folds_multi_line_plain_values() {
    let found = entries(
        "---\ndescription: first part\n  second part\n\n  new line\nname:\n  on the next line\n---\n",
    );
    assert_eq!(found[0].1, text("first part second part\nnew line"));
    assert_eq!(found[1].1, text("on the next line"));
}

#[test]
fn recognises_nested_structures() {
    let found = entries(
        "---\nmcp:\n  server:\n    command: x\nhooks: {a: 1}\nitems:\n  - key: value\n---\n",
    );
    assert_eq!(found[0].1, Value::Nested);
    assert_eq!(found[1].1, Value::Nested);
    assert_eq!(found[2].1, Value::Nested);
}

#[test]
fn accepts_crlf_and_a_byte_order_mark() {
    let found = entries("\u{feff}---\r\nname: x\r\ntools: [a, b]\r\n---\r\nbody\r\n");
    assert_eq!(
        found,
        vec![
            ("name".into(), text("x")),
            ("tools".into(), list(&["a", "b"]))
        ]
    );
}

#[test]
fn a_file_without_front_matter_is_all_body() {
    let document = parse_document("# Title\n\ntext\n").unwrap();
    assert_eq!(document.entries, None);
    assert_eq!(document.body, "# Title\n\ntext");
}

#[test]
fn errors_name_the_line_and_field() {
    let cases: [(&str, usize, Option<&str>); 7] = [
        ("---\nname: x\n", 1, None),
        ("---\nname: x\nnot a field\n---\n", 3, None),
        ("---\nname: x\n- stray item\n---\n", 3, None),
        ("---\nname: \"unterminated\n---\n", 2, Some("name")),
        ("---\ntools: [a, b\n---\n", 2, Some("tools")),
        ("---\nname: a\nname: b\n---\n", 3, Some("name")),
        ("---\nname: \"x\" trailing\n---\n", 2, Some("name")),
    ];
    for (source, line, field) in cases {
        let error = parse_document(source).expect_err(source);
        assert_eq!(error.line, line, "{source}: {error:?}");
        assert_eq!(error.field.as_deref(), field, "{source}: {error:?}");
    }
}

proptest::proptest! {
    #[test]
    fn never_panics(text in "(---\n)?([a-z_]{0,6}(:)?[ \\t]?[\\[\\]{}\"'|>+\\-#,a-z: \\\\]{0,12}\n){0,8}(---\n)?.{0,8}") {
        let _ = parse_document(&text);
    }

    #[test]
    fn plain_text_values_round_trip(value in "[A-Za-z][A-Za-z0-9 .,;:()<>/!?_-]{0,40}[A-Za-z0-9.)]") {
        let source = format!("---\nkey: {value}\n---\n");
        let has_comment = value.contains(" #");
        let is_null = matches!(value.as_str(), "null" | "Null" | "NULL");
        let document = parse_document(&source).unwrap();
        let entries = document.entries.unwrap();
        if !has_comment && !is_null {
            proptest::prop_assert_eq!(&entries[0].value, &Value::Text(value.trim().to_string()));
        }
    }
}
