//! The flat YAML front matter of Markdown role files.
//!
//! Role files in every Markdown format (cadre, Claude Code, Gemini CLI) open with a block of
//! top-level `key: value` pairs between `---` lines, where a value is text (plain, quoted, or a
//! `|`/`>` block), a list (`[a, b]` or `- a` lines), or empty. That is all this parser reads; a
//! nested mapping is recognised and kept as [`Value::Nested`] so that the format that meets it
//! can report it. It is deliberately lenient where the tools that wrote these files are: a plain
//! value may contain `: ` (common in Claude Code descriptions, and an error to strict YAML).

/// A value in the front matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// `key:` with nothing after it, `~` or `null`.
    Null,
    Text(String),
    List(Vec<String>),
    /// A mapping, or a list of something other than text: nothing a role field takes.
    Nested,
}

impl Value {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Text(_) => "text",
            Value::List(_) => "a list",
            Value::Nested => "a nested structure",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub key: String,
    pub value: Value,
}

/// Why the front matter could not be read; `line` counts from 1 in the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FrontMatterError {
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

/// A Markdown file split into its front matter entries and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    /// `None` when the file does not open with `---`.
    pub entries: Option<Vec<Entry>>,
    pub body: String,
}

/// Splits `text` into front matter and body, and parses the front matter.
pub(crate) fn parse_document(text: &str) -> Result<Document, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    if lines.first().map(|line| line.trim_end()) != Some("---") {
        return Ok(Document {
            entries: None,
            body: text.trim().to_string(),
        });
    }
    let Some(close) = lines
        .iter()
        .skip(1)
        .position(|line| matches!(line.trim_end(), "---" | "..."))
        .map(|index| index + 1)
    else {
        return Err(FrontMatterError {
            line: 1,
            field: None,
            message: "the front matter opened with `---` is never closed by another `---` line"
                .into(),
        });
    };
    let entries = parse_entries(&lines[1..close], 2)?;
    let body = lines[close + 1..].join("\n").trim().to_string();
    Ok(Document {
        entries: Some(entries),
        body,
    })
}

/// Parses front matter lines; `first_line` is the file line number of `lines[0]`.
pub(crate) fn parse_entries(
    lines: &[&str],
    first_line: usize,
) -> Result<Vec<Entry>, FrontMatterError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index].trim_end();
        let line_number = first_line + index;
        index += 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            return Err(error(
                line_number,
                None,
                "unexpected indentation: this line belongs to no field",
            ));
        }
        let Some((key, rest)) = split_key(line) else {
            return Err(error(
                line_number,
                None,
                &format!("expected `field: value`, found `{}`", shorten(line)),
            ));
        };
        let rest = rest.trim();
        let value_opens_block = rest.is_empty() || rest.starts_with('#');
        let start = index;
        while index < lines.len() {
            let next = lines[index];
            let continues = next.trim().is_empty()
                || next.starts_with([' ', '\t'])
                || (value_opens_block && is_sequence_item(next));
            if !continues {
                break;
            }
            index += 1;
        }
        let continuation = &lines[start..index];
        let value = parse_value(rest, continuation).map_err(|message| FrontMatterError {
            line: line_number,
            field: Some(key.to_string()),
            message,
        })?;
        if entries.iter().any(|entry| entry.key == key) {
            return Err(error(line_number, Some(key), "the field is given twice"));
        }
        entries.push(Entry {
            key: key.to_string(),
            value,
        });
    }
    Ok(entries)
}

fn error(line: usize, field: Option<&str>, message: &str) -> FrontMatterError {
    FrontMatterError {
        line,
        field: field.map(str::to_string),
        message: message.to_string(),
    }
}

fn shorten(line: &str) -> String {
    const LIMIT: usize = 60;
    match line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

/// `key: rest` (or `key:` alone); keys may be quoted.
fn split_key(line: &str) -> Option<(&str, &str)> {
    if let Some(quote) = line.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let close = line[1..].find(quote)? + 1;
        let after = line[close + 1..].strip_prefix(':')?;
        if !(after.is_empty() || after.starts_with([' ', '\t'])) {
            return None;
        }
        return Some((&line[1..close], after));
    }
    let colon = line.find(':')?;
    let key = &line[..colon];
    let after = &line[colon + 1..];
    let key_is_plain = !key.is_empty()
        && !key.contains([' ', '\t', '[', ']', '{', '}', ',', '#', '"', '\''])
        && !key.starts_with('-');
    if !key_is_plain || !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    Some((key, after))
}

fn is_sequence_item(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed == "-" || trimmed.starts_with("- ") || trimmed.starts_with("-\t")
}

