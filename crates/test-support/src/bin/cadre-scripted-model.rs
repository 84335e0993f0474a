//! A scripted model server as a process, for benchmarks and manual runs of cadre.
//!
//! ```text
//! cadre-scripted-model --script FILE [--latency-ms N] [--port N] [--lenient]
//! cadre-scripted-model --mode shell-then-answer [--latency-ms N] [--port N] [--lenient]
//! cadre-scripted-model --mode supervisor-plan [--tasks N] [--latency-ms N] [--port N] [--lenient]
//! cadre-scripted-model --mode sandbox-demo [--port N] [--detach]
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
//! `--mode sandbox-demo` is the README's first look at the sandbox: it asks for one `shell` call
//! that writes a file inside the workspace (`target/sandbox-demo.txt`) and then one outside it
//! (`../cadre-sandbox-demo.txt`), and once the output is back says whether the sandbox refused
//! the second write.
//!
//! `--detach` returns once the server listens, leaving it running in the background (it prints
//! `listening on URL (pid N)`); a detached server exits after 60 s without a request.
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

const USAGE: &str = "usage: cadre-scripted-model (--script FILE | --mode shell-then-answer | --mode supervisor-plan [--tasks N] | --mode sandbox-demo) [--latency-ms N] [--port N] [--detach] [--lenient]

Requests that OpenAI's APIs refuse (a tool call without its output, an output without its call,
an empty `input` or no `messages`) get the same HTTP 400 and error body; --lenient answers them.";

/// Set in the environment of the server a `--detach` run starts.
const DETACHED_ENV: &str = "CADRE_SCRIPTED_MODEL_DETACHED";
/// A detached server with no request for this long exits, so it never holds its port for good.
const DETACHED_IDLE_EXIT: Duration = Duration::from_secs(60);

/// The sandbox demo's command: a write the workspace profiles allow, then one they refuse.
const SANDBOX_DEMO_COMMAND: &str = "echo 'written inside the workspace' > target/sandbox-demo.txt && cat target/sandbox-demo.txt && echo 'written outside' > ../cadre-sandbox-demo.txt";

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
    SandboxDemo,
}

struct Options {
    source: Source,
    latency: Duration,
    port: u16,
    tasks: usize,
    lenient: bool,
    detach: bool,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut source = None;
    let mut latency = Duration::ZERO;
    let mut port = 0;
    let mut tasks = BUILTIN_ROLES.len();
    let mut lenient = false;
    let mut detach = false;
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
                "sandbox-demo" => source = Some(Source::SandboxDemo),
                other => {
                    return Err(format!(
                        "unknown mode `{other}` (known: shell-then-answer, supervisor-plan, sandbox-demo)"
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
            "--detach" => detach = true,
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
        detach,
    })
}

/// Starts this program again without `--detach`, waits until that server listens, prints its
/// address and pid, and returns, leaving it running.
fn detach() -> ExitCode {
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => {
            eprintln!("cadre-scripted-model: cannot find this program to start it: {error}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--detach")
        .collect();
    let mut child = match std::process::Command::new(program)
        .args(args)
        .env(DETACHED_ENV, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        // Nothing of the caller's may stay open in the server: a caller that reads this
        // command's output to its end (`$(...)`, a pipe) must not wait for the server to exit.
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            eprintln!("cadre-scripted-model: cannot start the server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
    }
    match line.trim().strip_prefix("listening on ") {
        Some(url) => {
            println!("listening on {url} (pid {})", child.id());
            ExitCode::SUCCESS
        }
        None => {
            let status = child.wait().ok();
            eprintln!(
                "cadre-scripted-model: the server did not start ({}); is the port in use?",
                status.map_or_else(|| "unknown status".to_string(), |s| s.to_string())
            );
            ExitCode::FAILURE
        }
    }
}

/// The sandbox demo: one command with a write inside the workspace and one outside, then what
/// became of the second.
fn sandbox_demo(request: &cadre_test_support::model_server::RecordedRequest) -> Reply {
    let outputs = request.tool_outputs();
    let Some((_, output)) = outputs.last() else {
        return Reply::tool_call("shell", json!({"command": SANDBOX_DEMO_COMMAND}));
    };
    let refused = ["Read-only file system", "Permission denied"]
        .iter()
        .any(|error| output.contains(error));
    Reply::text(if refused {
        "The sandbox let the command write target/sandbox-demo.txt inside the workspace and \
         refused its write to ../cadre-sandbox-demo.txt outside it."
    } else {
        "The write outside the workspace was NOT refused: this machine's kernel did not enforce \
         the profile (run `cadre doctor`)."
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
    if options.detach {
        return detach();
    }
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
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "plan-request {}", now.as_nanos());
                    let _ = out.flush();
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
        Source::SandboxDemo => ModelServer::with_handler_on(options.port, sandbox_demo),
    }
    .with_latency(options.latency);
    let server = if options.lenient {
        server.lenient()
    } else {
        server
    };
    println!("listening on {}", server.base_url());
    let _ = std::io::stdout().flush();
    if std::env::var_os(DETACHED_ENV).is_none() {
        loop {
            std::thread::park();
        }
    }
    // Detached: nobody will stop this server, so it stops itself once it is no longer used.
    let mut served = 0;
    let mut idle_since = std::time::Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now_served = server.requests().len();
        if now_served != served {
            served = now_served;
            idle_since = std::time::Instant::now();
        } else if idle_since.elapsed() >= DETACHED_IDLE_EXIT {
            return ExitCode::SUCCESS;
        }
    }
}
