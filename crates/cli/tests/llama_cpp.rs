//! Conformance with a real llama.cpp server: llama.cpp's own HTTP server (from the xllamacpp
//! wheel) serving SmolLM2-135M-Instruct at temperature 0, with `--jinja` and a chat template that
//! supports tools, started by each test on 127.0.0.1 behind a recording proxy.
//!
//! The model is tiny, so prompts tell it the exact text to write, and the tests assert on the
//! wire (what cadre sent, what it got, what it did with it), not on the model's judgement.
//!
//! The Python environment comes from `.ci/llama-venv.sh` (`CADRE_LLAMA_VENV`, default
//! `target/llama-venv`). Without it the tests print a note and pass, unless
//! `CADRE_LLAMA_REQUIRED=1` (set by `.ci/run`), where a missing server is a failure.

mod common;

use common::{TestEnv, jsonl};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One server at a time: the machine's cores are the bottleneck.
static SERIAL: Mutex<()> = Mutex::new(());

/// What a model would write to call `read_file` in the template's format.
const CALL_READ_FILE: &str = "Reply with exactly this text and nothing else:\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"README.md\"}}\n</tool_call>";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn venv() -> Option<PathBuf> {
    let venv = std::env::var_os("CADRE_LLAMA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/llama-venv"));
    if venv.join("bin/python").is_file() {
        return Some(venv);
    }
    if std::env::var("CADRE_LLAMA_REQUIRED").as_deref() == Ok("1") {
        panic!(
            "CADRE_LLAMA_REQUIRED=1 but there is no llama.cpp environment at {}; run .ci/llama-venv.sh",
            venv.display()
        );
    }
    // Straight to stderr, past the test harness's capture, so the skip is seen; once per run.
    static NOTE: std::sync::Once = std::sync::Once::new();
    NOTE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "note: skipping the llama.cpp conformance tests: no environment at {} (run .ci/llama-venv.sh)",
            venv.display()
        );
    });
    None
}

/// llama.cpp's server, killed (with its process group) when dropped.
struct LlamaServer {
    child: Child,
    port: u16,
}

impl LlamaServer {
    fn start(n_ctx: u32) -> Option<LlamaServer> {
        let venv = venv()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/llama_cpp");
        let mut command = std::process::Command::new(venv.join("bin/python"));
        command
            .arg(dir.join("serve.py"))
            .arg(port.to_string())
            .arg(n_ctx.to_string())
            .arg(dir.join("chatml-tools.jinja"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("start the llama.cpp server");
        let server = LlamaServer { child, port };
        server.wait_ready();
        Some(server)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some((status, _)) = http_get(self.port, "/health")
                && status == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the llama.cpp server did not become ready on port {}",
            self.port
        );
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this test created.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

/// One request cadre made and the answer it got, as they crossed the wire.
#[derive(Debug, Clone)]
struct Exchange {
    method: String,
    path: String,
    request: Value,
    status: u16,
    response: String,
}

impl Exchange {
    fn is_model_request(&self) -> bool {
        self.method == "POST"
            && (self.path.ends_with("/chat/completions") || self.path.ends_with("/responses"))
    }

    /// The JSON payloads of the SSE `data:` lines of the answer.
    fn sse_data(&self) -> Vec<Value> {
        self.response
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter_map(|data| serde_json::from_str(data).ok())
            .collect()
    }
}

/// A recording HTTP proxy in front of the server: every exchange is kept, byte for byte.
struct Proxy {
    port: u16,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

impl Proxy {
    fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let log = exchanges.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let log = log.clone();
                std::thread::spawn(move || {
                    if let Some(exchange) = relay(client, upstream) {
                        log.lock().unwrap().push(exchange);
                    }
                });
            }
        });
        Proxy { port, exchanges }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    fn model_exchanges(&self) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.is_model_request())
            .cloned()
            .collect()
    }
}