/// A value from the rest of its key's line and the lines that continue it.
fn parse_value(rest: &str, continuation: &[&str]) -> Result<Value, String> {
    if rest.is_empty() || rest.starts_with('#') {
        return parse_block_value(continuation);
    }
    match rest.as_bytes()[0] {
        b'|' | b'>' => parse_block_scalar(rest, continuation).map(Value::Text),
        b'"' | b'\'' => {
            let joined = join_flow(rest, continuation);
            let (text, after) = parse_quoted(&joined)?;
            expect_only_comment(after)?;
            Ok(Value::Text(text))
        }
        b'[' => parse_flow_sequence(&join_flow(rest, continuation)),
        b'{' => Ok(Value::Nested),
        b'&' | b'*' | b'!' => Err("YAML anchors, aliases and tags are not supported here".into()),
        _ => Ok(plain_scalar(rest, continuation)),
    }
}

/// A value that starts on the line after its key: a block list, a nested mapping, plain text,
/// or nothing.
fn parse_block_value(continuation: &[&str]) -> Result<Value, String> {
    let is_content = |line: &&str| !line.trim().is_empty() && !line.trim_start().starts_with('#');
    let Some(first_index) = continuation.iter().position(is_content) else {
        return Ok(Value::Null);
    };
    let first = continuation[first_index];
    if is_sequence_item(first) {
        let content: Vec<&str> = continuation.iter().copied().filter(is_content).collect();
        return parse_block_sequence(&content);
    }
    if split_key(first.trim_start()).is_some() {
        return Ok(Value::Nested);
    }
    Ok(plain_scalar(first.trim(), &continuation[first_index + 1..]))
}

fn parse_block_sequence(content: &[&str]) -> Result<Value, String> {
    let indent = indentation(content[0]);
    let mut items: Vec<(String, Vec<&str>)> = Vec::new();
    for line in content {
        let this_indent = indentation(line);
        if this_indent == indent && is_sequence_item(line) {
            let item = line.trim_start()[1..].trim().to_string();
            items.push((item, Vec::new()));
        } else if this_indent > indent {
            if let Some((_, more)) = items.last_mut() {
                more.push(line);
            }
        } else {
            return Err(format!(
                "a list item is expected at this indentation, found `{}`",
                shorten(line.trim())
            ));
        }
    }
    let mut values = Vec::new();
    for (first, more) in items {
        if first.is_empty()
            || first.starts_with(['[', '{', '-'])
            || split_key(&first).is_some()
            || more
                .iter()
                .any(|line| split_key(line.trim_start()).is_some())
        {
            return Ok(Value::Nested);
        }
        let value = if first.starts_with(['"', '\'']) {
            let joined = join_flow(&first, &more);
            let (text, after) = parse_quoted(&joined)?;
            expect_only_comment(after)?;
            text
        } else {
            match plain_scalar(&first, &more) {
                Value::Text(text) => text,
                _ => String::new(),
            }
        };
        values.push(value);
    }
    Ok(Value::List(values))
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A plain (unquoted) value, folded over its continuation lines, without a trailing comment.
fn plain_scalar(first: &str, continuation: &[&str]) -> Value {
    let mut text = strip_comment(first).trim().to_string();
    let mut blank_lines = 0;
    for line in continuation {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            blank_lines += 1;
            continue;
        }
        if blank_lines > 0 {
            text.push_str(&"\n".repeat(blank_lines));
            blank_lines = 0;
        } else if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(strip_comment(trimmed).trim_end());
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        _ => Value::Text(text),
    }
}

/// Drops a ` # comment` from a plain value (a `#` with no space before it is part of the text).
fn strip_comment(text: &str) -> &str {
    if text.starts_with('#') {
        return "";
    }
    match text.find(" #").or_else(|| text.find("\t#")) {
        Some(at) => &text[..at],
        None => text,
    }
}

/// A quoted or flow value spread over several lines, folded into one.
fn join_flow(first: &str, continuation: &[&str]) -> String {
    let mut joined = first.to_string();
    for line in continuation {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            joined.push('\n');
        } else {
            if !joined.ends_with('\n') {
                joined.push(' ');
            }
            joined.push_str(trimmed);
        }
    }
    joined
}

fn expect_only_comment(after: &str) -> Result<(), String> {
    let after = after.trim();
    if after.is_empty() || after.starts_with('#') {
        Ok(())
    } else {
        Err(format!(
            "unexpected `{}` after the closing quote",
            shorten(after)
        ))
    }
}

