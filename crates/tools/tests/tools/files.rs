use crate::support::Harness;
use cadre_protocol::{EventMsg, PlanItem, StepStatus};
use serde_json::json;

#[tokio::test]
async fn read_file_pages_through_a_file() {
    let mut h = Harness::new();
    let body: String = (1..=10).map(|i| format!("line {i}\n")).collect();
    h.write("src/ten.txt", &body);
    let result = h
        .call(
            "read_file",
            json!({"path": "src/ten.txt", "offset": 3, "limit": 2}),
        )
        .await;
    assert!(result.success, "{}", result.output);
    assert_eq!(
        result.output,
        "L3: line 3\nL4: line 4\n[showing lines 3-4 of 10; call read_file with offset 5 to read more]\n"
    );
    let events = h.events();
    assert!(
        matches!(&events[0], EventMsg::ToolCallBegin { tool, arguments, .. }
        if tool == "read_file" && arguments["offset"] == 3)
    );
    assert!(matches!(
        &events[1],
        EventMsg::ToolCallEnd { success: true, .. }
    ));

    let missing = h.call("read_file", json!({"path": "nope.rs"})).await;
    assert!(!missing.success);
    assert!(missing.output.contains("does not exist"));
    assert!(matches!(
        h.events().last().unwrap(),
        EventMsg::ToolCallEnd { success: false, .. }
    ));
}

fn grep_fixture() -> Harness {
    let h = Harness::new();
    h.write(".gitignore", "target/\n");
    h.write("src/a.rs", "fn main() {\n    let needle = 1;\n}\n");
    h.write("src/nested/b.txt", "a Needle\nneedle again\n");
    h.write("target/debug/out.rs", "needle in build output\n");
    h
}

#[tokio::test]
async fn grep_honours_gitignore_globs_and_case() {
    let h = grep_fixture();
    let all = h.call("grep", json!({"pattern": "needle"})).await;
    assert!(all.success, "{}", all.output);
    assert_eq!(
        all.output,
        "src/a.rs:2:    let needle = 1;\nsrc/nested/b.txt:2:needle again\n"
    );

    let rust_only = h
        .call("grep", json!({"pattern": "needle", "glob": "*.rs"}))
        .await;
    assert_eq!(rust_only.output, "src/a.rs:2:    let needle = 1;\n");

    let insensitive = h
        .call(
            "grep",
            json!({"pattern": "NEEDLE", "path": "src/nested", "case_sensitive": false}),
        )
        .await;
    assert_eq!(
        insensitive.output,
        "src/nested/b.txt:1:a Needle\nsrc/nested/b.txt:2:needle again\n"
    );

    let none = h.call("grep", json!({"pattern": "haystack"})).await;
    assert!(none.success);
    assert_eq!(none.output, "No matches found.\n");

    let bad = h.call("grep", json!({"pattern": "(unclosed"})).await;
    assert!(!bad.success);
    assert!(bad.output.contains("invalid regex"));
}

#[tokio::test]
async fn list_dir_shows_a_tree_without_ignored_files() {
    let h = grep_fixture();
    let result = h.call("list_dir", json!({"path": "."})).await;
    assert!(result.success, "{}", result.output);
    assert_eq!(
        result.output,
        "./\n  .gitignore\n  src/\n    a.rs\n    nested/\n"
    );
}

#[tokio::test]
async fn update_plan_emits_the_plan() {
    let mut h = Harness::new();
    let result = h
        .call(
            "update_plan",
            json!({"explanation": "starting", "plan": [
                {"step": "read code", "status": "completed"},
                {"step": "write fix", "status": "in_progress"},
                {"step": "run tests", "status": "pending"}
            ]}),
        )
        .await;
    assert!(result.success);
    assert_eq!(result.output, "Plan updated");
    let events = h.events();
    assert_eq!(
        events,
        [EventMsg::PlanUpdate {
            call_id: "call-1".into(),
            explanation: Some("starting".into()),
            plan: vec![
                PlanItem {
                    step: "read code".into(),
                    status: StepStatus::Completed
                },
                PlanItem {
                    step: "write fix".into(),
                    status: StepStatus::InProgress
                },
                PlanItem {
                    step: "run tests".into(),
                    status: StepStatus::Pending
                },
            ],
        }]
    );
    let bad = h
        .call(
            "update_plan",
            json!({"plan": [{"step": "x", "status": "doing"}]}),
        )
        .await;
    assert!(!bad.success);
    assert!(
        bad.output.contains("unknown variant `doing`"),
        "{}",
        bad.output
    );
}

#[tokio::test]
async fn registry_offers_every_tool_with_plain_object_schemas() {
    let h = Harness::new();
    let specs = h.registry.specs();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "apply_patch",
            "grep",
            "list_dir",
            "read_file",
            "shell",
            "update_plan"
        ]
    );
    for spec in &specs {
        let text = spec.parameters.to_string();
        assert_eq!(spec.parameters["type"], "object", "{}", spec.name);
        assert!(spec.parameters["properties"].is_object(), "{}", spec.name);
        assert!(
            spec.parameters["required"].is_array(),
            "{}: {text}",
            spec.name
        );
        for noise in [
            "$ref",
            "$schema",
            "\"title\"",
            "definitions",
            "$defs",
            "null",
        ] {
            assert!(!text.contains(noise), "{}: {noise} in {text}", spec.name);
        }
        assert!(!spec.description.is_empty());
    }
    for read_only in ["read_file", "list_dir", "grep", "update_plan"] {
        assert!(h.registry.is_read_only(read_only), "{read_only}");
    }
    assert!(!h.registry.is_read_only("shell"));
    assert!(!h.registry.is_read_only("apply_patch"));
    let unknown = h.call("web_search", json!({})).await;
    assert!(unknown.output.contains("unknown tool"));
}
