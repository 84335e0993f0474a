//! `grep`: searches file contents with ripgrep's engine, walking the tree the way ripgrep does
//! (honouring `.gitignore`, skipping `.git` and binary files).

use crate::arguments::parse_arguments;
use crate::call_events::reported;
use crate::paths::{display_relative, resolve};
use crate::schema::parameters_schema;
use crate::{Tool, ToolCall, ToolContext, ToolResult};
use async_trait::async_trait;
use cadre_protocol::ToolSpec;
use globset::{GlobBuilder, GlobMatcher};
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::sinks::Lossy;
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder};
use ignore::WalkBuilder;
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Matching lines returned before the search stops.
pub const MAX_MATCHES: usize = 200;
/// Characters of a matching line shown before it is cut.
pub const MAX_LINE_CHARS: usize = 300;

const EXPECTED_SHAPE: &str =
    r#"{"pattern": "fn \\w+_test", "path": "src", "glob": "*.rs", "case_sensitive": false}"#;

#[derive(Debug, Deserialize, JsonSchema)]
struct GrepArgs {
    /// Regular expression (Rust regex syntax) to search for.
    pattern: String,
    /// File or directory to search, relative to the working directory (default: the working
    /// directory).
    path: Option<String>,
    /// Only search files whose path matches this glob, e.g. `*.rs` or `src/**/*.{ts,tsx}`.
    glob: Option<String>,
    /// Match case exactly (default true).
    case_sensitive: Option<bool>,
}

/// Searches file contents.
pub struct GrepTool;

#[async_trait]
impl Tool for GrepTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "grep".into(),
            description: "Searches files for a regular expression and returns matching lines as \
                `path:line:text`. Skips files ignored by .gitignore, the .git directory and \
                binary files. Narrow the search with `path` and `glob`."
                .into(),
            parameters: parameters_schema::<GrepArgs>(),
        }
    }

    fn read_only(&self) -> bool {
        true
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        reported(ctx, call, async {
            let args: GrepArgs = match parse_arguments("grep", &call.arguments, EXPECTED_SHAPE) {
                Ok(args) => args,
                Err(err) => return err,
            };
            let cwd = ctx.cwd.clone();
            tokio::task::spawn_blocking(move || search(&cwd, &args))
                .await
                .unwrap_or_else(|err| Err(format!("grep failed: {err}")))
                .map_or_else(ToolResult::error, ToolResult::ok)
        })
        .await
    }
}

fn search(cwd: &Path, args: &GrepArgs) -> Result<String, String> {
    let matcher = RegexMatcherBuilder::new()
        .case_insensitive(!args.case_sensitive.unwrap_or(true))
        .build(&args.pattern)
        .map_err(|err| format!("invalid regex `{}`: {err}", args.pattern))?;
    let glob = args
        .glob
        .as_deref()
        .filter(|g| !g.trim().is_empty())
        .map(|g| {
            GlobBuilder::new(g.trim())
                .literal_separator(false)
                .build()
                .map(|glob| glob.compile_matcher())
                .map_err(|err| format!("invalid glob `{g}`: {err}"))
        })
        .transpose()?;
    let root = resolve(cwd, args.path.as_deref().unwrap_or("."));
    if !root.exists() {
        return Err(format!(
            "{} does not exist",
            args.path.as_deref().unwrap_or(".")
        ));
    }

    let mut searcher = SearcherBuilder::new()
        .line_number(true)
        .binary_detection(BinaryDetection::quit(0))
        .build();
    let mut found = Matches::default();
    if root.is_file() {
        found.search_file(&mut searcher, &matcher, cwd, &root);
    } else {
        let walker = WalkBuilder::new(&root)
            .hidden(false)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(|entry| entry.file_name() != ".git")
            .build();
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            if let Some(glob) = &glob
                && !glob_matches(glob, &root, entry.path())
            {
                continue;
            }
            found.search_file(&mut searcher, &matcher, cwd, entry.path());
            if found.full() {
                break;
            }
        }
    }
    Ok(found.render())
}

/// A glob matches the path relative to the search root or, for patterns like `*.rs`, the
/// file name.
fn glob_matches(glob: &GlobMatcher, root: &Path, path: &Path) -> bool {
    let relative = path.strip_prefix(root).unwrap_or(path);
    glob.is_match(relative) || path.file_name().is_some_and(|name| glob.is_match(name))
}

#[derive(Default)]
struct Matches {
    lines: Vec<String>,
    truncated: bool,
    unreadable: Vec<PathBuf>,
}

impl Matches {
    fn full(&self) -> bool {
        self.truncated
    }

    fn search_file(
        &mut self,
        searcher: &mut Searcher,
        matcher: &RegexMatcher,
        cwd: &Path,
        path: &Path,
    ) {
        let shown = display_relative(cwd, path);
        let result = searcher.search_path(
            matcher,
            path,
            Lossy(|line_number, line| {
                if self.lines.len() == MAX_MATCHES {
                    self.truncated = true;
                    return Ok(false);
                }
                let text = line.trim_end_matches(['\n', '\r']);
                self.lines
                    .push(format!("{shown}:{line_number}:{}", truncate(text)));
                Ok(true)
            }),
        );
        if result.is_err() {
            self.unreadable.push(path.to_path_buf());
        }
    }

    fn render(self) -> String {
        let mut out = if self.lines.is_empty() {
            "No matches found.\n".to_string()
        } else {
            self.lines.join("\n") + "\n"
        };
        if self.truncated {
            out.push_str(&format!(
                "[stopped after {MAX_MATCHES} matches; narrow the pattern, path or glob]\n"
            ));
        }
        if !self.unreadable.is_empty() {
            out.push_str(&format!(
                "[{} files could not be read]\n",
                self.unreadable.len()
            ));
        }
        out
    }
}

fn truncate(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_LINE_CHARS) {
        None => text.into(),
        Some((cut, _)) => format!("{}… [line cut]", &text[..cut]).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn args(pattern: &str) -> GrepArgs {
        GrepArgs {
            pattern: pattern.into(),
            path: None,
            glob: None,
            case_sensitive: None,
        }
    }

    #[test]
    fn invalid_regex_and_glob_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            search(dir.path(), &args("("))
                .unwrap_err()
                .contains("invalid regex")
        );
        let bad_glob = GrepArgs {
            glob: Some("{a".into()),
            ..args("x")
        };
        assert!(
            search(dir.path(), &bad_glob)
                .unwrap_err()
                .contains("invalid glob")
        );
    }

    #[test]
    fn matches_are_capped_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let body: String = (0..MAX_MATCHES + 50)
            .map(|i| format!("hit {i}\n"))
            .collect();
        fs::write(dir.path().join("many.txt"), body).unwrap();
        let out = search(dir.path(), &args("hit")).unwrap();
        assert_eq!(out.lines().count(), MAX_MATCHES + 1);
        assert!(out.starts_with("many.txt:1:hit 0\n"));
        assert!(out.contains("stopped after 200 matches"));
    }

    #[test]
    fn binary_files_are_skipped_and_case_can_be_ignored() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("bin.dat"), b"Needle\x00\x01").unwrap();
        fs::write(dir.path().join("a.txt"), "a Needle here\n").unwrap();
        let out = search(dir.path(), &args("needle")).unwrap();
        assert_eq!(out, "No matches found.\n");
        let insensitive = GrepArgs {
            case_sensitive: Some(false),
            ..args("needle")
        };
        assert_eq!(
            search(dir.path(), &insensitive).unwrap(),
            "a.txt:1:a Needle here\n"
        );
    }
}
