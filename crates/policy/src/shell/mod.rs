//! A parser for the subset of bash that models write: it turns a script into the flat list of
//! simple commands it would run, with the facts a policy needs (redirect targets, what feeds each
//! command, which commands are nested in others). It never executes or expands anything.
//!
//! Supported: pipes, `&&`, `||`, `;`, `&`, newlines, subshells, brace groups, `if`/`for`/`while`/
//! `until`/`case`, function definitions, `[[ ]]`, command substitution (`$(...)` and backticks,
//! whose commands are listed too), redirections including here-strings and here-docs, quoting,
//! escapes, assignment prefixes, and `bash -c`/`sh -c` scripts (parsed recursively). Anything
//! else (process substitution, arithmetic commands, `select`, `coproc`, unterminated quotes...)
//! is a [`ParseError`]: the caller should treat the script as one it does not understand.

mod nested;
mod parser;
mod quote;

use serde::Serialize;

pub use nested::{SHELLS, is_wrapper, shell_script_argument};
pub use quote::quote_word;

/// How deep substitutions, subshells and `sh -c` scripts may nest before the parser gives up.
pub const MAX_NESTING: usize = 48;

/// Parses a shell script into its simple commands.
///
/// ```
/// let script = cadre_policy::shell::parse("ls -la | grep foo > out.txt").unwrap();
/// assert_eq!(script.commands.len(), 2);
/// assert_eq!(script.commands[1].argv(), ["grep", "foo"]);
/// assert_eq!(script.commands[1].redirects[0].target, "out.txt");
/// ```
pub fn parse(script: &str) -> Result<ParsedScript, ParseError> {
    parser::parse_script(script, 0)
}

/// Builds the commands an argv would run without a shell: the argv itself plus what it wraps
/// (`sudo X`, `bash -c '...'`).
pub fn parse_argv(argv: &[String]) -> Result<ParsedScript, ParseError> {
    if argv.is_empty() {
        return Ok(ParsedScript::default());
    }
    let command = SimpleCommand {
        words: argv.iter().map(|arg| Word::literal(arg.clone())).collect(),
        ..SimpleCommand::default()
    };
    let mut commands = vec![command];
    nested::expand_nested(&mut commands, 0, 0)?;
    Ok(ParsedScript { commands })
}

/// A script that could be parsed with confidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParsedScript {
    /// Every simple command the script may run, including those inside substitutions, subshells,
    /// control structures, function bodies and `sh -c` scripts. Order is roughly source order;
    /// commands inside a substitution come before the command that uses their output.
    pub commands: Vec<SimpleCommand>,
}

/// Why a script could not be parsed with confidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {offset})")]
pub struct ParseError {
    /// What the parser could not handle.
    pub message: String,
    /// Character offset in the script (or in the nested script) where it gave up.
    pub offset: usize,
}

/// Where a simple command sits relative to the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written directly in the script (possibly inside a subshell, group, loop or function).
    #[default]
    Script,
    /// Inside a command substitution (`$(...)` or backticks).
    Substitution,
    /// Inside the script given to `sh -c`/`bash -c`; `parent` is that shell command.
    ShellScript,
    /// The command run by a wrapper such as `sudo`, `env`, `timeout` or `xargs`; `parent` is the
    /// wrapper.
    Wrapped,
}

/// One word of a command after quote removal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Word {
    /// The text with quotes and escapes removed; expansions (`$HOME`, `$(...)`) are kept as
    /// written.
    pub text: String,
    /// False when the word contains a parameter expansion or command substitution, so its value
    /// at run time is unknown.
    pub literal: bool,
}

impl Word {
    /// A word whose value is exactly `text`.
    pub fn literal(text: String) -> Self {
        Word {
            text,
            literal: true,
        }
    }
}

/// A redirection attached to a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redirect {
    /// The file descriptor written before the operator (`2>`), if any.
    pub fd: Option<u32>,
    pub kind: RedirectKind,
    /// The file, descriptor number or here-doc delimiter the redirect names.
    pub target: String,
}

