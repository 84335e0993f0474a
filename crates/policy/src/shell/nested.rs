//! Commands hidden inside other commands' arguments: the script of `bash -c '...'` and the
//! command run by wrappers such as `sudo`, `env`, `timeout` or `xargs`.

use super::parser::parse_script;
use super::{MAX_NESTING, Origin, ParseError, SimpleCommand};

/// Shells whose `-c` argument is a script.
pub const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"];

/// How a wrapper's own options are laid out before the command it runs.
struct Wrapper {
    name: &'static str,
    /// Options that take the next word as their value.
    options_with_value: &'static [&'static str],
    /// Options after which the wrapper runs no command (it only looks something up).
    lookup_options: &'static [&'static str],
    /// Positional words before the command (the duration of `timeout`).
    leading_positionals: usize,
    /// Whether `NAME=value` words before the command set its environment.
    takes_assignments: bool,
}

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        name: "sudo",
        options_with_value: &[
            "-u", "-g", "-C", "-p", "-D", "-r", "-t", "-U", "-T", "-R", "-h",
        ],
        lookup_options: &["-l", "-v", "-k", "-K", "-V", "-e", "--help", "--version"],
        leading_positionals: 0,
        takes_assignments: true,
    },
    Wrapper {
        name: "doas",
        options_with_value: &["-u", "-C"],
        lookup_options: &[],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "env",
        options_with_value: &["-u", "--unset", "-C", "--chdir"],
        lookup_options: &["-S", "--split-string", "--help", "--version"],
        leading_positionals: 0,
        takes_assignments: true,
    },
    Wrapper {
        name: "nice",
        options_with_value: &["-n", "--adjustment"],
        lookup_options: &[],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "nohup",
        options_with_value: &[],
        lookup_options: &[],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "time",
        options_with_value: &["-f", "--format", "-o", "--output"],
        lookup_options: &[],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "timeout",
        options_with_value: &["-s", "--signal", "-k", "--kill-after"],
        lookup_options: &[],
        leading_positionals: 1,
        takes_assignments: false,
    },
    Wrapper {
        name: "command",
        options_with_value: &[],
        lookup_options: &["-v", "-V"],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "exec",
        options_with_value: &["-a"],
        lookup_options: &[],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "builtin",
        options_with_value: &[],
        lookup_options: &[],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "stdbuf",
        options_with_value: &["-i", "-o", "-e"],
        lookup_options: &[],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "ionice",
        options_with_value: &["-c", "-n", "-p", "-P", "-u"],
        lookup_options: &[],
        leading_positionals: 0,
        takes_assignments: false,
    },
    Wrapper {
        name: "xargs",
        options_with_value: &["-I", "-d", "-n", "-P", "-L", "-s", "-E", "-a"],
        lookup_options: &["--help", "--version"],
        leading_positionals: 0,
        takes_assignments: false,
    },
];

/// True when `program` runs another command given in its arguments.
pub fn is_wrapper(program: &str) -> bool {
    WRAPPERS.iter().any(|wrapper| wrapper.name == program)
}

/// Appends the commands nested in `commands[index]` (recursively), marking them with their
/// parent.
pub(super) fn expand_nested(
    commands: &mut Vec<SimpleCommand>,
    index: usize,
    depth: usize,
) -> Result<(), ParseError> {
    if depth > MAX_NESTING {
        return Err(ParseError {
            message: "commands are nested too deeply".to_string(),
            offset: 0,
        });
    }
    let command = &commands[index];
    let Some(program) = command.program() else {
        return Ok(());
    };
    if SHELLS.contains(&program) {
        let Some(script) = shell_script_argument(command) else {
            return Ok(());
        };
        if !script.literal {
            return Ok(());
        }
        let parsed = parse_script(&script.text.clone(), depth + 1)?;
        let in_function = command.in_function.clone();
        let offset = commands.len();
        for mut inner in parsed.commands {
            if inner.origin == Origin::Script {
                inner.origin = Origin::ShellScript;
                inner.parent = Some(index);
            } else {
                inner.parent = inner.parent.map(|parent| parent + offset);
            }
            if inner.in_function.is_none() {
                inner.in_function.clone_from(&in_function);
            }
            commands.push(inner);
        }
        return Ok(());
    }
    let Some(wrapper) = WRAPPERS.iter().find(|wrapper| wrapper.name == program) else {
        return Ok(());
    };
    let Some((start, assignments)) = wrapped_command_start(wrapper, command) else {
        return Ok(());
    };
    let inner = SimpleCommand {
        assignments,
        words: command.words[start..].to_vec(),
        origin: Origin::Wrapped,
        parent: Some(index),
        in_function: command.in_function.clone(),
        ..SimpleCommand::default()
    };
    commands.push(inner);
    let inner_index = commands.len() - 1;
    expand_nested(commands, inner_index, depth + 1)
}

/// The script word of `sh -c SCRIPT`, if the command has one.
pub fn shell_script_argument(command: &SimpleCommand) -> Option<&super::Word> {
    let mut saw_c = false;
    let mut args = command.args().iter();
    while let Some(arg) = args.next() {
        let text = arg.text.as_str();
        if text == "-o" || text == "+o" {
            args.next();
        } else if text.starts_with("--") {
            continue;
        } else if (text.starts_with('-') || text.starts_with('+')) && text.len() > 1 {
            saw_c |= text[1..].contains('c');
        } else {
            return saw_c.then_some(arg);
        }
    }
    None
}

fn wrapped_command_start(
    wrapper: &Wrapper,
    command: &SimpleCommand,
) -> Option<(usize, Vec<String>)> {
    let words = &command.words;
    let mut assignments = Vec::new();
    let mut positionals_left = wrapper.leading_positionals;
    let mut options_done = false;
    let mut index = 1;
    while let Some(word) = words.get(index) {
        let text = word.text.as_str();
        if !options_done && text == "--" {
            options_done = true;
            index += 1;
        } else if !options_done && text.starts_with('-') && text.len() > 1 {
            if wrapper.lookup_options.contains(&text) {
                return None;
            }
            index += if wrapper.options_with_value.contains(&text) {
                2
            } else {
                1
            };
        } else if wrapper.takes_assignments && is_assignment(text) {
            assignments.push(text.to_string());
            index += 1;
        } else if positionals_left > 0 {
            positionals_left -= 1;
            options_done = true;
            index += 1;
        } else {
            return Some((index, assignments));
        }
    }
    None
}

fn is_assignment(text: &str) -> bool {
    text.split_once('=')
        .is_some_and(|(name, _)| super::parser::is_name(name))
}
