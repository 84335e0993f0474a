use crate::support::Harness;
use cadre_protocol::{EventMsg, FileChange, FileChangeKind, SecurityProfile};
use cadre_tools::GateVerdict;
use serde_json::json;

fn patch(body: &str) -> serde_json::Value {
    json!({ "patch": format!("*** Begin Patch\n{body}\n*** End Patch\n") })
}

#[tokio::test]
async fn adds_updates_moves_and_deletes() {
    let mut h = Harness::new();
    h.write("src/lib.rs", "fn a() {\n    1\n}\n\nfn b() {\n    1\n}\n");
    h.write("old/name.txt", "keep\nchange\n");
    h.write("obsolete.txt", "bye\n");
    let result = h
        .call(
            "apply_patch",
            patch(
                "*** Add File: docs/new.md\n+# Title\n+body\n\
                 *** Update File: src/lib.rs\n@@ fn b\n-    1\n+    2\n\
                 *** Update File: old/name.txt\n*** Move to: new/name.txt\n keep\n-change\n+changed\n\
                 *** Delete File: obsolete.txt",
            ),
        )
        .await;
    assert!(result.success, "{}", result.output);
    assert_eq!(
        result.output,
        "Success. Updated the following files:\nA docs/new.md\nM src/lib.rs\nM new/name.txt\nD obsolete.txt\n"
    );
    assert_eq!(h.read("docs/new.md"), "# Title\nbody\n");
    assert_eq!(
        h.read("src/lib.rs"),
        "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n"
    );
    assert_eq!(h.read("new/name.txt"), "keep\nchanged\n");
    assert!(!h.exists("old/name.txt"));
    assert!(!h.exists("obsolete.txt"));

    let events = h.events();
    assert_eq!(events.len(), 2, "{events:?}");
    let EventMsg::PatchApplyBegin { changes, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        changes,
        &[
            FileChange {
                path: "docs/new.md".into(),
                kind: FileChangeKind::Add,
                move_path: None,
                bytes: 13
            },
            FileChange {
                path: "src/lib.rs".into(),
                kind: FileChangeKind::Update,
                move_path: None,
                bytes: 35
            },
            FileChange {
                path: "old/name.txt".into(),
                kind: FileChangeKind::Update,
                move_path: Some("new/name.txt".into()),
                bytes: 13
            },
            FileChange {
                path: "obsolete.txt".into(),
                kind: FileChangeKind::Delete,
                move_path: None,
                bytes: 0
            },
        ]
    );
    assert!(matches!(
        &events[1],
        EventMsg::PatchApplyEnd {
            success: true,
            error: None,
            ..
        }
    ));
    assert_eq!(*h.gate.finished_patches.lock().unwrap(), [true]);
    assert_eq!(h.gate.patches_seen.lock().unwrap()[0], *changes);
}

#[tokio::test]
async fn fuzzy_matching_tolerates_whitespace_and_typographic_punctuation() {
    let h = Harness::new();
    h.write(
        "notes.txt",
        "intro   \n    let s = \u{201C}quoted\u{201D};\nwait \u{2014} here\nend\n",
    );
    let result = h
        .call(
            "apply_patch",
            patch(
                "*** Update File: notes.txt\n@@\n intro\n-let s = \"quoted\";\n+let s = \"plain\";\n wait - here",
            ),
        )
        .await;
    assert!(result.success, "{}", result.output);
    assert_eq!(
        h.read("notes.txt"),
        "intro\nlet s = \"plain\";\nwait - here\nend\n"
    );
}

