//! The recursive-descent parser. It reads characters directly (bash's tokenisation depends on
//! where a word sits, so a separate lexer would need the parser's state anyway) and appends every
//! simple command it finds to one flat list.

use super::nested::expand_nested;
use super::{
    MAX_NESTING, Origin, ParseError, ParsedScript, Redirect, RedirectKind, SimpleCommand, Word,
};
use std::ops::Range;

/// Parses `script`; `depth` is how deeply this script is already nested in another one.
pub(super) fn parse_script(script: &str, depth: usize) -> Result<ParsedScript, ParseError> {
    let mut parser = Parser {
        chars: script.chars().collect(),
        pos: 0,
        nesting: depth,
        commands: Vec::new(),
        pending_heredocs: Vec::new(),
        origin: Origin::Script,
        function: None,
    };
    if depth > MAX_NESTING {
        return Err(parser.error("commands are nested too deeply"));
    }
    parser.parse_list(&[])?;
    parser.skip_blanks();
    if let Some(c) = parser.peek() {
        return Err(parser.error(format!("unexpected `{c}`")));
    }
    if !parser.pending_heredocs.is_empty() {
        return Err(parser.error("here-doc has no body"));
    }
    Ok(ParsedScript {
        commands: parser.commands,
    })
}

/// Control operators: the tokens that end a simple command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ControlOp {
    AndIf,
    OrIf,
    CaseEnd,
    Semi,
    Amp,
    Pipe,
    LParen,
    RParen,
    Newline,
}

struct PendingHeredoc {
    delimiter: String,
    strip_tabs: bool,
    quoted: bool,
}

