//! `cadre supervisor`: plan a goal, run it with a team of agents, show the merged result.

use crate::cli_env::CliEnv;
use crate::render::supervisor_jsonl::SupervisorJsonl;
use crate::stop_signals::{StopSignals, stop_on_signals};
use anyhow::{Context, bail};
use cadre_core::ConfigToml;
use cadre_protocol::{ApprovalMode, EventMsg, SecurityProfile};
use cadre_supervisor::report::RunReport;
use cadre_supervisor::{
    EventSink, Limits, MergeStrategy, Plan, SessionParts, Strategy, SupervisorEvent,
    SupervisorOptions, TaskStatus,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct SupervisorArgs {
    /// What the team should achieve.
    #[arg(required_unless_present = "plan")]
    goal: Option<String>,
    /// The roles the plan may use, comma-separated (default: every known role).
    #[arg(long, value_delimiter = ',', value_name = "ROLES")]
    agents: Vec<String>,
    /// sequential, parallel or hybrid (a dependency graph).
    #[arg(long, default_value = "hybrid", value_parser = parse_strategy)]
    strategy: Strategy,
    /// concatenate, voting or highest-score.
    #[arg(long, default_value = "concatenate", value_parser = parse_merge)]
    merge: MergeStrategy,
    /// Agents per task for voting and highest-score.
    #[arg(long, default_value_t = 3)]
    candidates: usize,
    /// Agents running at once.
    #[arg(long, default_value_t = 8)]
    max_parallel: usize,
    /// Agents spawned in the whole run.
    #[arg(long, default_value_t = 32)]
    max_agents: usize,
    /// Time limit of the whole run (`90s`, `10m`, `1h`).
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    timeout: Option<Duration>,
    /// Time limit of each agent.
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    task_timeout: Option<Duration>,
    /// Stop an agent that shows no progress for this long (default 5m).
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
    stall_timeout: Option<Duration>,
    /// Model calls per agent.
    #[arg(long)]
    max_turns: Option<u32>,
    /// Tokens (input plus output) for all agents together.
    #[arg(long)]
    budget_tokens: Option<u64>,
    /// Dollars for all agents together (needs [model_prices] for the models used).
    #[arg(long)]
    budget_usd: Option<f64>,
    /// The widest profile any agent may have: offline, net-read-only, workspace-write,
    /// workspace-net, trusted.
    #[arg(long, value_name = "PROFILE")]
    profile: Option<SecurityProfile>,
    /// When to ask before running a command: untrusted, on-request, on-failure, never.
    #[arg(short = 'a', long = "ask-for-approval", value_name = "MODE")]
    approval: Option<ApprovalMode>,
    /// Model for the planner, the judge and roles that name none.
    #[arg(short, long)]
    model: Option<String>,
    /// Work in this directory instead of the current one.
    #[arg(short = 'C', long = "cd", value_name = "DIR")]
    cd: Option<PathBuf>,
    /// Print the plan and exit.
    #[arg(long)]
    plan_only: bool,
    /// Run this plan (JSON: {"tasks": [...]}) with no planning call.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Format of the final result.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// Stream every event as JSONL on stdout.
    #[arg(long)]
    json: bool,
    /// Write the final result to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

fn parse_strategy(s: &str) -> Result<Strategy, String> {
    s.parse()
}

fn parse_merge(s: &str) -> Result<MergeStrategy, String> {
    s.parse()
}

pub fn run(args: SupervisorArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let json = matches!(args.format, OutputFormat::Json);
    let result = runtime.block_on(run_async(args, env));
    if json
        && let Err(error) = &result
        && !crate::closed_stdout::is_broken_pipe(error)
    {
        crate::render::failure::print("supervisor", error);
    }
    result
}

/// The roles a run may use: every known role, or those named.
fn load_roles(
    env: &CliEnv,
    config: &cadre_core::Config,
    names: &[String],
) -> anyhow::Result<Vec<cadre_roles::RoleDefinition>> {
    let catalog = env.roles(config);
    report_role_problems(catalog.problems());
    let catalog = if names.is_empty() {
        catalog
    } else {
        catalog.restrict(names)?
    };
    Ok(catalog.roles().to_vec())
}

/// One line on stderr for each role file that could not be (fully) read.
pub fn report_role_problems(problems: &[cadre_roles::RoleLoadProblem]) {
    for problem in problems {
        let field = problem
            .field
            .as_ref()
            .map(|f| format!(" (field `{f}`)"))
            .unwrap_or_default();
        let kind = if problem.fatal { "skipped" } else { "note" };
        report(&format!(
            "agent file {}{field}: {kind}: {}",
            problem.path.display(),
            problem.message
        ));
    }
}

#[allow(clippy::print_stderr)]
fn report(line: &str) {
    eprintln!("{line}");
}

async fn run_async(args: SupervisorArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let flags = ConfigToml {
        model: args.model.clone(),
        profile: args.profile,
        approval_policy: args.approval,
        ..Default::default()
    };
    let config = env.load_config(args.cd.clone(), flags)?;
    let roles = load_roles(env, &config, &args.agents)?;
    if let Some(budget) = args.budget_usd {
        if budget <= 0.0 {
            bail!("--budget-usd must be positive");
        }
        let mut models: Vec<String> = roles.iter().filter_map(|r| r.model.clone()).collect();
        models.push(config.model.clone());
        for model in models {
            if !config.model_prices.contains_key(&model) {
                bail!(
                    "--budget-usd needs a price for the model `{model}`: add [model_prices.\"{model}\"] with input_per_mtok and output_per_mtok to config.toml"
                );
            }
        }
    }
    let plan = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the plan {}", path.display()))?;
            Some(Plan::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let goal = args
        .goal
        .clone()
        .unwrap_or_else(|| "Run the given plan.".to_string());
    // Every agent's transcript, and the run's own audit records, name the run.
    let run_id = format!(
        "supervisor-{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S"),
        std::process::id()
    );
    // Listening before any agent starts: a signal from now on stops the run cleanly.
    let signals = StopSignals::listen()?;
    let gate = env.app.gate_parts(&config, &run_id)?;
    let mut extra_tools = cadre_supervisor::ToolRegistry::new();
    extra_tools.register(cadre_app::research_tool(&config, gate.audit.clone()));
    let cancel = CancellationToken::new();
    let options = SupervisorOptions {
        goal,
        config,
        roles,
        strategy: args.strategy,
        merge: args.merge,
        candidates: args.candidates,
        max_parallel: args.max_parallel,
        max_agents: args.max_agents,
        limits: Limits {
            run_timeout: args.timeout,
            task_timeout: args.task_timeout,
            max_turns: args.max_turns,
            budget_tokens: args.budget_tokens,
            budget_usd: args.budget_usd,
            stall_timeout: Some(args.stall_timeout.unwrap_or(Duration::from_secs(300))),
        },
        plan,
        parts: SessionParts {
            policy: gate.policy,
            audit: gate.audit,
            launcher: env.app.launcher(),
            parent_id: Some(run_id),
            extra_tools,
        },
        cancel: cancel.clone(),
    };

    if args.plan_only {
        let (plan, _) = cadre_supervisor::make_plan(&options, &EventSink::none()).await?;
        let text = serde_json::to_string_pretty(&plan)? + "\n";
        write_output(args.output.as_ref(), &text)?;
        return Ok(0);
    }

    let stopped_by = stop_on_signals(signals, move || cancel.cancel());

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SupervisorEvent>();
    let json = args.json;
    let printer = tokio::spawn(async move {
        let mut tree = LiveTree::new(!json);
        let mut stream = SupervisorJsonl::new();
        while let Some(event) = rx.recv().await {
            if json {
                stream.render(&event);
            } else {
                tree.update(&event);
            }
        }
        tree.finish();
        stream
    });
    let result = cadre_supervisor::run(options, EventSink::new(tx)).await;
    let stream = printer.await.unwrap_or_default();
    let report = result?;

    let text = match args.format {
        OutputFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        OutputFormat::Markdown => markdown(&report),
        OutputFormat::Text => text(&report),
    };
    if args.json && args.output.is_none() {
        stream.finish(&report);
    } else {
        write_output(args.output.as_ref(), &text)?;
    }
    Ok(stopped_by
        .get()
        .map_or_else(|| exit_status(&report), |signal| signal.exit_status()))
}

/// 0 when every task completed and its result is verified, 1 when a task did not complete (or
/// did not merge back), 2 when every task completed but a result's proof failed: the session's
/// facts contradict what the agent claimed.
fn exit_status(report: &RunReport) -> u8 {
    if !report.all_completed() {
        1
    } else if report.results.iter().any(|r| !r.verified) {
        2
    } else {
        0
    }
}

fn write_output(path: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the result to {}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

fn status_mark(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Completed => "ok",
        TaskStatus::Skipped => "--",
        _ => "!!",
    }
}

/// The status cell: a completed task whose proof failed says so instead of `ok completed`.
fn status_cell(status: TaskStatus, verified: bool) -> String {
    if status == TaskStatus::Completed && !verified {
        "?? completed, unverified".to_string()
    } else {
        format!("{} {status}", status_mark(status))
    }
}

fn table_rows(report: &RunReport) -> Vec<[String; 7]> {
    report
        .results
        .iter()
        .map(|r| {
            [
                r.task_id.clone(),
                r.role.clone(),
                status_cell(r.status, r.verified),
                match (&r.verification, &r.conflict) {
                    (_, Some(c)) => {
                        format!("conflict: {} (branch {})", c.files.join(", "), c.branch)
                    }
                    (Some(v), None) => format!("unverified: {v}"),
                    (None, None) => r.error.clone().unwrap_or_default(),
                },
                r.usage.total().to_string(),
                format!("{:.1}s", r.duration_ms as f64 / 1000.0),
                r.files_changed.len().to_string(),
            ]
        })
        .collect()
}

fn text(report: &RunReport) -> String {
    let mut out = format!("{}\n\n", report.merged.text);
    let header = ["task", "role", "status", "notes", "tokens", "time", "files"];
    let rows = table_rows(report);
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
            + "\n"
    };
    out.push_str(&line(header.to_vec()));
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    for vote in &report.merged.votes {
        out.push_str(&format!(
            "vote {}: {} x \"{}\"\n",
            vote.task_id, vote.count, vote.answer
        ));
    }
    for score in &report.merged.scores {
        out.push_str(&format!(
            "score {} {}: {} ({})\n",
            score.task_id, score.agent_id, score.score, score.reason
        ));
    }
    out.push_str(&format!(
        "{} tokens in, {} out; {:.1}s{}\n",
        report.usage.input_tokens,
        report.usage.output_tokens,
        report.duration_ms as f64 / 1000.0,
        report
            .stopped
            .as_ref()
            .map(|s| format!("; stopped: {s}"))
            .unwrap_or_default()
    ));
    out
}

fn markdown(report: &RunReport) -> String {
    let mut out = format!("# {}\n\n{}\n\n", report.goal.trim(), report.merged.text);
    out.push_str(
        "| task | role | status | notes | tokens | time | files |\n|---|---|---|---|---|---|---|\n",
    );
    for row in table_rows(report) {
        out.push_str(&format!(
            "| {} |\n",
            row.iter()
                .map(|c| c.replace('|', "\\|"))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    if let Some(stopped) = &report.stopped {
        out.push_str(&format!("\nStopped: {stopped}\n"));
    }
    out
}

/// The live view on stderr: one line per agent with its role, status, current tool, elapsed
/// time and tokens (hidden when stderr is not a terminal).
struct LiveTree {
    enabled: bool,
    multi: MultiProgress,
    bars: HashMap<String, (ProgressBar, String, u64)>,
}

impl LiveTree {
    fn new(enabled: bool) -> Self {
        LiveTree {
            enabled,
            multi: MultiProgress::new(),
            bars: HashMap::new(),
        }
    }

    fn update(&mut self, event: &SupervisorEvent) {
        if !self.enabled {
            return;
        }
        match event {
            SupervisorEvent::PlanningStarted => {
                let _ = self.multi.println("planning...");
            }
            SupervisorEvent::PlanCreated { plan } => {
                let _ = self
                    .multi
                    .println(format!("plan: {} tasks", plan.tasks.len()));
            }
            SupervisorEvent::AgentStarted {
                agent_id,
                role,
                title,
                profile,
                ..
            } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(format!("{agent_id} {role} ({profile})"));
                bar.set_message(format!("running: {title}"));
                bar.enable_steady_tick(Duration::from_millis(120));
                self.bars.insert(agent_id.clone(), (bar, title.clone(), 0));
            }
            SupervisorEvent::Agent(event) => {
                let Some(id) = &event.agent_id else { return };
                let Some((bar, _, tokens)) = self.bars.get_mut(id) else {
                    return;
                };
                match &event.msg {
                    EventMsg::ExecCommandBegin { command, .. } => {
                        bar.set_message(format!("shell: {command} | {tokens} tokens"))
                    }
                    EventMsg::ToolCallBegin { tool, .. } => {
                        bar.set_message(format!("{tool} | {tokens} tokens"))
                    }
                    EventMsg::PatchApplyBegin { .. } => {
                        bar.set_message(format!("apply_patch | {tokens} tokens"))
                    }
                    EventMsg::TokenCount { total, .. } => {
                        *tokens = total.input_tokens + total.output_tokens;
                        bar.set_message(format!("thinking | {tokens} tokens"));
                    }
                    _ => {}
                }
            }
            SupervisorEvent::AgentCompleted {
                agent_id,
                status,
                verified,
                usage,
                ..
            } => {
                if let Some((bar, title, _)) = self.bars.get(agent_id) {
                    bar.finish_with_message(format!(
                        "{}: {title} | {} tokens",
                        status_cell(*status, *verified),
                        usage.total()
                    ));
                }
            }
            SupervisorEvent::MergeCompleted { .. } => {}
        }
    }

    fn finish(&mut self) {
        for (bar, _, _) in self.bars.values() {
            if !bar.is_finished() {
                bar.finish();
            }
        }
    }
}