#[tokio::test]
async fn a_failing_hunk_leaves_every_file_untouched() {
    let mut h = Harness::new();
    h.write("a.txt", "one\ntwo\n");
    h.write("b.txt", "alpha\nbeta\ngamma\n");
    let result = h
        .call(
            "apply_patch",
            patch(
                "*** Add File: c.txt\n+new\n\
                 *** Update File: a.txt\n-one\n+ONE\n\
                 *** Update File: b.txt\n@@\n-alpha\n+ALPHA\n@@\n-delta\n-epsilon\n+DELTA\n\
                 *** Delete File: a.txt",
            ),
        )
        .await;
    assert!(!result.success);
    assert!(result.output.contains("b.txt"), "{}", result.output);
    assert!(result.output.contains("hunk 2 of 2"), "{}", result.output);
    assert!(
        result.output.contains("delta\n  epsilon"),
        "{}",
        result.output
    );
    assert_eq!(h.read("a.txt"), "one\ntwo\n");
    assert_eq!(h.read("b.txt"), "alpha\nbeta\ngamma\n");
    assert!(!h.exists("c.txt"));
    assert!(h.events().is_empty());
    assert!(h.gate.patches_seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn writes_outside_the_workspace_are_refused_under_workspace_write() {
    for target in ["../outside.txt", ".git/config"] {
        let mut h = Harness::with(SecurityProfile::WorkspaceWrite, GateVerdict::Allow);
        std::fs::create_dir_all(h.path(".git")).unwrap();
        h.write("inside.txt", "x\n");
        let result = h
            .call(
                "apply_patch",
                patch(&format!(
                    "*** Update File: inside.txt\n-x\n+y\n*** Add File: {target}\n+escaped"
                )),
            )
            .await;
        assert!(!result.success, "{target}");
        assert!(result.output.contains("not allowed"), "{}", result.output);
        assert!(!h.path(target).exists());
        assert_eq!(h.read("inside.txt"), "x\n");
        let events = h.events();
        assert!(
            matches!(
                &events[..],
                [EventMsg::PatchApplyEnd { success: false, .. }]
            ),
            "{events:?}"
        );
        assert!(h.gate.patches_seen.lock().unwrap().is_empty());
    }

    // Inside the workspace the same profile writes normally.
    let h = Harness::with(SecurityProfile::WorkspaceWrite, GateVerdict::Allow);
    let result = h
        .call("apply_patch", patch("*** Add File: ok/inside.txt\n+fine"))
        .await;
    assert!(result.success, "{}", result.output);
    assert_eq!(h.read("ok/inside.txt"), "fine\n");
}

#[tokio::test]
async fn a_denied_patch_changes_nothing() {
    for (verdict, abort) in [
        (
            GateVerdict::Deny {
                reason: "not now".into(),
            },
            false,
        ),
        (
            GateVerdict::Abort {
                reason: "stop".into(),
            },
            true,
        ),
    ] {
        let mut h = Harness::with(SecurityProfile::Trusted, verdict);
        h.write("a.txt", "one\n");
        let result = h
            .call(
                "apply_patch",
                patch("*** Update File: a.txt\n-one\n+two\n*** Add File: b.txt\n+b"),
            )
            .await;
        assert!(!result.success);
        assert_eq!(result.abort_turn, abort);
        assert!(result.output.contains("refused"), "{}", result.output);
        assert_eq!(h.read("a.txt"), "one\n");
        assert!(!h.exists("b.txt"));
        assert_eq!(h.gate.patches_seen.lock().unwrap()[0].len(), 2);
        let events = h.events();
        assert!(
            matches!(
                &events[..],
                [EventMsg::PatchApplyEnd {
                    success: false,
                    error: Some(_),
                    ..
                }]
            ),
            "{events:?}"
        );
    }
}

#[tokio::test]
async fn malformed_patches_and_missing_files_are_explained() {
    let h = Harness::new();
    let result = h
        .call(
            "apply_patch",
            json!({"patch": "*** Begin Patch\n*** Update File: a.txt\n@@\nno prefix\n*** End Patch"}),
        )
        .await;
    assert!(!result.success);
    assert!(
        result.output.starts_with("invalid patch at line 4"),
        "{}",
        result.output
    );

    let result = h
        .call("apply_patch", patch("*** Update File: missing.txt\n-a\n+b"))
        .await;
    assert!(result.output.contains("missing.txt"), "{}", result.output);
    assert!(
        result.output.contains("does not exist"),
        "{}",
        result.output
    );

    let result = h.call("apply_patch", json!({"diff": "x"})).await;
    assert!(
        result.output.contains("missing field `patch`"),
        "{}",
        result.output
    );
}

#[tokio::test]
async fn end_of_file_hunks_and_repeated_edits_of_one_file() {
    let h = Harness::new();
    h.write("list.txt", "x\ny\nx\n");
    let result = h
        .call(
            "apply_patch",
            patch(
                "*** Update File: list.txt\n-x\n+last\n*** End of File\n\
                 *** Update File: list.txt\n-x\n+first",
            ),
        )
        .await;
    assert!(result.success, "{}", result.output);
    assert_eq!(h.read("list.txt"), "first\ny\nlast\n");
}
