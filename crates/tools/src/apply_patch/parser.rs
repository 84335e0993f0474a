//! Parsing the patch format models are trained to write (`*** Begin Patch` ... `*** End Patch`).
//!
//! It is a little lenient where models are sloppy in harmless ways: surrounding blank lines, a
//! heredoc wrapper (`<<'EOF'` ... `EOF`), markers with stray spaces, and empty lines inside a
//! hunk that lost their leading space. Anything else is an error naming the line.

use std::fmt;
use std::path::PathBuf;

const BEGIN_PATCH: &str = "*** Begin Patch";
const END_PATCH: &str = "*** End Patch";
const ADD_FILE: &str = "*** Add File: ";
const DELETE_FILE: &str = "*** Delete File: ";
const UPDATE_FILE: &str = "*** Update File: ";
const MOVE_TO: &str = "*** Move to: ";
const END_OF_FILE: &str = "*** End of File";

/// A parsed patch: file operations in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub operations: Vec<PatchOperation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchOperation {
    /// Create a file (or replace one) with `contents`; each `+` line ends with a newline.
    Add {
        path: PathBuf,
        contents: String,
    },
    Delete {
        path: PathBuf,
    },
    /// Edit a file in place, or rename it when `move_to` is set.
    Update {
        path: PathBuf,
        move_to: Option<PathBuf>,
        hunks: Vec<Hunk>,
    },
}

impl PatchOperation {
    /// The path the operation names first (the source of a move).
    pub fn path(&self) -> &PathBuf {
        match self {
            PatchOperation::Add { path, .. }
            | PatchOperation::Delete { path }
            | PatchOperation::Update { path, .. } => path,
        }
    }
}

/// One `@@` section of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// `@@ text` headers, in order: each narrows the search to after a line containing it.
    pub context: Vec<String>,
    pub lines: Vec<HunkLine>,
    /// Set by `*** End of File`: the hunk's old lines end the file.
    pub end_of_file: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HunkLine {
    Context(String),
    Remove(String),
    Add(String),
}

impl Hunk {
    /// The lines the hunk expects to find: context and removed lines.
    pub fn old_lines(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|line| match line {
                HunkLine::Context(text) | HunkLine::Remove(text) => Some(text.as_str()),
                HunkLine::Add(_) => None,
            })
            .collect()
    }

    /// The lines that replace them: context and added lines.
    pub fn new_lines(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|line| match line {
                HunkLine::Context(text) | HunkLine::Add(text) => Some(text.as_str()),
                HunkLine::Remove(_) => None,
            })
            .collect()
    }
}

/// Why a patch could not be parsed; `line` counts from 1 in the text given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid patch at line {line}: {message}")]
pub struct PatchParseError {
    pub line: usize,
    pub message: String,
}

/// Every path a patch touches, as written: sources, move destinations, added and deleted files.
pub fn affected_paths(patch: &Patch) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for operation in &patch.operations {
        paths.push(operation.path().clone());
        if let PatchOperation::Update {
            move_to: Some(dest),
            ..
        } = operation
        {
            paths.push(dest.clone());
        }
    }
    paths
}

/// Parses a patch.
///
/// ```
/// let patch = cadre_tools::parse_patch(
///     "*** Begin Patch\n*** Update File: src/a.rs\n@@ fn main\n-old\n+new\n*** End Patch\n",
/// )
/// .unwrap();
/// assert_eq!(cadre_tools::affected_paths(&patch), [std::path::PathBuf::from("src/a.rs")]);
/// ```
pub fn parse_patch(text: &str) -> Result<Patch, PatchParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0;
    let mut end = lines.len();
    while start < end && lines[start].trim().is_empty() {
        start += 1;
    }
    while end > start && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    // A heredoc wrapper, as in `apply_patch <<'EOF'` ... `EOF`.
    if start < end && lines[start].contains("<<") && lines[start].trim() != BEGIN_PATCH {
        start += 1;
        if end > start && lines[end - 1].trim() != END_PATCH {
            end -= 1;
        }
    }
    Parser {
        lines: &lines[..end],
        index: start,
    }
    .parse()
}