/// A single- or double-quoted string at the start of `text`, and what follows it.
fn parse_quoted(text: &str) -> Result<(String, &str), String> {
    let mut chars = text.char_indices();
    let quote = match chars.next() {
        Some((_, quote @ ('"' | '\''))) => quote,
        _ => return Err("expected a quoted string".into()),
    };
    let mut value = String::new();
    while let Some((at, c)) = chars.next() {
        if c == quote {
            if quote == '\'' && text[at + 1..].starts_with('\'') {
                chars.next();
                value.push('\'');
                continue;
            }
            return Ok((value, &text[at + 1..]));
        }
        if c == '\\' && quote == '"' {
            let Some((_, escaped)) = chars.next() else {
                break;
            };
            match escaped {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                '0' => value.push('\0'),
                '"' | '\\' | '/' | ' ' => value.push(escaped),
                'u' | 'x' | 'U' => {
                    let width = match escaped {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let digits: String = chars.by_ref().take(width).map(|(_, c)| c).collect();
                    let decoded = u32::from_str_radix(&digits, 16)
                        .ok()
                        .filter(|_| digits.len() == width)
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("bad escape `\\{escaped}{digits}`"))?;
                    value.push(decoded);
                }
                other => return Err(format!("unknown escape `\\{other}` in a quoted string")),
            }
            continue;
        }
        value.push(c);
    }
    Err("a quoted string is never closed".into())
}

/// `[a, "b c", 'd']`: a list of text.
fn parse_flow_sequence(text: &str) -> Result<Value, String> {
    let mut rest = text[1..].trim_start();
    let mut items = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix(']') {
            expect_only_comment(after)?;
            return Ok(Value::List(items));
        }
        if rest.is_empty() {
            return Err("a `[` list is never closed by `]`".into());
        }
        if rest.starts_with(['[', '{']) {
            return Ok(Value::Nested);
        }
        let item;
        if rest.starts_with(['"', '\'']) {
            let (text, after) = parse_quoted(rest)?;
            item = text;
            rest = after.trim_start();
        } else {
            let end = rest.find([',', ']']).unwrap_or(rest.len());
            item = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        items.push(item);
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.starts_with(']') {
            return Err(format!(
                "expected `,` or `]` in a list, found `{}`",
                shorten(rest)
            ));
        }
    }
}

/// A `|` (literal) or `>` (folded) block, with its chomping (`-`, `+`) and indentation
/// indicators.
fn parse_block_scalar(header: &str, continuation: &[&str]) -> Result<String, String> {
    let header = strip_comment(header).trim();
    let literal = header.starts_with('|');
    let mut keep = false;
    let mut strip = false;
    let mut explicit_indent = None;
    for c in header[1..].chars() {
        match c {
            '-' => strip = true,
            '+' => keep = true,
            '1'..='9' => explicit_indent = c.to_digit(10).map(|d| d as usize),
            _ => return Err(format!("bad block header `{header}`")),
        }
    }
    let indent = match explicit_indent {
        Some(indent) => indent,
        None => continuation
            .iter()
            .find(|line| !line.trim().is_empty())
            .map(|line| indentation(line))
            .unwrap_or(0),
    };
    let mut lines: Vec<&str> = Vec::new();
    for line in continuation {
        if line.trim().is_empty() {
            lines.push("");
        } else if indentation(line) < indent || !line.is_char_boundary(indent) {
            return Err("a line of the block is indented less than its first line".into());
        } else {
            lines.push(line[indent..].trim_end_matches('\r'));
        }
    }
    let content_end = lines
        .iter()
        .rposition(|line| !line.is_empty())
        .map_or(0, |last| last + 1);
    let trailing_newlines = lines.len() - content_end;
    let content = &lines[..content_end];
    let mut text = if literal {
        content.join("\n")
    } else {
        fold(content)
    };
    if content.is_empty() {
        return Ok(String::new());
    }
    if keep {
        text.push_str(&"\n".repeat(trailing_newlines + 1));
    } else if !strip {
        text.push('\n');
    }
    Ok(text)
}

/// YAML folding: lines join with a space, an empty line is a line break, and more-indented
/// lines keep their breaks.
fn fold(lines: &[&str]) -> String {
    let mut text = String::new();
    let mut previous_folds = false;
    let mut pending_breaks = 0;
    for line in lines {
        if line.is_empty() {
            pending_breaks += 1;
            continue;
        }
        let folds = !line.starts_with([' ', '\t']);
        if !text.is_empty() {
            if pending_breaks > 0 {
                let breaks = if previous_folds && folds {
                    pending_breaks
                } else {
                    pending_breaks + 1
                };
                text.push_str(&"\n".repeat(breaks));
            } else if previous_folds && folds {
                text.push(' ');
            } else {
                text.push('\n');
            }
        }
        pending_breaks = 0;
        text.push_str(line);
        previous_folds = folds;
    }
    text
}

#[cfg(test)]
mod tests;