/// The kind of redirection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectKind {
    /// `>` or `>|`: truncates and writes a file.
    Write,
    /// `>>`: appends to a file.
    Append,
    /// `&>` or `>&file`: writes stdout and stderr to a file.
    WriteBoth,
    /// `&>>`: appends stdout and stderr to a file.
    AppendBoth,
    /// `<`: reads a file.
    Read,
    /// `<>`: opens a file for reading and writing.
    ReadWrite,
    /// `>&N`, `<&N`, `>&-`: duplicates or closes a descriptor; touches no file.
    Duplicate,
    /// `<<<`: feeds a word to stdin.
    HereString,
    /// `<<` or `<<-`: feeds the following lines to stdin.
    HereDoc,
}

impl Redirect {
    /// True when the redirect creates or modifies a file other than the harmless device files.
    pub fn writes_file(&self) -> bool {
        let writes = matches!(
            self.kind,
            RedirectKind::Write
                | RedirectKind::Append
                | RedirectKind::WriteBoth
                | RedirectKind::AppendBoth
                | RedirectKind::ReadWrite
        );
        writes && !is_harmless_device(&self.target)
    }
}

fn is_harmless_device(target: &str) -> bool {
    matches!(
        target,
        "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty"
    ) || target.starts_with("/dev/fd/")
}

/// One simple command: assignments, words and redirections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimpleCommand {
    /// `NAME=value` prefixes (or the whole command when it has no words).
    pub assignments: Vec<String>,
    /// The program and its arguments.
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    pub origin: Origin,
    /// Index in [`ParsedScript::commands`] of the wrapper or shell this command runs inside.
    pub parent: Option<usize>,
    /// Programs whose output reaches this command: earlier stages of its pipeline and the
    /// commands substituted into its words.
    pub fed_by: Vec<String>,
    /// Part of a pipeline of two or more stages.
    pub in_pipeline: bool,
    /// Run in the background with `&`.
    pub background: bool,
    /// The shell function whose body holds this command.
    pub in_function: Option<String>,
}

impl SimpleCommand {
    /// The words as plain strings.
    pub fn argv(&self) -> Vec<&str> {
        self.words.iter().map(|word| word.text.as_str()).collect()
    }

    /// The program's name without its directory (`/usr/bin/rm` is `rm`), or `None` when the
    /// command has no words or its first word is computed at run time.
    pub fn program(&self) -> Option<&str> {
        let first = self.words.first()?;
        if !first.literal {
            return None;
        }
        Some(program_name(&first.text))
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[Word] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// The redirects that create or modify files.
    pub fn file_writes(&self) -> impl Iterator<Item = &Redirect> {
        self.redirects
            .iter()
            .filter(|redirect| redirect.writes_file())
    }

    /// The command as a shell would read it back, for display.
    pub fn display(&self) -> String {
        let mut pieces: Vec<String> = self.assignments.clone();
        pieces.extend(self.words.iter().map(|word| {
            if word.literal {
                quote_word(&word.text)
            } else {
                word.text.clone()
            }
        }));
        for redirect in &self.redirects {
            let fd = redirect.fd.map(|fd| fd.to_string()).unwrap_or_default();
            let operator = match redirect.kind {
                RedirectKind::Write => ">",
                RedirectKind::Append => ">>",
                RedirectKind::WriteBoth => "&>",
                RedirectKind::AppendBoth => "&>>",
                RedirectKind::Read => "<",
                RedirectKind::ReadWrite => "<>",
                RedirectKind::Duplicate => ">&",
                RedirectKind::HereString => "<<<",
                RedirectKind::HereDoc => "<<",
            };
            pieces.push(format!("{fd}{operator}{}", quote_word(&redirect.target)));
        }
        pieces.join(" ")
    }
}

/// The last path component of a program word.
pub fn program_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

#[cfg(test)]
mod tests;