/// A word plus whether it was written without any quoting or expansion (only such words can be
/// reserved words, function names or assignment names).
struct RawWord {
    word: Word,
    plain: bool,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    nesting: usize,
    commands: Vec<SimpleCommand>,
    pending_heredocs: Vec<PendingHeredoc>,
    origin: Origin,
    function: Option<String>,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

fn is_metachar(c: char) -> bool {
    is_blank(c) || matches!(c, '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>')
}

pub(super) fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn starts_with(&self, text: &str) -> bool {
        text.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            offset: self.pos.min(self.chars.len()),
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error("commands are nested too deeply"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    /// Skips spaces, tabs, line continuations and comments; stops at a newline.
    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if is_blank(c) {
                self.pos += 1;
            } else if c == '\\' && self.peek_at(1) == Some('\n') {
                self.pos += 2;
            } else if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Skips blanks and newlines, reading any here-doc bodies the newlines release.
    fn skip_linebreaks(&mut self) -> Result<(), ParseError> {
        loop {
            self.skip_blanks();
            if self.peek() == Some('\n') {
                self.consume_newline()?;
            } else {
                return Ok(());
            }
        }
    }

    fn consume_newline(&mut self) -> Result<(), ParseError> {
        self.pos += 1;
        for heredoc in std::mem::take(&mut self.pending_heredocs) {
            self.read_heredoc_body(&heredoc)?;
        }
        Ok(())
    }

    fn read_heredoc_body(&mut self, heredoc: &PendingHeredoc) -> Result<(), ParseError> {
        loop {
            if self.pos >= self.chars.len() {
                return Err(self.error(format!(
                    "here-doc delimited by `{}` is not terminated",
                    heredoc.delimiter
                )));
            }
            let start = self.pos;
            while self.peek().is_some_and(|c| c != '\n') {
                self.pos += 1;
            }
            let line: String = self.chars[start..self.pos].iter().collect();
            if self.peek() == Some('\n') {
                self.pos += 1;
            }
            let line = if heredoc.strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line.as_str()
            };
            if line == heredoc.delimiter {
                return Ok(());
            }
            if !heredoc.quoted && (line.contains("$(") || line.contains('`')) {
                return Err(self.error(
                    "command substitution inside a here-doc is not supported; quote the delimiter",
                ));
            }
        }
    }

    fn peek_control_op(&self) -> Option<(ControlOp, usize)> {
        let op = match (self.peek()?, self.peek_at(1)) {
            ('\n', _) => (ControlOp::Newline, 1),
            ('&', Some('&')) => (ControlOp::AndIf, 2),
            ('&', Some('>')) => return None,
            ('&', _) => (ControlOp::Amp, 1),
            ('|', Some('|')) => (ControlOp::OrIf, 2),
            ('|', Some('&')) => (ControlOp::Pipe, 2),
            ('|', _) => (ControlOp::Pipe, 1),
            (';', Some(';')) if self.peek_at(2) == Some('&') => (ControlOp::CaseEnd, 3),
            (';', Some(';' | '&')) => (ControlOp::CaseEnd, 2),
            (';', _) => (ControlOp::Semi, 1),
            ('(', _) => (ControlOp::LParen, 1),
            (')', _) => (ControlOp::RParen, 1),
            _ => return None,
        };
        Some(op)
    }

    /// The unquoted word at the cursor, if it is written plainly (candidates for reserved words).
    fn peek_plain_word(&self) -> Option<String> {
        let mut end = self.pos;
        while let Some(&c) = self.chars.get(end) {
            if is_metachar(c) {
                break;
            }
            if matches!(c, '\'' | '"' | '\\' | '$' | '`') {
                return None;
            }
            end += 1;
        }
        (end > self.pos).then(|| self.chars[self.pos..end].iter().collect())
    }

    fn at_reserved(&self, word: &str) -> bool {
        self.peek_plain_word().as_deref() == Some(word)
    }

    fn expect_reserved(&mut self, word: &str) -> Result<(), ParseError> {
        self.skip_linebreaks()?;
        if self.at_reserved(word) {
            self.pos += word.chars().count();
            Ok(())
        } else {
            Err(self.error(format!("expected `{word}`")))
        }
    }

    fn at_list_end(&self, terminators: &[&str]) -> bool {
        match self.peek_control_op() {
            Some((ControlOp::RParen | ControlOp::CaseEnd, _)) => return true,
            None if self.peek().is_none() => return true,
            _ => {}
        }
        self.peek_plain_word()
            .is_some_and(|word| terminators.contains(&word.as_str()))
    }

    /// A list of and-or lists separated by `;`, `&` or newlines, up to a terminator word, `)`,
    /// `;;` or the end.
    fn parse_list(&mut self, terminators: &[&str]) -> Result<(), ParseError> {
        loop {
            self.skip_linebreaks()?;
            if self.at_list_end(terminators) {
                return Ok(());
            }
            let start = self.commands.len();
            self.parse_and_or()?;
            self.skip_blanks();
            match self.peek_control_op() {
                Some((ControlOp::Semi, len)) => self.pos += len,
                Some((ControlOp::Amp, len)) => {
                    self.pos += len;
                    for command in &mut self.commands[start..] {
                        command.background = true;
                    }
                }
                Some((ControlOp::Newline, _)) => self.consume_newline()?,
                _ => return Ok(()),
            }
        }
    }

    fn parse_and_or(&mut self) -> Result<(), ParseError> {
        self.parse_pipeline()?;
        loop {
            self.skip_blanks();
            match self.peek_control_op() {
                Some((ControlOp::AndIf | ControlOp::OrIf, len)) => {
                    self.pos += len;
                    self.skip_linebreaks()?;
                    self.parse_pipeline()?;
                }
                _ => return Ok(()),
            }
        }
    }

    fn parse_pipeline(&mut self) -> Result<(), ParseError> {
        self.skip_blanks();
        if self.at_reserved("!") {
            self.pos += 1;
        }
        let mut stages: Vec<Range<usize>> = Vec::new();
        loop {
            let start = self.commands.len();
            self.parse_command()?;
            stages.push(start..self.commands.len());
            self.skip_blanks();
            match self.peek_control_op() {
                Some((ControlOp::Pipe, len)) => {
                    self.pos += len;
                    self.skip_linebreaks()?;
                }
                _ => break,
            }
        }
        if stages.len() > 1 {
            let mut upstream: Vec<String> = Vec::new();
            for stage in stages {
                let programs: Vec<String> = self.commands[stage.clone()]
                    .iter()
                    .filter_map(|command| command.program().map(str::to_string))
                    .collect();
                for command in &mut self.commands[stage] {
                    command.in_pipeline = true;
                    command.fed_by.extend(upstream.iter().cloned());
                }
                upstream.extend(programs);
            }
        }
        Ok(())
    }

    fn parse_command(&mut self) -> Result<(), ParseError> {
        self.skip_blanks();
        let start = self.commands.len();
        match self.peek_control_op() {
            Some((ControlOp::LParen, _)) => {
                if self.peek_at(1) == Some('(') {
                    return Err(self.error("arithmetic commands `(( ))` are not supported"));
                }
                self.pos += 1;
                self.enter()?;
                self.parse_list(&[])?;
                self.leave();
                self.skip_linebreaks()?;
                if self.peek() != Some(')') {
                    return Err(self.error("expected `)` to close the subshell"));
                }
                self.pos += 1;
                return self.parse_trailing_redirects(start);
            }
            Some(_) => {
                let c = self.peek().unwrap_or(' ');
                return Err(self.error(format!("unexpected `{c}`")));
            }
            _ => {}
        }
        if self.peek().is_none() {
            return Err(self.error("expected a command"));
        }
        let Some(keyword) = self.peek_plain_word() else {
            return self.parse_simple();
        };
        match keyword.as_str() {
            "{" => {
                self.pos += 1;
                self.enter()?;
                self.parse_list(&["}"])?;
                self.expect_reserved("}")?;
                self.leave();
                self.parse_trailing_redirects(start)
            }
            "if" => {
                self.pos += 2;
                self.enter()?;
                self.parse_if()?;
                self.leave();
                self.parse_trailing_redirects(start)
            }
            "while" | "until" => {
                self.pos += keyword.len();
                self.enter()?;
                self.parse_list(&["do"])?;
                self.expect_reserved("do")?;
                self.parse_list(&["done"])?;
                self.expect_reserved("done")?;
                self.leave();
                self.parse_trailing_redirects(start)
            }
            "for" => {
                self.pos += 3;
                self.enter()?;
                self.parse_for()?;
                self.leave();
                self.parse_trailing_redirects(start)
            }
            "case" => {
                self.pos += 4;
                self.enter()?;
                self.parse_case()?;
                self.leave();
                self.parse_trailing_redirects(start)
            }
            "[[" => self.parse_conditional(),
            "function" => {
                self.pos += 8;
                self.skip_blanks();
                let name = self.read_word()?;
                let Some(RawWord { word, plain: true }) = name else {
                    return Err(self.error("expected a function name"));
                };
                self.skip_blanks();
                if self.starts_with("()") {
                    self.pos += 2;
                }
                self.parse_function_body(word.text)
            }
            "select" | "coproc" => Err(self.error(format!("`{keyword}` is not supported"))),
            "}" | "then" | "else" | "elif" | "fi" | "do" | "done" | "esac" | "in" | "]]" => {
                Err(self.error(format!("unexpected `{keyword}`")))
            }
            _ => self.parse_simple(),
        }
    }

    fn parse_if(&mut self) -> Result<(), ParseError> {
        self.parse_list(&["then"])?;
        self.expect_reserved("then")?;
        self.parse_list(&["elif", "else", "fi"])?;
        loop {
            self.skip_linebreaks()?;
            match self.peek_plain_word().as_deref() {
                Some("elif") => {
                    self.pos += 4;
                    self.parse_list(&["then"])?;
                    self.expect_reserved("then")?;
                    self.parse_list(&["elif", "else", "fi"])?;
                }
                Some("else") => {
                    self.pos += 4;
                    self.parse_list(&["fi"])?;
                    return self.expect_reserved("fi");
                }
                Some("fi") => {
                    self.pos += 2;
                    return Ok(());
                }
                _ => return Err(self.error("expected `fi`")),
            }
        }
    }

    fn parse_for(&mut self) -> Result<(), ParseError> {
        self.skip_blanks();
        if self.starts_with("((") {
            return Err(self.error("arithmetic `for ((...))` loops are not supported"));
        }
        match self.read_word()? {
            Some(RawWord { plain: true, word }) if is_name(&word.text) => {}
            _ => return Err(self.error("expected a loop variable after `for`")),
        }
        self.skip_linebreaks()?;
        if self.at_reserved("in") {
            self.pos += 2;
            loop {
                self.skip_blanks();
                if self.peek().is_none() || self.peek_control_op().is_some() {
                    break;
                }
                if self.read_word()?.is_none() {
                    return Err(self.error("unexpected character in `for` word list"));
                }
            }
        }
        self.skip_blanks();
        if let Some((ControlOp::Semi, len)) = self.peek_control_op() {
            self.pos += len;
        }
        self.expect_reserved("do")?;
        self.parse_list(&["done"])?;
        self.expect_reserved("done")
    }

    fn parse_case(&mut self) -> Result<(), ParseError> {
        self.skip_blanks();
        if self.read_word()?.is_none() {
            return Err(self.error("expected a word after `case`"));
        }
        self.expect_reserved("in")?;
        loop {
            self.skip_linebreaks()?;
            if self.at_reserved("esac") {
                self.pos += 4;
                return Ok(());
            }
            if self.peek().is_none() {
                return Err(self.error("expected `esac`"));
            }
            if self.peek() == Some('(') {
                self.pos += 1;
            }
            loop {
                self.skip_blanks();
                if self.read_word()?.is_none() {
                    return Err(self.error("expected a `case` pattern"));
                }
                self.skip_blanks();
                match self.peek() {
                    Some('|') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `)` after a `case` pattern")),
                }
            }
            self.parse_list(&["esac"])?;
            self.skip_blanks();
            if let Some((ControlOp::CaseEnd, len)) = self.peek_control_op() {
                self.pos += len;
            } else if !self.at_reserved("esac") {
                return Err(self.error("expected `;;` or `esac`"));
            }
        }
    }

    /// `[[ ... ]]`: its operators (`<`, `&&`, `(`) are words, not redirections or lists.
    fn parse_conditional(&mut self) -> Result<(), ParseError> {
        self.pos += 2;
        let mut command = self.new_command();
        command.words.push(Word::literal("[[".to_string()));
        let sub_start = self.commands.len();
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return Err(self.error("expected `]]`")),
                Some('\n') => self.consume_newline()?,
                Some(c) if "&|()<>".contains(c) => {
                    let mut text = String::new();
                    while let Some(c) = self.peek().filter(|c| "&|()<>".contains(*c)) {
                        text.push(c);
                        self.pos += 1;
                    }
                    command.words.push(Word::literal(text));
                }
                Some(_) if self.at_reserved("]]") => {
                    self.pos += 2;
                    command.words.push(Word::literal("]]".to_string()));
                    break;
                }
                Some(c) => match self.read_word()? {
                    Some(raw) => command.words.push(raw.word),
                    None => return Err(self.error(format!("unexpected `{c}` in `[[ ]]`"))),
                },
            }
        }
        self.push_command(command, sub_start)
    }

    fn parse_function_body(&mut self, name: String) -> Result<(), ParseError> {
        self.skip_linebreaks()?;
        let outer = self.function.replace(name);
        self.enter()?;
        let result = self.parse_command();
        self.leave();
        self.function = outer;
        result
    }

    /// Redirections after a compound command apply to every command inside it.
    fn parse_trailing_redirects(&mut self, start: usize) -> Result<(), ParseError> {
        let mut redirects = Vec::new();
        loop {
            self.skip_blanks();
            if !self.try_redirect(&mut redirects)? {
                break;
            }
        }
        for command in &mut self.commands[start..] {
            command.redirects.extend(redirects.iter().cloned());
        }
        Ok(())
    }

    fn new_command(&self) -> SimpleCommand {
        SimpleCommand {
            origin: self.origin,
            in_function: self.function.clone(),
            ..SimpleCommand::default()
        }
    }

    /// Appends a finished command; `sub_start` is where the commands substituted into its words
    /// begin, so their programs are recorded as feeding it.
    fn push_command(
        &mut self,
        mut command: SimpleCommand,
        sub_start: usize,
    ) -> Result<(), ParseError> {
        let substituted: Vec<String> = self.commands[sub_start..]
            .iter()
            .filter_map(|inner| inner.program().map(str::to_string))
            .collect();
        command.fed_by.extend(substituted);
        self.commands.push(command);
        let index = self.commands.len() - 1;
        expand_nested(&mut self.commands, index, self.nesting).map_err(|inner| ParseError {
            message: format!("in a nested script: {}", inner.message),
            offset: self.pos.min(self.chars.len()),
        })
    }

    fn parse_simple(&mut self) -> Result<(), ParseError> {
        let mut command = self.new_command();
        let sub_start = self.commands.len();
        loop {
            self.skip_blanks();
            if self.try_redirect(&mut command.redirects)? {
                continue;
            }
            match self.peek() {
                None => break,
                Some(c) if is_metachar(c) => break,
                _ => {}
            }
            if command.words.is_empty()
                && let Some(assignment) = self.try_assignment()?
            {
                command.assignments.push(assignment);
                continue;
            }
            let Some(raw) = self.read_word()? else {
                break;
            };
            if command.words.is_empty()
                && command.assignments.is_empty()
                && raw.plain
                && self.at_function_parens()
            {
                return self.parse_function_body(raw.word.text);
            }
            command.words.push(raw.word);
        }
        if command.words.is_empty()
            && command.assignments.is_empty()
            && command.redirects.is_empty()
        {
            return Err(self.error("expected a command"));
        }
        self.push_command(command, sub_start)
    }

    /// After a function name: consumes `( )` and says whether it was there.
    fn at_function_parens(&mut self) -> bool {
        let save = self.pos;
        self.skip_blanks();
        if self.peek() == Some('(') {
            self.pos += 1;
            self.skip_blanks();
            if self.peek() == Some(')') {
                self.pos += 1;
                return true;
            }
        }
        self.pos = save;
        false
    }

    fn try_assignment(&mut self) -> Result<Option<String>, ParseError> {
        let mut end = self.pos;
        while self
            .chars
            .get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            end += 1;
        }
        let name: String = self.chars[self.pos..end].iter().collect();
        if !is_name(&name) {
            return Ok(None);
        }
        let operator_len = match (self.chars.get(end), self.chars.get(end + 1)) {
            (Some('='), _) => 1,
            (Some('+'), Some('=')) => 2,
            _ => return Ok(None),
        };
        self.pos = end + operator_len;
        if self.peek() == Some('(') {
            return Err(self.error("array assignments are not supported"));
        }
        let value = self
            .read_word()?
            .map(|raw| raw.word.text)
            .unwrap_or_default();
        let operator = if operator_len == 1 { "=" } else { "+=" };
        Ok(Some(format!("{name}{operator}{value}")))
    }

    fn try_redirect(&mut self, redirects: &mut Vec<Redirect>) -> Result<bool, ParseError> {
        let save = self.pos;
        let mut fd_text = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            fd_text.push(c);
            self.pos += 1;
        }
        let fd = if fd_text.is_empty() {
            None
        } else {
            match fd_text.parse::<u32>() {
                Ok(fd) => Some(fd),
                Err(_) => {
                    self.pos = save;
                    return Ok(false);
                }
            }
        };
        let (kind, len) = if self.starts_with("<(") || self.starts_with(">(") {
            return Err(self.error("process substitution is not supported"));
        } else if self.starts_with("<<<") {
            (RedirectKind::HereString, 3)
        } else if self.starts_with("<<-") {
            return self.read_heredoc_redirect(fd, true, 3, redirects);
        } else if self.starts_with("<<") {
            return self.read_heredoc_redirect(fd, false, 2, redirects);
        } else if self.starts_with("<>") {
            (RedirectKind::ReadWrite, 2)
        } else if self.starts_with("<&") {
            (RedirectKind::Duplicate, 2)
        } else if self.starts_with("<") {
            (RedirectKind::Read, 1)
        } else if self.starts_with(">>") {
            (RedirectKind::Append, 2)
        } else if self.starts_with(">&") {
            (RedirectKind::Duplicate, 2)
        } else if self.starts_with(">|") || self.starts_with(">") {
            (
                RedirectKind::Write,
                if self.starts_with(">|") { 2 } else { 1 },
            )
        } else if fd.is_none() && self.starts_with("&>>") {
            (RedirectKind::AppendBoth, 3)
        } else if fd.is_none() && self.starts_with("&>") {
            (RedirectKind::WriteBoth, 2)
        } else {
            self.pos = save;
            return Ok(false);
        };
        self.pos += len;
        self.skip_blanks();
        let Some(target) = self.read_word()? else {
            return Err(self.error("redirection has no target"));
        };
        let target = target.word.text;
        let kind = match kind {
            // `>&file` (not a descriptor number) sends both stdout and stderr to the file.
            RedirectKind::Duplicate
                if save < self.chars.len()
                    && self.chars[save + fd_text.len()] == '>'
                    && target != "-"
                    && !target.chars().all(|c| c.is_ascii_digit()) =>
            {
                if fd.is_some() {
                    RedirectKind::Write
                } else {
                    RedirectKind::WriteBoth
                }
            }
            kind => kind,
        };
        redirects.push(Redirect { fd, kind, target });
        Ok(true)
    }

    fn read_heredoc_redirect(
        &mut self,
        fd: Option<u32>,
        strip_tabs: bool,
        len: usize,
        redirects: &mut Vec<Redirect>,
    ) -> Result<bool, ParseError> {
        self.pos += len;
        self.skip_blanks();
        let Some(delimiter) = self.read_word()? else {
            return Err(self.error("here-doc has no delimiter"));
        };
        if !delimiter.word.literal {
            return Err(self.error("here-doc delimiter with an expansion is not supported"));
        }
        self.pending_heredocs.push(PendingHeredoc {
            delimiter: delimiter.word.text.clone(),
            strip_tabs,
            quoted: !delimiter.plain,
        });
        redirects.push(Redirect {
            fd,
            kind: RedirectKind::HereDoc,
            target: delimiter.word.text,
        });
        Ok(true)
    }

    /// Reads one word up to an unquoted metacharacter; `None` if there is none at the cursor.
    fn read_word(&mut self) -> Result<Option<RawWord>, ParseError> {
        let start = self.pos;
        let mut text = String::new();
        let mut literal = true;
        let mut plain = true;
        while let Some(c) = self.peek() {
            if is_metachar(c) {
                break;
            }
            match c {
                '\\' => {
                    plain = false;
                    match self.peek_at(1) {
                        Some('\n') => self.pos += 2,
                        Some(next) => {
                            text.push(next);
                            self.pos += 2;
                        }
                        None => {
                            text.push('\\');
                            self.pos += 1;
                        }
                    }
                }
                '\'' => {
                    plain = false;
                    self.pos += 1;
                    self.read_single_quoted(&mut text)?;
                }
                '"' => {
                    plain = false;
                    self.pos += 1;
                    self.read_double_quoted(&mut text, &mut literal)?;
                }
                '$' => {
                    plain = false;
                    self.read_dollar(&mut text, &mut literal, false)?;
                }
                '`' => {
                    plain = false;
                    literal = false;
                    self.read_backticks(&mut text)?;
                }
                _ => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        if self.pos == start {
            return Ok(None);
        }
        Ok(Some(RawWord {
            word: Word { text, literal },
            plain,
        }))
    }

    fn read_single_quoted(&mut self, text: &mut String) -> Result<(), ParseError> {
        let open = self.pos - 1;
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.error("unterminated single quote"));
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn read_double_quoted(
        &mut self,
        text: &mut String,
        literal: &mut bool,
    ) -> Result<(), ParseError> {
        let open = self.pos - 1;
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.error("unterminated double quote"));
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some('\\') => match self.peek_at(1) {
                    Some('\n') => self.pos += 2,
                    Some(next @ ('$' | '`' | '"' | '\\')) => {
                        text.push(next);
                        self.pos += 2;
                    }
                    _ => {
                        text.push('\\');
                        self.pos += 1;
                    }
                },
                Some('$') => self.read_dollar(text, literal, true)?,
                Some('`') => {
                    *literal = false;
                    self.read_backticks(text)?;
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// Reads an expansion starting at `$`, appending it as written (or, for `$'...'`, decoded).
    fn read_dollar(
        &mut self,
        text: &mut String,
        literal: &mut bool,
        in_double_quotes: bool,
    ) -> Result<(), ParseError> {
        let start = self.pos;
        match self.peek_at(1) {
            Some('(') if self.peek_at(2) == Some('(') => {
                self.pos += 3;
                let body = self.read_balanced('(', ')', "`$((`")?;
                if self.peek() != Some(')') {
                    return Err(self.error("unterminated `$((`"));
                }
                self.pos += 1;
                if body.contains("$(") || body.contains('`') {
                    return Err(
                        self.error("command substitution inside arithmetic is not supported")
                    );
                }
                *literal = false;
            }
            Some('(') => {
                self.pos += 2;
                self.enter()?;
                let outer = std::mem::replace(&mut self.origin, Origin::Substitution);
                let result = self.parse_list(&[]);
                self.origin = outer;
                result?;
                self.leave();
                self.skip_linebreaks()?;
                if self.peek() != Some(')') {
                    self.pos = start;
                    return Err(self.error("unterminated `$(`"));
                }
                self.pos += 1;
                *literal = false;
            }
            Some('{') => {
                self.pos += 2;
                let body = self.read_balanced('{', '}', "`${`")?;
                if body.contains("$(") || body.contains('`') {
                    return Err(self.error("command substitution inside `${...}` is not supported"));
                }
                *literal = false;
            }
            Some('\'') if !in_double_quotes => {
                self.pos += 2;
                return self.read_ansi_c_quoted(text);
            }
            Some('"') if !in_double_quotes => {
                self.pos += 2;
                return self.read_double_quoted(text, literal);
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    self.pos += 1;
                }
                *literal = false;
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.pos += 2;
                *literal = false;
            }
            _ => {
                self.pos += 1;
            }
        }
        text.extend(&self.chars[start..self.pos]);
        Ok(())
    }

    /// Skips to the `close` that balances an already-consumed `open` (quotes respected) and
    /// returns what lies between; the cursor ends on the closing character, consumed.
    fn read_balanced(&mut self, open: char, close: char, what: &str) -> Result<String, ParseError> {
        let start = self.pos;
        let mut depth = 1usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some('"'), '\\') | (None, '\\') => {
                    self.pos = (self.pos + 1).min(self.chars.len());
                }
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, c) if c == open => depth += 1,
                (None, c) if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        let end = self.pos - 1;
                        return Ok(self.chars[start..end].iter().collect());
                    }
                }
                _ => {}
            }
        }
        Err(self.error(format!("unterminated {what}")))
    }

    fn read_ansi_c_quoted(&mut self, text: &mut String) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated `$'`")),
                Some('\'') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some('\\') => {
                    let decoded = match self.peek_at(1) {
                        Some('n') => Some('\n'),
                        Some('t') => Some('\t'),
                        Some('r') => Some('\r'),
                        Some(c @ ('\\' | '\'' | '"' | '?')) => Some(c),
                        _ => None,
                    };
                    match decoded {
                        Some(c) => {
                            text.push(c);
                            self.pos += 2;
                        }
                        None => {
                            text.push('\\');
                            self.pos += 1;
                        }
                    }
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// Reads a backtick substitution, parses its inner script and records its commands.
    fn read_backticks(&mut self, text: &mut String) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut inner = String::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(self.error("unterminated backtick"));
                }
                Some('`') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') if matches!(self.peek_at(1), Some('$' | '`' | '\\')) => {
                    inner.extend(self.peek_at(1));
                    self.pos += 2;
                }
                Some(c) => {
                    inner.push(c);
                    self.pos += 1;
                }
            }
        }
        text.extend(&self.chars[start..self.pos]);
        let parsed = parse_script(&inner, self.nesting + 1).map_err(|err| ParseError {
            message: format!("inside backticks: {}", err.message),
            offset: start,
        })?;
        let offset = self.commands.len();
        for mut command in parsed.commands {
            if command.origin == Origin::Script {
                command.origin = Origin::Substitution;
            }
            command.parent = command.parent.map(|parent| parent + offset);
            if command.in_function.is_none() {
                command.in_function.clone_from(&self.function);
            }
            self.commands.push(command);
        }
        Ok(())
    }
}