/// Relays one request (forcing `Connection: close`, so one connection carries one exchange).
fn relay(client: TcpStream, upstream: u16) -> Option<Exchange> {
    let mut reader = BufReader::new(client.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        if !lower.starts_with("connection:") {
            headers.push(line);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    let mut head = request_line.trim_end().to_string() + "\r\n";
    for header in &headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    server.write_all(head.as_bytes()).ok()?;
    server.write_all(&body).ok()?;
    let mut client = client;
    let mut response = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match server.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                response.extend_from_slice(&buffer[..n]);
                if client.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let response = String::from_utf8_lossy(&response).into_owned();
    let mut words = request_line.split_whitespace();
    Some(Exchange {
        method: words.next()?.to_string(),
        path: words.next()?.to_string(),
        request: serde_json::from_slice(&body).unwrap_or(Value::Null),
        status: response.split_whitespace().nth(1)?.parse().ok()?,
        response,
    })
}

/// A cadre home pointing at the proxy, with timeouts for a slow CPU-only model.
fn configure(env: &TestEnv, proxy: &Proxy, wire: &str, extra: &str) {
    let config = format!(
        "model = \"smollm2\"\nmodel_provider = \"llama\"\n{extra}\n[model_providers.llama]\nname = \"llama.cpp\"\nbase_url = \"{}\"\nwire_api = \"{wire}\"\nrequest_max_retries = 4\nstream_idle_timeout_ms = 600000\n",
        proxy.base_url()
    );
    std::fs::write(env.home().join("config.toml"), config).unwrap();
}

fn exec(env: &TestEnv, prompt: &str) -> std::process::Output {
    env.cadre()
        .args(["exec", "--json", prompt])
        .timeout(Duration::from_secs(900))
        .output()
        .unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `(call_id, name, arguments)` of the function call in a streamed answer.
fn called_tool(exchange: &Exchange, wire: &str) -> (String, String, String) {
    let data = exchange.sse_data();
    if wire == "responses" {
        let item = data
            .iter()
            .find(|d| {
                d["type"] == "response.output_item.done" && d["item"]["type"] == "function_call"
            })
            .unwrap_or_else(|| panic!("no function call: {}", exchange.response));
        let text = |field: &str| item["item"][field].as_str().unwrap_or_default().to_string();
        return (text("call_id"), text("name"), text("arguments"));
    }
    let (mut id, mut name, mut arguments) = (String::new(), String::new(), String::new());
    for call in data
        .iter()
        .filter_map(|d| d.pointer("/choices/0/delta/tool_calls/0"))
    {
        if let Some(value) = call["id"].as_str() {
            id = value.to_string();
        }
        if let Some(value) = call.pointer("/function/name").and_then(Value::as_str) {
            name.push_str(value);
        }
        if let Some(value) = call.pointer("/function/arguments").and_then(Value::as_str) {
            arguments.push_str(value);
        }
    }
    assert!(!name.is_empty(), "no function call: {}", exchange.response);
    (id, name, arguments)
}

/// `(call_id, output)` of the function call output in a request.
fn tool_output(request: &Value, wire: &str) -> (String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    if wire == "responses" {
        let item = request["input"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["type"] == "function_call_output")
            .unwrap_or_else(|| panic!("no call output: {request}"));
        return (text(&item["call_id"]), text(&item["output"]));
    }
    let message = request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap_or_else(|| panic!("no tool message: {request}"));
    (text(&message["tool_call_id"]), text(&message["content"]))
}

fn check_tool_loop(wire: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let Some(server) = LlamaServer::start(4096) else {
        return;
    };
    let proxy = Proxy::start(server.port);
    let env = TestEnv::new();
    std::fs::write(env.work().join("README.md"), "cadre-conformance-marker\n").unwrap();
    configure(
        &env,
        &proxy,
        wire,
        "model_max_output_tokens = 48\n[limits]\nmax_model_calls_per_turn = 2",
    );
    let out = exec(&env, CALL_READ_FILE);
    let events = jsonl(&out.stdout);
    let exchanges = proxy.model_exchanges();
    assert_eq!(
        exchanges.len(),
        2,
        "{wire}: {exchanges:#?}\n{}",
        stderr(&out)
    );

    let first = &exchanges[0];
    assert_eq!(first.status, 200, "{wire}: {}", first.response);
    let cap = if wire == "chat" {
        "max_tokens"
    } else {
        "max_output_tokens"
    };
    assert_eq!(first.request[cap], 48, "{wire}");
    let instructions = if wire == "chat" {
        &first.request["messages"][0]["content"]
    } else {
        &first.request["instructions"]
    };
    assert!(
        instructions.as_str().is_some_and(
            |i| i.starts_with("You are cadre, a coding agent in the user's repository.")
        ),
        "{wire}: a 4K window gets the compact prompt: {instructions}"
    );
    // The model is tiny: it may pick a neighbouring tool (list_dir for read_file). What matters
    // is that cadre runs the call the server sent and sends its result back.
    let (call_id, tool, arguments) = called_tool(first, wire);
    let arguments: Value = serde_json::from_str(&arguments)
        .unwrap_or_else(|e| panic!("{wire}: the server sent JSON arguments ({e}): {arguments}"));
    assert!(
        ["read_file", "list_dir", "grep"].contains(&tool.as_str()),
        "{wire}: {tool}"
    );

    // What cadre did with the call: ran it and said so.
    let item = events
        .iter()
        .find(|e| e["type"] == "item.completed" && e["item"]["type"] == "mcp_tool_call")
        .unwrap_or_else(|| panic!("{wire}: no tool call item: {events:#?}"));
    assert_eq!(item["item"]["tool"], tool.as_str());
    assert_eq!(item["item"]["arguments"], arguments);
    let reported = item["item"]["result"]["content"][0]["text"]
        .as_str()
        .or_else(|| item["item"]["error"]["message"].as_str())
        .unwrap_or_else(|| panic!("{wire}: {item}"));

    // What cadre sent back: that result, as the output of that call.
    let (output_call, output) = tool_output(&exchanges[1].request, wire);
    assert_eq!(output_call, call_id, "{wire}");
    assert_eq!(output, reported, "{wire}");
    if tool == "read_file" {
        assert!(
            output.contains("cadre-conformance-marker"),
            "{wire}: {output}"
        );
    }
    assert_eq!(
        exchanges[1].status, 200,
        "{wire}: {}",
        exchanges[1].response
    );
    eprintln!(
        "{wire} tool loop: {:.1}s; first request {} bytes (compact prompt)",
        started.elapsed().as_secs_f64(),
        serde_json::to_string(&first.request).unwrap().len()
    );
}

#[test]
fn a_tool_loop_on_the_chat_wire() {
    check_tool_loop("chat");
}

#[test]
fn a_tool_loop_on_the_responses_wire() {
    check_tool_loop("responses");
}

#[test]
fn a_streamed_text_answer_and_the_window_in_doctor() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let Some(server) = LlamaServer::start(4096) else {
        return;
    };
    let proxy = Proxy::start(server.port);
    let env = TestEnv::new();
    configure(&env, &proxy, "chat", "model_max_output_tokens = 12");

    let doctor = env
        .cadre()
        .args(["doctor", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert_eq!(
        report["model_window"]["context_window"],
        serde_json::json!({"tokens": 4096, "source": "llama_cpp"})
    );
    assert_eq!(report["model_window"]["compact_prompt"], true);

    let out = exec(&env, "Reply with exactly: Hello from the test.");
    let exchanges = proxy.model_exchanges();
    assert_eq!(exchanges.len(), 1, "{exchanges:#?}\n{}", stderr(&out));
    let answer = &exchanges[0];
    assert_eq!(answer.request["stream"], true);
    assert!(
        answer
            .response
            .to_ascii_lowercase()
            .contains("text/event-stream"),
        "{}",
        answer.response
    );
    let deltas: Vec<String> = answer
        .sse_data()
        .iter()
        .filter_map(|chunk| chunk.pointer("/choices/0/delta/content"))
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    assert!(deltas.len() > 1, "streamed in pieces: {deltas:?}");
    let events = jsonl(&out.stdout);
    let message = events
        .iter()
        .find(|e| e["item"]["type"] == "agent_message")
        .unwrap_or_else(|| panic!("no agent message: {events:#?}"));
    assert_eq!(message["item"]["text"], deltas.concat());
    let usage = &events.last().unwrap()["usage"];
    assert!(usage["input_tokens"].as_u64().unwrap() > 0, "{usage}");
    eprintln!(
        "streamed answer: {:.1}s; compact first request: {} input tokens",
        started.elapsed().as_secs_f64(),
        usage["input_tokens"]
    );
}

#[test]
fn a_too_small_context_is_recognised_as_overflow() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let Some(server) = LlamaServer::start(1024) else {
        return;
    };
    let proxy = Proxy::start(server.port);
    let env = TestEnv::new();
    // A configured large window: cadre sends its full prompt, which a 1K context cannot take.
    configure(&env, &proxy, "chat", "model_context_window = 65536");
    let out = exec(&env, "Say hi.");
    assert!(!out.status.success());
    let exchanges = proxy.model_exchanges();
    assert_eq!(
        exchanges.len(),
        1,
        "an overflow is not retried: {exchanges:#?}"
    );
    assert!(
        exchanges[0].response.contains("exceed_context_size_error"),
        "{}",
        exchanges[0].response
    );
    let events = jsonl(&out.stdout);
    let failed = events
        .iter()
        .find(|e| e["type"] == "turn.failed")
        .unwrap_or_else(|| panic!("{events:#?}"));
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("longer than the model's context window"),
        "{message}"
    );
    assert!(message.contains("--ctx-size"), "{message}");
    let body = exchanges[0]
        .response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default();
    eprintln!(
        "overflow: {:.1}s; full first request: {} bytes, server said: {}",
        started.elapsed().as_secs_f64(),
        serde_json::to_string(&exchanges[0].request).unwrap().len(),
        body.trim()
    );
}

#[test]
fn a_truncated_call_is_handled_without_a_500_loop() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let Some(server) = LlamaServer::start(4096) else {
        return;
    };
    let proxy = Proxy::start(server.port);
    let env = TestEnv::new();
    // 22 tokens end the answer inside the arguments: `{"path": "READ`.
    configure(
        &env,
        &proxy,
        "chat",
        "model_max_output_tokens = 22\n[limits]\nmax_model_calls_per_turn = 3",
    );
    let out = exec(&env, CALL_READ_FILE);
    let exchanges = proxy.model_exchanges();
    assert!(
        (2..=3).contains(&exchanges.len()),
        "told the model, then stopped: {exchanges:#?}\n{}",
        stderr(&out)
    );
    for exchange in &exchanges {
        assert_eq!(exchange.status, 200, "no 500: {}", exchange.response);
    }
    let finish: Vec<String> = exchanges[0]
        .sse_data()
        .iter()
        .filter_map(|c| c.pointer("/choices/0/finish_reason"))
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    assert_eq!(finish, vec!["length"], "{}", exchanges[0].response);

    // The cut-off call went back as a failed call with valid JSON arguments.
    let second = &exchanges[1].request;
    let messages = second["messages"].as_array().unwrap();
    let call = messages
        .iter()
        .find_map(|m| m.pointer("/tool_calls/0/function/arguments"))
        .unwrap_or_else(|| panic!("{second}"));
    assert_eq!(call, "{}");
    let result = messages
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap_or_else(|| panic!("{second}"));
    assert!(
        result["content"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{result}"
    );

    // And cadre said so, in --json.
    let events = jsonl(&out.stdout);
    assert!(
        events.iter().any(|e| e["item"]["type"] == "error"
            && e["item"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("cut off at the output limit (22 tokens)"))),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["item"]["type"] == "mcp_tool_call" && e["item"]["status"] == "failed"),
        "{events:#?}"
    );
    assert!(!stderr(&out).contains("gave up after"), "{}", stderr(&out));
    eprintln!(
        "truncated call: {:.1}s, {} model requests",
        started.elapsed().as_secs_f64(),
        exchanges.len()
    );
}
