//! The rules cadre ships with: common read-only commands are allowed, clearly destructive ones
//! are forbidden, and wrappers defer to the command they run. Everything else is unknown and
//! therefore `ask`.

use crate::evaluation::Decision;
use crate::rule::{Matcher, Rule, fed_by_downloader};
use crate::shell::{SHELLS, SimpleCommand, Word, shell_script_argument};

/// Read-only commands that are safe with any arguments.
const PLAIN_READ_ONLY: &[&str] = &[
    "ls",
    "cat",
    "head",
    "tail",
    "wc",
    "pwd",
    "echo",
    "printf",
    "grep",
    "egrep",
    "fgrep",
    "which",
    "stat",
    "du",
    "df",
    "true",
    "false",
    "cut",
    "tr",
    "diff",
    "uname",
    "basename",
    "dirname",
    "realpath",
    "readlink",
    "whoami",
    "id",
    "nl",
    "tac",
    "column",
    "cmp",
    "comm",
    "paste",
    "fold",
    "rev",
    "seq",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "b2sum",
    "cksum",
    "od",
    "hexdump",
    "strings",
    "jq",
    "test",
    "[",
    "[[",
    "type",
    "sleep",
    "cd",
    "pushd",
    "popd",
    "nproc",
    "uptime",
    "read",
    "free",
    "ps",
    ":",
    "exit",
    "return",
    "break",
    "continue",
    "shift",
    "wait",
];

/// Tools whose `--version` is worth allowing.
const VERSIONED_TOOLS: &[&str] = &[
    "cargo", "rustc", "rustup", "git", "node", "npm", "pnpm", "yarn", "deno", "bun", "python",
    "python3", "pip", "pip3", "go", "java", "javac", "gcc", "g++", "clang", "make", "cmake",
    "ruby", "uv", "docker",
];

/// Wrappers whose own effect is harmless; what they run decides.
const TRANSPARENT_WRAPPERS: &[&str] = &[
    "time", "nice", "nohup", "timeout", "env", "command", "exec", "builtin", "stdbuf", "ionice",
];

/// Interpreters that run a script read from their input.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "python", "python3", "perl", "ruby",
    "node", "php", "eval", "source", ".",
];

/// Devices whose contents are a disk.
const BLOCK_DEVICE_PREFIXES: &[&str] = &[
    "/dev/sd",
    "/dev/hd",
    "/dev/vd",
    "/dev/xvd",
    "/dev/nvme",
    "/dev/mmcblk",
    "/dev/disk",
    "/dev/dm-",
    "/dev/md",
    "/dev/mapper/",
    "/dev/loop",
];

/// Directories whose recursive removal or permission change wrecks the system.
const SYSTEM_DIRECTORIES: &[&str] = &[
    "/",
    "~",
    "$HOME",
    "${HOME}",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
    "/Users",
    "/System",
    "/Library",
    "/Applications",
];

fn rule(id: &str, decision: Decision, reason: &str, matcher: Matcher) -> Rule {
    Rule {
        id: id.to_string(),
        decision,
        reason: reason.to_string(),
        matcher,
        writes_file: None,
        piped_from_downloader: None,
        transparent: false,
    }
}

