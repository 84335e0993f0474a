//! The `cadre-scripted-model` binary, driven as benchmarks drive it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(address: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

/// Starts the binary with `args` and returns it with the address it listens on.
fn start(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cadre-scripted-model"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let server = Running(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read line");
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));
    let address = base_url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/v1"))
        .expect("http://ADDRESS/v1")
        .to_string();
    (server, address)
}

#[test]
fn lenient_answers_what_strict_refuses() {
    let (server, address) = start(&["--mode", "shell-then-answer", "--port", "0", "--lenient"]);
    let orphan = post(
        &address,
        r#"{"model":"m","messages":[{"role":"user","content":"go"},{"role":"tool","tool_call_id":"call_9","content":"ok"}]}"#,
    );
    assert!(orphan.starts_with("HTTP/1.0 200"), "{orphan}");
    drop(server);
}

#[test]
fn shell_then_answer_mode_calls_shell_until_it_sees_a_tool_output() {
    let (server, address) = start(&[
        "--mode",
        "shell-then-answer",
        "--port",
        "0",
        "--latency-ms",
        "1",
    ]);
    let address = address.as_str();

    let first = post(
        address,
        r#"{"model":"m","messages":[{"role":"user","content":"go"}]}"#,
    );
    assert!(first.contains(r#""name":"shell""#), "{first}");
    assert!(first.contains(r#"\"command\":\"true\""#), "{first}");

    let second = post(
        address,
        r#"{"model":"m","messages":[{"role":"user","content":"go"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"shell","arguments":"{\"command\":\"true\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"}]}"#,
    );
    assert!(second.contains(r#""finish_reason":"stop""#), "{second}");
    assert!(!second.contains("tool_calls"), "{second}");

    // Strict by default: a tool result that answers no call is refused as OpenAI refuses it.
    let orphan = post(
        address,
        r#"{"model":"m","messages":[{"role":"user","content":"go"},{"role":"tool","tool_call_id":"call_9","content":"ok"}]}"#,
    );
    assert!(orphan.starts_with("HTTP/1.0 400"), "{orphan}");
    assert!(orphan.contains("invalid_request_error"), "{orphan}");
    drop(server);
}

#[test]
fn a_bad_script_is_refused_with_a_message() {
    let dir = std::env::temp_dir().join(format!("cadre-scripted-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("bad.json");
    std::fs::write(&script, r#"[{"kind": "nonsense"}]"#).expect("write script");
    let output = Command::new(env!("CARGO_BIN_EXE_cadre-scripted-model"))
        .arg("--script")
        .arg(&script)
        .output()
        .expect("run");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a JSON array of replies"), "{stderr}");
}

#[test]
fn detach_returns_once_the_server_listens_and_the_sandbox_demo_asks_for_two_writes() {
    let output = Command::new(env!("CARGO_BIN_EXE_cadre-scripted-model"))
        .args(["--mode", "sandbox-demo", "--port", "0", "--detach"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let line = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(output.status.success(), "{line}");
    let (base_url, pid) = line
        .strip_prefix("listening on ")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|rest| rest.split_once(" (pid "))
        .unwrap_or_else(|| panic!("unexpected line: {line}"));
    let pid: u32 = pid.parse().expect("a pid");
    /// Stops the detached server this test started.
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("kill").arg(self.0.to_string()).status();
        }
    }
    let _server = Kill(pid);
    let address = base_url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/v1"))
        .expect("http://ADDRESS/v1");
    // No wait, no retry: the server already listens when --detach returns.
    let answer = post(
        address,
        r#"{"model":"m","messages":[{"role":"user","content":"go"}]}"#,
    );
    assert!(answer.contains("target/sandbox-demo.txt"), "{answer}");
    assert!(answer.contains("../cadre-sandbox-demo.txt"), "{answer}");
}
