//! `read_file`: a window of a text file, each line prefixed with its number.

use crate::arguments::parse_arguments;
use crate::call_events::reported;
use crate::paths::resolve;
use crate::schema::parameters_schema;
use crate::{Tool, ToolCall, ToolContext, ToolResult};
use async_trait::async_trait;
use cadre_protocol::ToolSpec;
use schemars::JsonSchema;
use serde::Deserialize;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Lines returned when the model gives no `limit`.
pub const DEFAULT_LIMIT: usize = 2000;
/// Characters of one line shown before it is cut.
pub const MAX_LINE_CHARS: usize = 500;
/// Bytes inspected for a NUL byte to tell binary files from text.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

const EXPECTED_SHAPE: &str = r#"{"path": "src/main.rs", "offset": 1, "limit": 2000}"#;

#[derive(Debug, Deserialize, JsonSchema)]
struct ReadFileArgs {
    /// File to read, relative to the working directory.
    path: String,
    /// First line to show, counting from 1 (default 1).
    offset: Option<usize>,
    /// How many lines to show (default 2000).
    limit: Option<usize>,
}

/// Reads text files.
pub struct ReadFileTool;

#[async_trait]
impl Tool for ReadFileTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "read_file".into(),
            description: "Reads a text file and returns its lines prefixed with their numbers \
                (`L12: text`). Use `offset` (1-based) and `limit` to page through long files; \
                very long lines are cut."
                .into(),
            parameters: parameters_schema::<ReadFileArgs>(),
        }
    }

    fn read_only(&self) -> bool {
        true
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        reported(ctx, call, async {
            let args: ReadFileArgs =
                match parse_arguments("read_file", &call.arguments, EXPECTED_SHAPE) {
                    Ok(args) => args,
                    Err(err) => return err,
                };
            let path = resolve(&ctx.cwd, &args.path);
            let offset = args.offset.unwrap_or(1).max(1);
            let limit = args.limit.unwrap_or(DEFAULT_LIMIT).max(1);
            let shown = args.path.clone();
            tokio::task::spawn_blocking(move || read_window(&path, &shown, offset, limit))
                .await
                .unwrap_or_else(|err| Err(format!("read_file failed: {err}")))
                .map_or_else(ToolResult::error, ToolResult::ok)
        })
        .await
    }
}

/// Lines `offset..offset + limit` of the file, numbered, with a note when more remain.
fn read_window(path: &Path, shown: &str, offset: usize, limit: usize) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => {
            format!("{shown} does not exist; use list_dir or grep to find the right path")
        }
        _ => format!("cannot read {shown}: {err}"),
    })?;
    if metadata.is_dir() {
        return Err(format!(
            "{shown} is a directory; use list_dir to see what it contains"
        ));
    }
    let file = std::fs::File::open(path).map_err(|err| format!("cannot read {shown}: {err}"))?;
    let mut reader = BufReader::new(file);
    let head = reader
        .fill_buf()
        .map_err(|err| format!("cannot read {shown}: {err}"))?;
    let sniff = &head[..head.len().min(BINARY_SNIFF_BYTES)];
    if sniff.contains(&0) {
        return Err(format!(
            "{shown} looks like a binary file ({} bytes); read_file shows text only",
            metadata.len()
        ));
    }

    let mut out = String::new();
    let mut line = Vec::new();
    let mut number = 0;
    let mut last_shown = 0;
    loop {
        line.clear();
        let read = reader
            .by_ref()
            .read_until(b'\n', &mut line)
            .map_err(|err| format!("cannot read {shown}: {err}"))?;
        if read == 0 {
            break;
        }
        number += 1;
        if number < offset || number >= offset + limit {
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        out.push_str(&format!("L{number}: {}\n", truncate_line(text)));
        last_shown = number;
    }
    let total = number;
    if total == 0 {
        return Ok(format!("({shown} is empty)"));
    }
    if offset > total {
        return Err(format!(
            "offset {offset} is past the end of {shown}, which has {total} lines"
        ));
    }
    if last_shown < total {
        out.push_str(&format!(
            "[showing lines {offset}-{last_shown} of {total}; call read_file with offset {} to read more]\n",
            last_shown + 1
        ));
    }
    Ok(out)
}

fn truncate_line(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_LINE_CHARS) {
        None => text.into(),
        Some((cut, _)) => {
            let total = text.chars().count();
            format!(
                "{}… [line cut, {} more characters]",
                &text[..cut],
                total - MAX_LINE_CHARS
            )
            .into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, contents).unwrap();
        file
    }

    #[test]
    fn numbers_lines_and_notes_what_remains() {
        let file = file_with(b"one\ntwo\r\nthree\nfour\n");
        let out = read_window(file.path(), "f", 2, 2).unwrap();
        assert_eq!(
            out,
            "L2: two\nL3: three\n[showing lines 2-3 of 4; call read_file with offset 4 to read more]\n"
        );
        let all = read_window(file.path(), "f", 1, 10).unwrap();
        assert_eq!(all, "L1: one\nL2: two\nL3: three\nL4: four\n");
    }

    #[test]
    fn last_line_without_newline_is_read() {
        let file = file_with(b"a\nb");
        assert_eq!(read_window(file.path(), "f", 2, 5).unwrap(), "L2: b\n");
    }

    #[test]
    fn offset_past_the_end_is_an_error() {
        let file = file_with(b"a\nb\n");
        let err = read_window(file.path(), "f", 9, 5).unwrap_err();
        assert!(err.contains("has 2 lines"), "{err}");
    }

    #[test]
    fn binary_and_directories_and_missing_files_are_refused() {
        let file = file_with(b"\x7fELF\x00\x01\x02");
        assert!(
            read_window(file.path(), "f", 1, 5)
                .unwrap_err()
                .contains("binary")
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read_window(dir.path(), "d", 1, 5)
                .unwrap_err()
                .contains("directory")
        );
        let missing = dir.path().join("nope.txt");
        assert!(
            read_window(&missing, "nope.txt", 1, 5)
                .unwrap_err()
                .contains("does not exist")
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "x".repeat(MAX_LINE_CHARS + 20);
        let file = file_with(long.as_bytes());
        let out = read_window(file.path(), "f", 1, 1).unwrap();
        assert!(out.contains("… [line cut, 20 more characters]"), "{out}");
        assert!(out.len() < MAX_LINE_CHARS + 60);
    }
}