fn builtin(programs: &[&'static str], check: fn(&SimpleCommand) -> bool) -> Matcher {
    Matcher::Builtin {
        programs: programs.to_vec(),
        check,
    }
}

fn any_args(_: &SimpleCommand) -> bool {
    true
}

/// All built-in rules, forbids first.
pub(crate) fn builtin_rules() -> Vec<Rule> {
    let forbid = Decision::Forbid;
    let allow = Decision::Allow;
    let ask = Decision::Ask;
    let mut rules = vec![
        rule(
            "builtin:forbid:rm-root",
            forbid,
            "recursively deletes the root, home or a system directory",
            builtin(&["rm"], removes_system_directory),
        ),
        rule(
            "builtin:forbid:chmod-root",
            forbid,
            "recursively changes permissions or owners of the root, home or a system directory",
            builtin(&["chmod", "chown", "chgrp"], recursive_on_system_directory),
        ),
        rule(
            "builtin:forbid:format-disk",
            forbid,
            "formats or wipes a disk",
            builtin(&[], |command| {
                command.program().is_some_and(|program| {
                    program.starts_with("mkfs") || matches!(program, "mke2fs" | "mkswap" | "wipefs")
                })
            }),
        ),
        rule(
            "builtin:forbid:dd-device",
            forbid,
            "`dd` writes directly to a device",
            builtin(&["dd"], |command| {
                command.args().iter().any(|arg| {
                    arg.text.strip_prefix("of=").is_some_and(|target| {
                        target.starts_with("/dev/") && !is_harmless_device(target)
                    })
                })
            }),
        ),
        rule(
            "builtin:forbid:write-block-device",
            forbid,
            "writes to a disk device",
            builtin(&[], writes_block_device),
        ),
        rule(
            "builtin:forbid:fork-bomb",
            forbid,
            "a function that calls itself in a pipeline or in the background (fork bomb)",
            builtin(&[], |command| {
                command.in_function.is_some()
                    && command.in_function.as_deref()
                        == command.words.first().map(|w| w.text.as_str())
                    && (command.in_pipeline || command.background)
            }),
        ),
        rule(
            "builtin:forbid:download-to-shell",
            forbid,
            "runs code downloaded from the network",
            builtin(INTERPRETERS, runs_downloaded_code),
        ),
        rule(
            "builtin:forbid:power",
            forbid,
            "shuts down or reboots the machine",
            builtin(
                &[
                    "shutdown",
                    "reboot",
                    "halt",
                    "poweroff",
                    "init",
                    "systemctl",
                    "telinit",
                ],
                |command| match command.program() {
                    Some("init" | "telinit") => command
                        .args()
                        .iter()
                        .any(|a| a.text == "0" || a.text == "6"),
                    Some("systemctl") => command.args().iter().any(|a| {
                        matches!(
                            a.text.as_str(),
                            "poweroff" | "reboot" | "halt" | "kexec" | "suspend" | "hibernate"
                        )
                    }),
                    _ => true,
                },
            ),
        ),
        rule(
            "builtin:ask:privilege",
            ask,
            "runs a command as another user",
            builtin(&["sudo", "doas", "su", "pkexec"], any_args),
        ),
        rule(
            "builtin:ask:xargs",
            ask,
            "`xargs` adds arguments read from its input",
            builtin(&["xargs"], any_args),
        ),
        rule(
            "builtin:ask:eval",
            ask,
            "runs a string as a script, which cadre cannot inspect",
            builtin(&["eval", "source", "."], any_args),
        ),
        rule(
            "builtin:ask:dynamic-script",
            ask,
            "the shell script is computed at run time, so cadre cannot inspect it",
            builtin(SHELLS, |command| {
                shell_script_argument(command).is_some_and(|script| !script.literal)
            }),
        ),
        rule(
            "builtin:ask:print-env",
            ask,
            "prints environment variables, which may hold secrets",
            builtin(
                &["env", "printenv", "export", "set", "declare"],
                |command| command.args().is_empty(),
            ),
        ),
        rule(
            "builtin:assignment",
            allow,
            "sets shell variables",
            builtin(&[], |command| command.words.is_empty()),
        ),
        rule(
            "builtin:read-only:export",
            allow,
            "sets shell variables",
            builtin(
                &["export", "local", "declare", "readonly", "typeset"],
                |command| {
                    command.args().iter().all(|arg| {
                        arg.literal
                            && (arg.text.starts_with('-')
                                || !crate::assignments::is_risky_assignment(&arg.text))
                    })
                },
            ),
        ),
        rule(
            "builtin:read-only:set",
            allow,
            "sets shell options",
            builtin(&["set"], |command| {
                !command.args().is_empty()
                    && command.args().iter().all(|arg| {
                        arg.text.starts_with('-')
                            || arg.text.starts_with('+')
                            || arg.text.chars().all(|c| c.is_ascii_lowercase())
                    })
            }),
        ),
        rule(
            "builtin:shell:script",
            allow,
            "runs a script that cadre checked command by command",
            builtin(SHELLS, |command| {
                shell_script_argument(command).is_some_and(|script| script.literal)
            }),
        ),
        rule(
            "builtin:read-only:version",
            allow,
            "prints a tool's version",
            builtin(VERSIONED_TOOLS, |command| {
                let args: Vec<&str> = command.args().iter().map(|arg| arg.text.as_str()).collect();
                matches!(args.as_slice(), ["--version"] | ["-V"] | ["version"])
            }),
        ),
        rule(
            "builtin:read-only:command-lookup",
            allow,
            "looks up where a command is",
            builtin(&["command", "type", "hash"], |command| {
                command
                    .args()
                    .iter()
                    .any(|arg| matches!(arg.text.as_str(), "-v" | "-V" | "-t"))
            }),
        ),
    ];
    for &wrapper in TRANSPARENT_WRAPPERS {
        let mut wrapper_rule = rule(
            &format!("builtin:wrapper:{wrapper}"),
            allow,
            "runs the command it wraps, which is checked on its own",
            Matcher::Prefix(vec![wrapper.to_string()]),
        );
        wrapper_rule.transparent = true;
        rules.push(wrapper_rule);
    }
    if let Some(shell_rule) = rules.iter_mut().find(|r| r.id == "builtin:shell:script") {
        shell_rule.transparent = true;
    }
    for &program in PLAIN_READ_ONLY {
        rules.push(read_only(program, any_args));
    }
    rules.extend([
        read_only("find", |c| {
            !has_any_arg(
                c,
                &[
                    "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0",
                    "-fprintf", "-fls",
                ],
            )
        }),
        read_only("sed", sed_is_read_only),
        read_only("rg", |c| {
            !c.args()
                .iter()
                .any(|arg| arg.text == "--pre" || arg.text.starts_with("--pre="))
        }),
        read_only("sort", |c| {
            !c.args().iter().any(|arg| {
                let text = arg.text.as_str();
                text.starts_with("--output")
                    || text.starts_with("--compress-program")
                    || is_short_option_with(text, 'o')
            })
        }),
        read_only("uniq", |c| positionals(c.args()).count() <= 1),
        read_only("tree", |c| !c.args().iter().any(|arg| arg.text == "-o")),
        read_only("date", |c| {
            !c.args()
                .iter()
                .any(|arg| arg.text == "-s" || arg.text.starts_with("--set"))
                && positionals(c.args()).all(|arg| arg.text.starts_with('+'))
        }),
        read_only("file", |c| {
            !c.args()
                .iter()
                .any(|arg| arg.text == "-C" || arg.text == "--compile")
        }),
        read_only("hostname", |c| {
            c.args().iter().all(|arg| arg.text.starts_with('-'))
        }),
    ]);
    for (subcommand, check) in GIT_READ_ONLY {
        rules.push(rule(
            &format!("builtin:read-only:git-{subcommand}"),
            allow,
            "read-only git command",
            builtin(&["git"], *check),
        ));
    }
    rules
}

type GitCheck = fn(&SimpleCommand) -> bool;

const GIT_READ_ONLY: &[(&str, GitCheck)] = &[
    ("status", |c| git_read_only(c, "status")),
    ("diff", |c| git_read_only(c, "diff")),
    ("log", |c| git_read_only(c, "log")),
    ("show", |c| git_read_only(c, "show")),
    ("branch", |c| {
        git_read_only(c, "branch") && git_branch_lists(c)
    }),
    ("rev-parse", |c| git_read_only(c, "rev-parse")),
    ("ls-files", |c| git_read_only(c, "ls-files")),
    ("blame", |c| git_read_only(c, "blame")),
    ("describe", |c| git_read_only(c, "describe")),
];

fn read_only(program: &'static str, check: fn(&SimpleCommand) -> bool) -> Rule {
    rule(
        &format!("builtin:read-only:{program}"),
        Decision::Allow,
        "read-only command",
        builtin(&[program], check),
    )
}

fn is_harmless_device(target: &str) -> bool {
    matches!(
        target,
        "/dev/null" | "/dev/zero" | "/dev/stdout" | "/dev/stderr" | "/dev/tty"
    )
}

fn is_block_device(path: &str) -> bool {
    BLOCK_DEVICE_PREFIXES
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn writes_block_device(command: &SimpleCommand) -> bool {
    command
        .file_writes()
        .any(|redirect| is_block_device(&redirect.target))
        || (matches!(
            command.program(),
            Some("tee" | "cp" | "mv" | "cat" | "install" | "shred")
        ) && command.args().iter().any(|arg| is_block_device(&arg.text)))
}

fn has_any_arg(command: &SimpleCommand, flags: &[&str]) -> bool {
    command
        .args()
        .iter()
        .any(|arg| flags.contains(&arg.text.as_str()))
}

/// True for `-x` style option clusters containing `letter` (`-rf` contains `r`).
fn is_short_option_with(text: &str, letter: char) -> bool {
    text.len() > 1 && text.starts_with('-') && !text.starts_with("--") && text[1..].contains(letter)
}

fn positionals(args: &[Word]) -> impl Iterator<Item = &Word> {
    let mut options_done = false;
    args.iter().filter(move |arg| {
        if options_done {
            return true;
        }
        if arg.text == "--" {
            options_done = true;
            return false;
        }
        !(arg.text.starts_with('-') && arg.text.len() > 1)
    })
}

/// `/`, `/*`, `~/`, `$HOME/.` and system directories, however they are spelled.
fn is_system_directory(target: &str) -> bool {
    let mut path = target;
    loop {
        let trimmed = path
            .strip_suffix("/*")
            .or_else(|| path.strip_suffix("/."))
            .or_else(|| path.strip_suffix('/').filter(|rest| !rest.is_empty()))
            .or_else(|| path.strip_suffix('*').filter(|rest| rest.ends_with('/')));
        match trimmed {
            Some(shorter) if !shorter.is_empty() => path = shorter,
            Some(_) => return true,
            None => break,
        }
    }
    if path.chars().all(|c| c == '/') {
        return true;
    }
    SYSTEM_DIRECTORIES.contains(&path)
}

fn removes_system_directory(command: &SimpleCommand) -> bool {
    let args = command.args();
    let recursive = args.iter().any(|arg| {
        arg.text == "--recursive"
            || is_short_option_with(&arg.text, 'r')
            || is_short_option_with(&arg.text, 'R')
    });
    let no_preserve_root = args.iter().any(|arg| arg.text == "--no-preserve-root");
    no_preserve_root || (recursive && positionals(args).any(|arg| is_system_directory(&arg.text)))
}

fn recursive_on_system_directory(command: &SimpleCommand) -> bool {
    let args = command.args();
    let recursive = args
        .iter()
        .any(|arg| arg.text == "--recursive" || is_short_option_with(&arg.text, 'R'));
    // The first positional is the mode or owner; the rest are paths.
    recursive
        && positionals(args)
            .skip(1)
            .any(|arg| is_system_directory(&arg.text))
}

/// An interpreter that reads its program from a downloader: `curl ... | sh`,
/// `bash -c "$(curl ...)"`, `eval "$(wget -O- ...)"`.
fn runs_downloaded_code(command: &SimpleCommand) -> bool {
    if !fed_by_downloader(command) {
        return false;
    }
    let Some(program) = command.program() else {
        return false;
    };
    if matches!(program, "eval" | "source" | ".") {
        return true;
    }
    if SHELLS.contains(&program) && shell_script_argument(command).is_some() {
        // `sh -c SCRIPT`: dangerous when the script itself is what was downloaded.
        return shell_script_argument(command).is_some_and(|script| !script.literal);
    }
    // Code passed inline and computed at run time: `python3 -c "$(curl ...)"`.
    let args = command.args();
    let inline_code = args.windows(2).any(|pair| {
        matches!(pair[0].text.as_str(), "-c" | "-e" | "-E" | "--eval" | "-r") && !pair[1].literal
    });
    if inline_code {
        return true;
    }
    // Reading the program from stdin: no script file, or an explicit `-`/`-s`.
    let mut positional = positionals(command.args());
    let reads_stdin_flag = command
        .args()
        .iter()
        .any(|arg| arg.text == "-" || arg.text == "-s");
    reads_stdin_flag || positional.next().is_none()
}

fn git_subcommand(command: &SimpleCommand) -> Option<(&str, &[Word])> {
    let args = command.args();
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        match arg.text.as_str() {
            "--no-pager" | "-P" | "--no-optional-locks" | "--literal-pathspecs" => index += 1,
            "-C" => index += 2,
            text if text.starts_with('-') => return None,
            text => return Some((text, &args[index + 1..])),
        }
    }
    None
}

fn git_read_only(command: &SimpleCommand, subcommand: &str) -> bool {
    let Some((found, rest)) = git_subcommand(command) else {
        return false;
    };
    found == subcommand
        && !rest.iter().any(|arg| {
            let text = arg.text.as_str();
            text.starts_with("--output") || text == "--ext-diff" || text.starts_with("--exec")
        })
}

/// `git branch` with only listing options.
fn git_branch_lists(command: &SimpleCommand) -> bool {
    let Some((_, rest)) = git_subcommand(command) else {
        return false;
    };
    const LISTING: &[&str] = &[
        "-a",
        "--all",
        "-r",
        "--remotes",
        "-v",
        "-vv",
        "--verbose",
        "--show-current",
        "--no-color",
        "--color",
        "-l",
        "--list",
        "--merged",
        "--no-merged",
        "--contains",
        "--sort",
    ];
    let is_listing_flag = |text: &str| {
        LISTING.contains(&text)
            || [
                "--sort=",
                "--format=",
                "--color=",
                "--contains=",
                "--merged=",
            ]
            .iter()
            .any(|p| text.starts_with(p))
    };
    let names_allowed = rest.iter().any(|arg| {
        matches!(
            arg.text.as_str(),
            "-l" | "--list" | "--merged" | "--no-merged" | "--contains"
        )
    });
    rest.iter().all(|arg| {
        if arg.text.starts_with('-') {
            is_listing_flag(&arg.text)
        } else {
            names_allowed
        }
    })
}

/// `sed -n` with only printing commands: no `-i`, no script file, no `w`/`e` commands.
fn sed_is_read_only(command: &SimpleCommand) -> bool {
    let args = command.args();
    let mut quiet = false;
    let mut scripts: Vec<&str> = Vec::new();
    let mut expect_script = false;
    let mut saw_expression = false;
    let mut first_positional: Option<&str> = None;
    for arg in args {
        let text = arg.text.as_str();
        if expect_script {
            scripts.push(text);
            expect_script = false;
            continue;
        }
        match text {
            "-n" | "--quiet" | "--silent" => quiet = true,
            "-e" | "--expression" => {
                expect_script = true;
                saw_expression = true;
            }
            "-E" | "-r" | "--regexp-extended" | "-s" | "--separate" | "-u" | "--unbuffered"
            | "-z" | "--null-data" | "--posix" | "--debug" | "--sandbox" => {}
            _ if text.starts_with("--expression=") => {
                scripts.push(&text["--expression=".len()..]);
                saw_expression = true;
            }
            _ if text.starts_with('-') && text.len() > 1 => {
                // Clusters like `-nE` are fine; anything with `i` (in place) or `f` (script file)
                // is not.
                let letters = &text[1..];
                if text.starts_with("--") || !letters.chars().all(|c| "nErsuz".contains(c)) {
                    return false;
                }
                quiet |= letters.contains('n');
            }
            _ => {
                if first_positional.is_none() {
                    first_positional = Some(text);
                }
            }
        }
    }
    if !saw_expression && let Some(script) = first_positional {
        scripts.push(script);
    }
    quiet && !scripts.is_empty() && scripts.iter().all(|script| sed_script_only_prints(script))
}

/// Accepts addresses (numbers, `$`, `/regex/`, ranges) followed by `p`, `=`, `l`, `q`, `{`, `}`,
/// `!`, `;` or `d`; rejects anything else (`w`, `e`, `s///w`, `r`...).
fn sed_script_only_prints(script: &str) -> bool {
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' => {
                // A regex address: skip to the closing unescaped slash.
                let mut closed = false;
                while let Some(inner) = chars.next() {
                    if inner == '\\' {
                        chars.next();
                    } else if inner == '/' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return false;
                }
            }
            c if c.is_ascii_digit() => {}
            '$' | ',' | '~' | '+' | '!' | ';' | '{' | '}' | ' ' | '\n' | '\t' | 'p' | 'P' | '='
            | 'l' | 'q' | 'Q' | 'd' | 'I' | 'n' => {}
            _ => return false,
        }
    }
    true
}