struct Parser<'a> {
    lines: &'a [&'a str],
    index: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, message: impl Into<String>) -> PatchParseError {
        PatchParseError {
            line: self.index + 1,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<&'a str> {
        self.lines.get(self.index).copied()
    }

    fn parse(mut self) -> Result<Patch, PatchParseError> {
        match self.peek() {
            Some(line) if line.trim() == BEGIN_PATCH => self.index += 1,
            Some(line) => {
                return Err(self.error(format!(
                    "expected `{BEGIN_PATCH}` as the first line, found `{line}`"
                )));
            }
            None => return Err(self.error(format!("the patch is empty; expected `{BEGIN_PATCH}`"))),
        }
        let mut operations = Vec::new();
        loop {
            let Some(line) = self.peek() else {
                return Err(self.error(format!("the patch ended without `{END_PATCH}`")));
            };
            let marker = line.trim();
            if marker.is_empty() {
                self.index += 1;
            } else if marker == END_PATCH {
                self.index += 1;
                if let Some(extra) = self.lines[self.index..]
                    .iter()
                    .position(|l| !l.trim().is_empty())
                {
                    self.index += extra;
                    return Err(self.error(format!("unexpected text after `{END_PATCH}`")));
                }
                break;
            } else if let Some(path) = marker_path(line, ADD_FILE) {
                let path = self.path(path)?;
                self.index += 1;
                operations.push(self.add_file(path)?);
            } else if let Some(path) = marker_path(line, DELETE_FILE) {
                let path = self.path(path)?;
                self.index += 1;
                operations.push(PatchOperation::Delete { path });
            } else if let Some(path) = marker_path(line, UPDATE_FILE) {
                let path = self.path(path)?;
                self.index += 1;
                operations.push(self.update_file(path)?);
            } else {
                return Err(self.error(format!(
                    "expected `{ADD_FILE}PATH`, `{UPDATE_FILE}PATH`, `{DELETE_FILE}PATH` or `{END_PATCH}`, found `{line}`"
                )));
            }
        }
        if operations.is_empty() {
            return Err(PatchParseError {
                line: 1,
                message: "the patch changes no files".into(),
            });
        }
        Ok(Patch { operations })
    }

    fn path(&self, raw: &str) -> Result<PathBuf, PatchParseError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(self.error("the file path is empty"));
        }
        Ok(PathBuf::from(raw))
    }

    fn add_file(&mut self, path: PathBuf) -> Result<PatchOperation, PatchParseError> {
        let mut contents = String::new();
        while let Some(line) = self.peek() {
            if let Some(text) = line.strip_prefix('+') {
                contents.push_str(text);
                contents.push('\n');
                self.index += 1;
            } else if line.starts_with("***") || line.trim().is_empty() {
                break;
            } else {
                return Err(self.error(format!(
                    "every line of an added file must start with `+`, found `{line}`"
                )));
            }
        }
        Ok(PatchOperation::Add { path, contents })
    }

    fn update_file(&mut self, path: PathBuf) -> Result<PatchOperation, PatchParseError> {
        let mut move_to = None;
        if let Some(dest) = self.peek().and_then(|line| marker_path(line, MOVE_TO)) {
            move_to = Some(self.path(dest)?);
            self.index += 1;
        }
        let header_line = self.index;
        let mut hunks: Vec<Hunk> = Vec::new();
        let mut current: Option<Hunk> = None;
        while let Some(line) = self.peek() {
            if line.trim_end() == END_OF_FILE {
                match current.take() {
                    Some(mut hunk) if !hunk.lines.is_empty() => {
                        hunk.end_of_file = true;
                        hunks.push(hunk);
                    }
                    _ => {
                        return Err(
                            self.error(format!("`{END_OF_FILE}` must follow a hunk's lines"))
                        );
                    }
                }
                self.index += 1;
            } else if line.starts_with("*** ") {
                break;
            } else if line.trim_end() == "@@" || line.starts_with("@@ ") {
                let header = line[2..].trim();
                let hunk = match current.take() {
                    // Consecutive headers (`@@ class A` then `@@ fn b`) narrow one hunk.
                    Some(hunk) if hunk.lines.is_empty() => hunk,
                    Some(hunk) => {
                        hunks.push(hunk);
                        Hunk::empty()
                    }
                    None => Hunk::empty(),
                };
                let mut hunk = hunk;
                if !header.is_empty() {
                    hunk.context.push(header.to_string());
                }
                current = Some(hunk);
                self.index += 1;
            } else if let Some(hunk_line) = hunk_line(line) {
                current
                    .get_or_insert_with(Hunk::empty)
                    .lines
                    .push(hunk_line);
                self.index += 1;
            } else if line.trim().is_empty() {
                // An empty context line that lost its leading space, unless the hunk is over.
                let more = self.lines[self.index..]
                    .iter()
                    .find(|l| !l.trim().is_empty())
                    .is_some_and(|l| !l.starts_with("***"));
                if more {
                    current
                        .get_or_insert_with(Hunk::empty)
                        .lines
                        .push(HunkLine::Context(String::new()));
                }
                self.index += 1;
            } else {
                return Err(self.error(format!(
                    "unexpected line in the update of {}: `{line}`; every hunk line starts with ` ` (context), `-` (removed) or `+` (added), and hunks start with `@@`",
                    path.display()
                )));
            }
        }
        if let Some(hunk) = current {
            if hunk.lines.is_empty() {
                return Err(self.error(format!(
                    "a hunk in the update of {} has no lines",
                    path.display()
                )));
            }
            hunks.push(hunk);
        }
        if hunks.is_empty() && move_to.is_none() {
            return Err(PatchParseError {
                line: header_line + 1,
                message: format!(
                    "the update of {} has no hunks; add `@@` sections with the lines to change",
                    path.display()
                ),
            });
        }
        Ok(PatchOperation::Update {
            path,
            move_to,
            hunks,
        })
    }
}

