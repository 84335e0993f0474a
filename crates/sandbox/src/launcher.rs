//! The launcher: runs inside the child process, applies the policy, then execs the command.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

pub(crate) fn main(args: Vec<OsString>) -> ! {
    let mut iter = args.into_iter();
    let mut policy_json = None;
    let mut argv = Vec::new();
    while let Some(arg) = iter.next() {
        if arg == "--policy" {
            policy_json = iter.next();
        } else if arg == "--" {
            argv.extend(iter.by_ref());
        }
    }
    let Some(_policy) = policy_json else {
        fail("missing --policy");
    };
    let Some((program, rest)) = argv.split_first() else {
        fail("missing command after --");
    };
    let err = std::process::Command::new(program).args(rest).exec();
    fail(&format!("cannot run {}: {err}", program.to_string_lossy()));
}

fn fail(message: &str) -> ! {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "cadre sandbox: {message}");
    std::process::exit(126)
}
