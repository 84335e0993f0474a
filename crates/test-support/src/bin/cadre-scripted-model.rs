//! A scripted model server as a process, for benchmarks and manual runs of cadre.
//!
//! ```text
//! cadre-scripted-model --script FILE [--latency-ms N] [--port N] [--lenient]
//! cadre-scripted-model --mode shell-then-answer [--latency-ms N] [--port N] [--lenient]
//! cadre-scripted-model --mode supervisor-plan [--tasks N] [--latency-ms N] [--port N] [--lenient]
//! ```
//!
//! `--script FILE` plays the replies of FILE, a JSON array of replies in the serde form of
//! `cadre_test_support::model_server::Reply`, one per request, e.g.
//! `[{"kind": "answer", "tool_calls": [{"name": "shell", "arguments": {"command": "ls"}}]},
//!   {"kind": "answer", "text": "Done."}]`; after the last one, requests get HTTP 400.
//!
//! `--mode shell-then-answer` answers every request that carries no tool output yet with one
//! `shell` call (`{"command": "true"}`) and every request that carries one with a short text.
//!
//! `--mode supervisor-plan` plays a whole `cadre supervisor` run: a request that offers
//! `submit_plan` gets a plan of `--tasks N` independent tasks (default 8), one per built-in role
//! in turn; a request that offers `submit_score` gets a score of 7; every other request is
//! answered as in `shell-then-answer`. It prints `plan-request UNIX_NANOS` when a planning
//! request arrives.
//!
//! `--latency-ms N` delays the start of every answer; `--port N` picks the port (0, the default,
//! takes a free one). The server is strict: a request that OpenAI's APIs refuse (a tool call
//! without its output, an output without its call, an empty `input` or no `messages`) gets the
//! same HTTP 400 and error body; `--lenient` answers such requests instead. Once listening it prints `listening on http://127.0.0.1:PORT/v1` and serves
//! until killed.

use cadre_test_support::model_server::{ModelServer, Reply};
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: cadre-scripted-model (--script FILE | --mode shell-then-answer | --mode supervisor-plan [--tasks N]) [--latency-ms N] [--port N] [--lenient]

Requests that OpenAI's APIs refuse (a tool call without its output, an output without its call,
an empty `input` or no `messages`) get the same HTTP 400 and error body; --lenient answers them.";

const BUILTIN_ROLES: [&str; 8] = [
    "CodeExpert",
    "Researcher",
    "Tester",
    "Security",
    "Backend",
    "Frontend",
    "Database",
    "DevOps",
];

enum Source {
    Script(Vec<Reply>),
    ShellThenAnswer,
    SupervisorPlan,
}

struct Options {
    source: Source,
    latency: Duration,
    port: u16,
    tasks: usize,
    lenient: bool,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut source = None;
    let mut latency = Duration::ZERO;
    let mut port = 0;
    let mut tasks = BUILTIN_ROLES.len();
    let mut lenient = false;
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--script" => {
                let path = value("--script")?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|error| format!("cannot read {path}: {error}"))?;
                let replies: Vec<Reply> = serde_json::from_str(&text)
                    .map_err(|error| format!("{path} is not a JSON array of replies: {error}"))?;
                source = Some(Source::Script(replies));
            }
            "--mode" => match value("--mode")?.as_str() {
                "shell-then-answer" => source = Some(Source::ShellThenAnswer),
                "supervisor-plan" => source = Some(Source::SupervisorPlan),
                other => {
                    return Err(format!(
                        "unknown mode `{other}` (known: shell-then-answer, supervisor-plan)"
                    ));
                }
            },
            "--latency-ms" => {
                let millis = value("--latency-ms")?;
                latency = Duration::from_millis(
                    millis
                        .parse()
                        .map_err(|_| format!("--latency-ms takes a number, not `{millis}`"))?,
                );
            }
            "--port" => {
                let number = value("--port")?;
                port = number
                    .parse()
                    .map_err(|_| format!("--port takes a port number, not `{number}`"))?;
            }
            "--tasks" => {
                let number = value("--tasks")?;
                tasks = number
                    .parse()
                    .map_err(|_| format!("--tasks takes a number, not `{number}`"))?;
            }
            "--lenient" => lenient = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let source = source.ok_or_else(|| format!("give --script FILE or --mode\n{USAGE}"))?;
    Ok(Options {
        source,
        latency,
        port,
        tasks,
        lenient,
    })
}

/// `count` independent tasks, one per built-in role in turn.
fn supervisor_plan(count: usize) -> serde_json::Value {
    let tasks: Vec<serde_json::Value> = (1..=count)
        .map(|n| {
            let role = BUILTIN_ROLES[(n - 1) % BUILTIN_ROLES.len()];
            json!({
                "id": format!("t{n}"),
                "title": format!("Task {n} for the {role}"),
                "role": role,
                "prompt": format!("Run `true` in the shell and report (task {n})."),
                "depends_on": [],
            })
        })
        .collect();
    json!({ "tasks": tasks })
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("cadre-scripted-model: {message}");
            return ExitCode::from(2);
        }
    };
    let server = match options.source {
        Source::Script(replies) => ModelServer::start_on(options.port, replies),
        Source::ShellThenAnswer => ModelServer::with_handler_on(options.port, |request| {
            if request.tool_outputs().is_empty() {
                Reply::tool_call("shell", json!({"command": "true"}))
            } else {
                Reply::text("The command ran.")
            }
        }),
        Source::SupervisorPlan => {
            let plan = supervisor_plan(options.tasks);
            ModelServer::with_handler_on(options.port, move |request| {
                let tools = request.tool_names();
                if tools.iter().any(|t| t == "submit_plan") {
                    // For benchmarks: when the planning request arrived.
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default();
                    println!("plan-request {}", now.as_nanos());
                    let _ = std::io::stdout().flush();
                    Reply::tool_call("submit_plan", plan.clone())
                } else if tools.iter().any(|t| t == "submit_score") {
                    Reply::tool_call(
                        "submit_score",
                        json!({"score": 7, "reason": "Meets the criteria."}),
                    )
                } else if request.tool_outputs().is_empty() {
                    Reply::tool_call("shell", json!({"command": "true"}))
                } else {
                    Reply::text("The command ran.")
                }
            })
        }
    }
    .with_latency(options.latency);
    let server = if options.lenient {
        server.lenient()
    } else {
        server
    };
    println!("listening on {}", server.base_url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
