//! A reader that stops early is not an error: every command whose standard output is closed
//! ends with status 0 and no panic message.

mod common;

use common::TestEnv;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// A pipe whose read end is already closed, as `| head -1` leaves it once head has exited.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors were just created and are owned here alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

fn run_with_closed_stdout(env: &TestEnv, args: &[&str]) {
    let output = Command::new(assert_cmd::cargo::cargo_bin("cadre"))
        .args(args)
        .env("CADRE_HOME", env.home())
        .env_remove("OPENAI_API_KEY")
        .current_dir(env.work())
        .stdin(Stdio::null())
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("cadre runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "cadre {args:?} with a closed stdout: {:?}\n{stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "cadre {args:?}: {stderr}");
}

#[test]
fn completion_into_a_closed_pipe_exits_0() {
    let env = TestEnv::new();
    run_with_closed_stdout(&env, &["completion", "zsh"]);
    run_with_closed_stdout(&env, &["completion", "bash"]);
}

#[test]
fn doctor_json_into_a_closed_pipe_exits_0() {
    let env = TestEnv::new();
    run_with_closed_stdout(&env, &["doctor", "--format", "json"]);
    run_with_closed_stdout(&env, &["doctor"]);
}

#[test]
fn help_and_listings_into_a_closed_pipe_exit_0() {
    let env = TestEnv::new();
    run_with_closed_stdout(&env, &["--help"]);
    run_with_closed_stdout(&env, &["--version"]);
    run_with_closed_stdout(&env, &["agents", "list"]);
}

#[test]
fn completion_piped_into_head_exits_0() {
    let env = TestEnv::new();
    let cadre = assert_cmd::cargo::cargo_bin("cadre");
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; '{}' completion zsh | head -1",
            cadre.display()
        ))
        .env("CADRE_HOME", env.home())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
}
