//! `list_dir`: an indented tree of a directory, honouring `.gitignore`.

use crate::arguments::parse_arguments;
use crate::call_events::reported;
use crate::paths::resolve;
use crate::schema::parameters_schema;
use crate::{Tool, ToolCall, ToolContext, ToolResult};
use async_trait::async_trait;
use cadre_protocol::ToolSpec;
use ignore::WalkBuilder;
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::Path;

/// Levels shown when the model gives no `depth`.
pub const DEFAULT_DEPTH: usize = 2;
/// Levels shown at most, whatever the model asks for.
const MAX_DEPTH: usize = 10;
/// Entries listed before the listing stops.
pub const MAX_ENTRIES: usize = 500;

const EXPECTED_SHAPE: &str = r#"{"path": "src", "depth": 2}"#;

#[derive(Debug, Deserialize, JsonSchema)]
struct ListDirArgs {
    /// Directory to list, relative to the working directory (`.` for the working directory).
    path: String,
    /// How many levels to descend (default 2; 1 lists only the directory's own entries).
    depth: Option<usize>,
}

/// Lists directories.
pub struct ListDirTool;

#[async_trait]
impl Tool for ListDirTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "list_dir".into(),
            description: "Lists a directory as an indented tree (directories end with `/`), \
                skipping files ignored by .gitignore and the .git directory. Use `depth` to see \
                more or fewer levels."
                .into(),
            parameters: parameters_schema::<ListDirArgs>(),
        }
    }

    fn read_only(&self) -> bool {
        true
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        reported(ctx, call, async {
            let args: ListDirArgs =
                match parse_arguments("list_dir", &call.arguments, EXPECTED_SHAPE) {
                    Ok(args) => args,
                    Err(err) => return err,
                };
            let root = resolve(&ctx.cwd, &args.path);
            let depth = args.depth.unwrap_or(DEFAULT_DEPTH).clamp(1, MAX_DEPTH);
            let shown = args.path.clone();
            tokio::task::spawn_blocking(move || list_tree(&root, &shown, depth))
                .await
                .unwrap_or_else(|err| Err(format!("list_dir failed: {err}")))
                .map_or_else(ToolResult::error, ToolResult::ok)
        })
        .await
    }
}

fn list_tree(root: &Path, shown: &str, depth: usize) -> Result<String, String> {
    if !root.exists() {
        return Err(format!("{shown} does not exist"));
    }
    if !root.is_dir() {
        return Err(format!(
            "{shown} is a file, not a directory; use read_file to read it"
        ));
    }
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .max_depth(Some(depth))
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    let mut out = format!("{}/\n", shown.trim_end_matches('/'));
    let mut listed = 0;
    for entry in walker {
        let Ok(entry) = entry else { continue };
        if entry.depth() == 0 {
            continue;
        }
        if listed == MAX_ENTRIES {
            out.push_str(&format!(
                "[... listing stopped at {MAX_ENTRIES} entries; list a subdirectory or use a smaller depth]\n"
            ));
            break;
        }
        let indent = "  ".repeat(entry.depth());
        let name = entry.file_name().to_string_lossy();
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        out.push_str(&format!(
            "{indent}{name}{}\n",
            if is_dir { "/" } else { "" }
        ));
        listed += 1;
    }
    if listed == 0 {
        out.push_str("  (empty)\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn tree_is_sorted_indented_and_depth_limited() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src/deep/deeper")).unwrap();
        fs::write(dir.path().join("src/lib.rs"), "").unwrap();
        fs::write(dir.path().join("src/deep/deeper/x.rs"), "").unwrap();
        fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        fs::create_dir_all(dir.path().join(".git")).unwrap();
        fs::write(dir.path().join(".git/HEAD"), "").unwrap();
        let out = list_tree(dir.path(), ".", 2).unwrap();
        assert_eq!(out, "./\n  Cargo.toml\n  src/\n    deep/\n    lib.rs\n");
        let deeper = list_tree(dir.path(), ".", 4).unwrap();
        assert!(deeper.contains("        x.rs\n"), "{deeper}");
    }

    #[test]
    fn gitignored_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".gitignore"), "target/\n*.log\n").unwrap();
        fs::create_dir_all(dir.path().join("target/debug")).unwrap();
        fs::write(dir.path().join("run.log"), "").unwrap();
        fs::write(dir.path().join("main.rs"), "").unwrap();
        let out = list_tree(dir.path(), ".", 3).unwrap();
        assert_eq!(out, "./\n  .gitignore\n  main.rs\n");
    }

    #[test]
    fn many_entries_are_capped_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..MAX_ENTRIES + 5 {
            fs::write(dir.path().join(format!("f{i:04}")), "").unwrap();
        }
        let out = list_tree(dir.path(), ".", 1).unwrap();
        assert_eq!(out.lines().count(), MAX_ENTRIES + 2);
        assert!(out.contains("listing stopped at 500 entries"));
    }

    #[test]
    fn files_and_missing_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "").unwrap();
        assert!(
            list_tree(&dir.path().join("a.txt"), "a.txt", 2)
                .unwrap_err()
                .contains("read_file")
        );
        assert!(
            list_tree(&dir.path().join("nope"), "nope", 2)
                .unwrap_err()
                .contains("does not exist")
        );
    }
}