impl Hunk {
    fn empty() -> Self {
        Hunk {
            context: Vec::new(),
            lines: Vec::new(),
            end_of_file: false,
        }
    }
}

/// The path after a `*** Marker: ` prefix; the space after the colon is optional.
fn marker_path<'l>(line: &'l str, marker: &str) -> Option<&'l str> {
    line.trim_start().strip_prefix(marker.trim_end())
}

fn hunk_line(line: &str) -> Option<HunkLine> {
    let mut chars = line.chars();
    let kind = chars.next()?;
    let text = chars.as_str().to_string();
    match kind {
        ' ' => Some(HunkLine::Context(text)),
        '-' => Some(HunkLine::Remove(text)),
        '+' => Some(HunkLine::Add(text)),
        _ => None,
    }
}

/// Renders the patch in the format [`parse_patch`] reads.
impl fmt::Display for Patch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{BEGIN_PATCH}")?;
        for operation in &self.operations {
            match operation {
                PatchOperation::Add { path, contents } => {
                    writeln!(f, "{ADD_FILE}{}", path.display())?;
                    for line in contents.lines() {
                        writeln!(f, "+{line}")?;
                    }
                }
                PatchOperation::Delete { path } => writeln!(f, "{DELETE_FILE}{}", path.display())?,
                PatchOperation::Update {
                    path,
                    move_to,
                    hunks,
                } => {
                    writeln!(f, "{UPDATE_FILE}{}", path.display())?;
                    if let Some(dest) = move_to {
                        writeln!(f, "{MOVE_TO}{}", dest.display())?;
                    }
                    for hunk in hunks {
                        if hunk.context.is_empty() {
                            writeln!(f, "@@")?;
                        }
                        for header in &hunk.context {
                            writeln!(f, "@@ {header}")?;
                        }
                        for line in &hunk.lines {
                            match line {
                                HunkLine::Context(text) => writeln!(f, " {text}")?,
                                HunkLine::Remove(text) => writeln!(f, "-{text}")?,
                                HunkLine::Add(text) => writeln!(f, "+{text}")?,
                            }
                        }
                        if hunk.end_of_file {
                            writeln!(f, "{END_OF_FILE}")?;
                        }
                    }
                }
            }
        }
        writeln!(f, "{END_PATCH}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Patch {
        parse_patch(text).unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn parses_every_operation() {
        let patch = parse(
            "*** Begin Patch\n\
             *** Add File: new.txt\n\
             +hello\n\
             +\n\
             *** Update File: src/a.rs\n\
             *** Move to: src/b.rs\n\
             @@ impl Foo\n\
             @@ fn bar\n\
             \x20ctx\n\
             -old\n\
             +new\n\
             @@\n\
             -tail\n\
             *** End of File\n\
             *** Delete File: gone.txt\n\
             *** End Patch",
        );
        assert_eq!(patch.operations.len(), 3);
        assert_eq!(
            patch.operations[0],
            PatchOperation::Add {
                path: "new.txt".into(),
                contents: "hello\n\n".into()
            }
        );
        let PatchOperation::Update {
            path,
            move_to,
            hunks,
        } = &patch.operations[1]
        else {
            panic!("not an update");
        };
        assert_eq!(path, &PathBuf::from("src/a.rs"));
        assert_eq!(move_to.as_deref(), Some(std::path::Path::new("src/b.rs")));
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[0].context, ["impl Foo", "fn bar"]);
        assert_eq!(hunks[0].old_lines(), ["ctx", "old"]);
        assert_eq!(hunks[0].new_lines(), ["ctx", "new"]);
        assert!(!hunks[0].end_of_file);
        assert!(hunks[1].end_of_file);
        assert_eq!(
            patch.operations[2],
            PatchOperation::Delete {
                path: "gone.txt".into()
            }
        );
        assert_eq!(
            affected_paths(&patch),
            ["new.txt", "src/a.rs", "src/b.rs", "gone.txt"].map(PathBuf::from)
        );
    }

    #[test]
    fn first_hunk_may_omit_its_header_and_blank_lines_are_context() {
        let patch = parse("*** Begin Patch\n*** Update File: a\n a\n\n-b\n+c\n\n*** End Patch\n");
        let PatchOperation::Update { hunks, .. } = &patch.operations[0] else {
            panic!()
        };
        assert_eq!(hunks[0].old_lines(), ["a", "", "b"]);
    }

    #[test]
    fn heredoc_wrapper_and_padding_are_tolerated() {
        let patch = parse(
            "\napply_patch <<'EOF'\n*** Begin Patch\n*** Delete File: x\n*** End Patch\nEOF\n",
        );
        assert_eq!(patch.operations.len(), 1);
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        let err = parse_patch("hello").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("*** Begin Patch"));

        let err =
            parse_patch("*** Begin Patch\n*** Update File: a\n@@\n ok\nbad line\n*** End Patch")
                .unwrap_err();
        assert_eq!(err.line, 5);
        assert!(err.message.contains("`bad line`"), "{err}");

        let err = parse_patch("*** Begin Patch\n*** Add File: a\n+x\n").unwrap_err();
        assert!(err.message.contains("without `*** End Patch`"), "{err}");

        let err = parse_patch("*** Begin Patch\n*** Update File: a\n*** End Patch").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("no hunks"), "{err}");

        let err = parse_patch("*** Begin Patch\n*** Frobnicate: a\n*** End Patch").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.to_string()
                .starts_with("invalid patch at line 2: expected")
        );

        let err = parse_patch("*** Begin Patch\n*** End Patch").unwrap_err();
        assert!(err.message.contains("no files"));
    }

    #[test]
    fn pure_rename_needs_no_hunks() {
        let patch = parse("*** Begin Patch\n*** Update File: a\n*** Move to: b\n*** End Patch");
        assert!(matches!(
            &patch.operations[0],
            PatchOperation::Update { move_to: Some(_), hunks, .. } if hunks.is_empty()
        ));
    }

    fn text_line() -> impl Strategy<Value = String> {
        "[ -~]{0,20}"
    }

    fn path() -> impl Strategy<Value = PathBuf> {
        "[a-z]{1,6}(/[a-z_]{1,6}){0,2}\\.[a-z]{1,3}".prop_map(PathBuf::from)
    }

    fn hunk_line_strategy() -> impl Strategy<Value = HunkLine> {
        prop_oneof![
            text_line().prop_map(HunkLine::Context),
            text_line().prop_map(HunkLine::Remove),
            text_line().prop_map(HunkLine::Add),
        ]
    }

    fn hunk() -> impl Strategy<Value = Hunk> {
        (
            prop::collection::vec("[a-zA-Z_(){}]([ -~]{0,10}[a-zA-Z_(){}])?", 0..3),
            prop::collection::vec(hunk_line_strategy(), 1..6),
            any::<bool>(),
        )
            .prop_map(|(context, lines, end_of_file)| Hunk {
                context,
                lines,
                end_of_file,
            })
    }

    fn operation() -> impl Strategy<Value = PatchOperation> {
        prop_oneof![
            (path(), prop::collection::vec(text_line(), 0..5)).prop_map(|(path, lines)| {
                PatchOperation::Add {
                    path,
                    contents: lines.iter().map(|l| format!("{l}\n")).collect(),
                }
            }),
            path().prop_map(|path| PatchOperation::Delete { path }),
            (
                path(),
                prop::option::of(path()),
                prop::collection::vec(hunk(), 1..4)
            )
                .prop_map(|(path, move_to, hunks)| PatchOperation::Update {
                    path,
                    move_to,
                    hunks
                }),
        ]
    }

    proptest! {
        #[test]
        fn rendered_patches_parse_back_to_themselves(
            operations in prop::collection::vec(operation(), 1..5)
        ) {
            let patch = Patch { operations };
            let text = patch.to_string();
            let parsed = parse_patch(&text);
            prop_assert_eq!(parsed.as_ref(), Ok(&patch), "{}", text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
            let _ = parse_patch(&text);
        }

        #[test]
        fn arbitrary_lines_after_begin_never_panic(
            lines in prop::collection::vec(
                prop_oneof![
                    Just("*** Begin Patch".to_string()),
                    Just("*** End Patch".to_string()),
                    Just("*** End of File".to_string()),
                    Just("@@".to_string()),
                    Just("*** Move to: b".to_string()),
                    "[-+ @*]{0,3}[ -~]{0,6}".prop_map(String::from),
                    path().prop_map(|p| format!("*** Update File: {}", p.display())),
                    path().prop_map(|p| format!("*** Add File: {}", p.display())),
                ],
                0..30,
            )
        ) {
            let text = format!("*** Begin Patch\n{}", lines.join("\n"));
            let _ = parse_patch(&text);
        }
    }
}
