//! A whole run: plan, schedule every task's agents under the strategy and limits, isolate
//! writers, merge changes back in dependency order, pick winners and report.

use crate::SupervisorError;
use crate::agent::{self, AgentSpec, SessionParts};
use crate::events::{EventSink, SupervisorEvent};
use crate::limits::{Limits, RunControl};
use crate::merge::{self, MergeStrategy};
use crate::plan::{Plan, Strategy, TaskSpec, writes_overlap};
use crate::planner;
use crate::report::{Merged, RunReport, TaskResult, TaskStatus, Usage};
use crate::worktree::{self, Worktree};
use cadre_core::Config;
use cadre_model::ModelClient;
use cadre_protocol::SecurityProfile;
use cadre_roles::RoleDefinition;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Everything a run needs.
pub struct SupervisorOptions {
    pub goal: String,
    /// The run's configuration: its `profile` is the ceiling of every agent, its `cwd` the
    /// workspace.
    pub config: Config,
    /// The roles the plan may use (already narrowed by `--agents`).
    pub roles: Vec<RoleDefinition>,
    pub strategy: Strategy,
    pub merge: MergeStrategy,
    /// Agents per task for voting and highest-score (1 for concatenate).
    pub candidates: usize,
    pub max_parallel: usize,
    pub max_agents: usize,
    pub limits: Limits,
    /// A plan to run as given, with no planning call.
    pub plan: Option<Plan>,
    pub parts: SessionParts,
    /// Cancelled from outside (Ctrl-C): running agents stop as `cancelled`.
    pub cancel: CancellationToken,
}

impl SupervisorOptions {
    fn role_names(&self) -> Vec<&str> {
        self.roles.iter().map(|r| r.name.as_str()).collect()
    }

    fn role(&self, name: &str) -> Option<&RoleDefinition> {
        self.roles.iter().find(|r| r.name == name)
    }

    fn candidates(&self) -> usize {
        match self.merge {
            MergeStrategy::Concatenate => 1,
            _ => self.candidates.max(1),
        }
    }
}

/// The profile an agent of `role` runs under: the role's default capped by the run's ceiling.
pub fn agent_profile(role: &RoleDefinition, ceiling: SecurityProfile) -> SecurityProfile {
    role.profile.unwrap_or(ceiling).cap(ceiling)
}

/// The configuration of one agent.
pub fn agent_config(
    base: &Config,
    role: &RoleDefinition,
    cwd: PathBuf,
    max_turns: Option<u32>,
) -> Config {
    let mut config = base.clone();
    config.cwd = cwd;
    config.profile = agent_profile(role, base.profile);
    if let Some(model) = &role.model {
        config.model = model.clone();
    }
    if let Some(turns) = max_turns.or(role.max_turns) {
        config.max_model_calls_per_turn = turns.max(1);
    }
    config
}

/// Plans the goal (one call, one repair round), or checks the given plan.
pub async fn make_plan(
    options: &SupervisorOptions,
    events: &EventSink,
) -> Result<(Plan, Usage), SupervisorError> {
    let roles = options.role_names();
    if let Some(plan) = &options.plan {
        let problems = plan.problems(&roles, options.strategy);
        if !problems.is_empty() {
            return Err(SupervisorError::InvalidPlan {
                problems,
                plan: serde_json::to_string_pretty(plan).unwrap_or_default(),
            });
        }
        return Ok((plan.clone(), Usage::default()));
    }
    let client = ModelClient::new(options.config.provider.clone())
        .map_err(|e| SupervisorError::Planner(e.to_string()))?;
    let input = planner::planner_input(
        &options.goal,
        &options.roles,
        options.strategy,
        &options.config.cwd,
    );
    events.send(SupervisorEvent::PlanningStarted);
    cadre_core::audit_sink::record_model_request(
        options.parts.audit.as_ref(),
        &options.config.provider.base_url,
        "planning request",
    );
    planner::request_plan(
        &client,
        &options.config.model,
        input,
        &roles,
        options.strategy,
    )
    .await
}

/// What a spawned agent hands back to the scheduler.
struct Finished {
    task: usize,
    candidate: usize,
    result: TaskResult,
    /// The worktree and its final snapshot, for merging back.
    isolated: Option<(Worktree, String)>,
}

/// Which agent a finished join was, keyed by its task id in the join set.
type AgentsByTask = std::collections::HashMap<tokio::task::Id, (usize, usize)>;

/// An agent's end as the scheduler records it: what it returned, or, when it panicked or was
/// cancelled, a failed result with the reason, so its task is never left without one.
fn accounted_for(
    joined: Result<(tokio::task::Id, Finished), tokio::task::JoinError>,
    agent_of: &mut AgentsByTask,
    plan: &Plan,
) -> Option<Finished> {
    match joined {
        Ok((id, done)) => {
            agent_of.remove(&id);
            Some(done)
        }
        Err(crash) => {
            let (task, candidate) = agent_of.remove(&crash.id())?;
            let spec = &plan.tasks[task];
            let why = if crash.is_panic() {
                "the agent stopped abnormally (it panicked)"
            } else {
                "the agent was cancelled before it finished"
            };
            Some(Finished {
                task,
                candidate,
                result: TaskResult::not_run(&spec.id, &spec.role, TaskStatus::Failed, why),
                isolated: None,
            })
        }
    }
}

/// Shared by the agents of a run.
struct Shared {
    parts: SessionParts,
    control: Arc<RunControl>,
    events: EventSink,
    limits: Limits,
    repo: Option<PathBuf>,
    worktrees_dir: Option<PathBuf>,
    run_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskState {
    Waiting,
    Running,
    /// Every candidate finished; the winner is chosen.
    Finished,
    /// Its changes are merged back (or it had none): dependents may start.
    Merged,
}

/// Plans (unless a plan is given) and runs the goal to its end.
pub async fn run(
    options: SupervisorOptions,
    events: EventSink,
) -> Result<RunReport, SupervisorError> {
    let started = Instant::now();
    let control = Arc::new(RunControl::new(&options.limits, options.cancel.clone()));
    if let Some(limit) = options.limits.run_timeout {
        let control = control.clone();
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            control.stop(
                TaskStatus::TimedOut,
                format!(
                    "the run's time limit of {} was reached",
                    agent::human(limit)
                ),
            );
        });
    }
    let price = options.config.model_price();
    // Whether the workspace is a git repository is found out while the planner thinks.
    let (planned, repo) = tokio::join!(
        make_plan(&options, &events),
        worktree::repo_root(&options.config.cwd)
    );
    let (plan, planning_usage) = planned?;
    control.add_usage(planning_usage, price);
    events.send(SupervisorEvent::PlanCreated { plan: plan.clone() });
    let candidates = options.candidates();
    let profiles: Vec<SecurityProfile> = plan
        .tasks
        .iter()
        .map(|t| {
            options
                .role(&t.role)
                .map(|r| agent_profile(r, options.config.profile))
                .unwrap_or(SecurityProfile::Offline)
        })
        .collect();
    let writer_agents = profiles
        .iter()
        .filter(|p| p.allows_workspace_writes())
        .count()
        * candidates;
    let isolate = repo.is_some()
        && writer_agents > 1
        && (candidates > 1
            || (options.strategy != Strategy::Sequential && options.max_parallel > 1));
    let worktrees_dir = if isolate {
        let dir = std::env::temp_dir().join(format!("cadre-worktrees-{}", short_id()));
        std::fs::create_dir_all(&dir).map_err(SupervisorError::Io)?;
        Some(dir)
    } else {
        None
    };
    let shared = Arc::new(Shared {
        parts: options.parts.clone(),
        control: control.clone(),
        events: events.clone(),
        limits: options.limits.clone(),
        repo: repo.clone(),
        worktrees_dir: worktrees_dir.clone(),
        run_id: short_id(),
    });

    let n = plan.tasks.len();
    let order = plan.dependency_order();
    let mut state = vec![TaskState::Waiting; n];
    let mut launched = vec![0usize; n];
    let mut results: Vec<Vec<Option<TaskResult>>> = vec![vec![None; candidates]; n];
    let mut isolated: Vec<Vec<Option<(Worktree, String)>>> = vec![vec![None; candidates]; n];
    let mut winner: Vec<Option<usize>> = vec![None; n];
    let mut not_run: Vec<Option<TaskResult>> = vec![None; n];
    let mut merged = Merged::default();
    let mut running_agents = 0usize;
    let mut spawned = 0usize;
    let mut merge_cursor = 0usize;
    let mut join: JoinSet<Finished> = JoinSet::new();
    // Which task and candidate each agent runs, so that one that panics is still accounted for.
    let mut agent_of = AgentsByTask::default();
    let judge_client = ModelClient::new(options.config.provider.clone()).ok();

    loop {
        // Merge back finished tasks in dependency order.
        while merge_cursor < n {
            let ti = order[merge_cursor];
            match state[ti] {
                TaskState::Merged => merge_cursor += 1,
                TaskState::Finished => {
                    merge_back_task(&shared, ti, winner[ti], &mut isolated[ti], &mut results[ti])
                        .await;
                    state[ti] = TaskState::Merged;
                    merge_cursor += 1;
                }
                _ => break,
            }
        }

        // Start what may start, in dependency order.
        for &ti in &order {
            if !matches!(state[ti], TaskState::Waiting | TaskState::Running) {
                continue;
            }
            if launched[ti] >= candidates {
                continue;
            }
            let task = &plan.tasks[ti];
            if state[ti] == TaskState::Waiting {
                if let Some(reason) = control.stop_reason() {
                    not_run[ti] = Some(TaskResult::not_run(
                        &task.id,
                        &task.role,
                        TaskStatus::Skipped,
                        format!("not started: {}", reason.message),
                    ));
                    state[ti] = TaskState::Merged;
                    continue;
                }
                match readiness(
                    &plan,
                    ti,
                    &state,
                    &order,
                    options.strategy,
                    &winner,
                    &results,
                    &not_run,
                ) {
                    Readiness::Wait => {
                        if options.strategy == Strategy::Sequential {
                            break;
                        }
                        continue;
                    }
                    Readiness::Skip(why) => {
                        not_run[ti] = Some(TaskResult::not_run(
                            &task.id,
                            &task.role,
                            TaskStatus::Skipped,
                            why,
                        ));
                        state[ti] = TaskState::Merged;
                        continue;
                    }
                    Readiness::Go => {}
                }
                // Outside git, writers whose files may overlap run one after another.
                if repo.is_none() && profiles[ti].allows_workspace_writes() {
                    let clash = (0..n).any(|other| {
                        other != ti
                            && state[other] == TaskState::Running
                            && profiles[other].allows_workspace_writes()
                            && (task.writes.is_empty()
                                || plan.tasks[other].writes.is_empty()
                                || writes_overlap(&task.writes, &plan.tasks[other].writes))
                    });
                    if clash {
                        continue;
                    }
                }
                if spawned + candidates > options.max_agents {
                    not_run[ti] = Some(TaskResult::not_run(
                        &task.id,
                        &task.role,
                        TaskStatus::Skipped,
                        format!(
                            "not started: the run's cap of {} agents was reached",
                            options.max_agents
                        ),
                    ));
                    state[ti] = TaskState::Merged;
                    continue;
                }
            }
            while launched[ti] < candidates && running_agents < options.max_parallel.max(1) {
                let candidate = launched[ti];
                let Some(role) = options.role(&task.role).cloned() else {
                    break;
                };
                let agent_id = if candidates == 1 {
                    task.id.clone()
                } else {
                    format!("{}.{}", task.id, candidate + 1)
                };
                let context = earlier_results(
                    &plan,
                    ti,
                    &order,
                    options.strategy,
                    &winner,
                    &results,
                    &not_run,
                );
                let prompt = agent_prompt(&options.goal, task, &context);
                let shared = shared.clone();
                let config = options.config.clone();
                let task_spec = task.clone();
                let isolate_this = isolate && profiles[ti].allows_workspace_writes();
                let agent = join.spawn(async move {
                    run_task_agent(
                        shared,
                        config,
                        role,
                        task_spec,
                        agent_id,
                        prompt,
                        ti,
                        candidate,
                        isolate_this,
                    )
                    .await
                });
                agent_of.insert(agent.id(), (ti, candidate));
                if state[ti] == TaskState::Waiting {
                    spawned += candidates;
                }
                launched[ti] += 1;
                running_agents += 1;
                state[ti] = TaskState::Running;
            }
            if options.strategy == Strategy::Sequential && state[ti] != TaskState::Merged {
                break;
            }
        }

        if join.is_empty() {
            if state.iter().all(|s| *s == TaskState::Merged) {
                break;
            }
            // Nothing runs and something waits: only a dependency that will never complete can
            // cause this; the next pass skips it.
            if !state.contains(&TaskState::Finished) {
                let stuck: Vec<usize> =
                    (0..n).filter(|&i| state[i] == TaskState::Waiting).collect();
                if stuck.is_empty() {
                    break;
                }
                for ti in stuck {
                    let task = &plan.tasks[ti];
                    not_run[ti] = Some(TaskResult::not_run(
                        &task.id,
                        &task.role,
                        TaskStatus::Skipped,
                        "not started: its dependencies never completed",
                    ));
                    state[ti] = TaskState::Merged;
                }
            }
            continue;
        }
        let Some(done) = join.join_next_with_id().await else {
            continue;
        };
        running_agents -= 1;
        let Some(done) = accounted_for(done, &mut agent_of, &plan) else {
            continue;
        };
        let ti = done.task;
        results[ti][done.candidate] = Some(done.result);
        isolated[ti][done.candidate] = done.isolated;
        if results[ti].iter().all(Option::is_some) {
            let task = &plan.tasks[ti];
            let finished: Vec<TaskResult> = results[ti].iter().flatten().cloned().collect();
            winner[ti] = match options.merge {
                MergeStrategy::Concatenate => Some(0),
                MergeStrategy::Voting => {
                    let (win, votes, tie) = merge::vote(&task.id, &finished);
                    merged.votes.extend(votes);
                    if tie {
                        merged.ties.push(task.id.clone());
                    }
                    win
                }
                MergeStrategy::HighestScore => {
                    let mut scored = Vec::new();
                    if let Some(client) = &judge_client {
                        let judged = futures::future::join_all(
                            finished
                                .iter()
                                .enumerate()
                                .filter(|(_, r)| r.status == TaskStatus::Completed)
                                .map(|(i, r)| {
                                    let client = client.clone();
                                    let model = options.config.model.clone();
                                    let audit = options.parts.audit.clone();
                                    let base_url = options.config.provider.base_url.clone();
                                    async move {
                                        cadre_core::audit_sink::record_model_request(
                                            audit.as_ref(),
                                            &base_url,
                                            "judge request",
                                        );
                                        let (score, usage) = merge::judge(
                                            &client,
                                            &model,
                                            &task.prompt,
                                            task.acceptance.as_deref(),
                                            r,
                                        )
                                        .await;
                                        (i, score, r.verified, usage)
                                    }
                                }),
                        )
                        .await;
                        for (i, score, verified, usage) in judged {
                            control.add_usage(usage, price);
                            merged.scores.push(score.clone());
                            scored.push((i, score, verified));
                        }
                    }
                    merge::highest(&scored)
                }
            };
            if let Some(w) = winner[ti]
                && let Some(r) = &finished.get(w)
                && options.merge != MergeStrategy::Concatenate
            {
                merged.winner.insert(task.id.clone(), r.agent_id.clone());
            }
            state[ti] = TaskState::Finished;
        }
    }

    // Results in plan order; candidates of a task together.
    let mut all_results = Vec::new();
    let mut text = String::new();
    for ti in 0..n {
        let task = &plan.tasks[ti];
        if let Some(r) = not_run[ti].take() {
            text.push_str(&format!(
                "## {}\n\n({}: {})\n\n",
                task.title,
                r.status,
                r.error.clone().unwrap_or_default()
            ));
            all_results.push(r);
            continue;
        }
        let candidates: Vec<TaskResult> = results[ti].iter().flatten().cloned().collect();
        let chosen = winner[ti]
            .and_then(|w| candidates.get(w))
            .or(candidates.first());
        if let Some(r) = chosen {
            let body = match (&r.final_message, r.status) {
                (Some(message), TaskStatus::Completed) => message.trim().to_string(),
                (message, status) => format!(
                    "({status}: {}){}",
                    r.error.clone().unwrap_or_default(),
                    message
                        .as_ref()
                        .map(|m| format!("\n\n{}", m.trim()))
                        .unwrap_or_default()
                ),
            };
            text.push_str(&format!("## {}\n\n{body}\n\n", task.title));
        }
        all_results.extend(candidates);
    }
    merged.text = text.trim_end().to_string();
    events.send(SupervisorEvent::MergeCompleted {
        merged: merged.clone(),
    });
    if let Some(dir) = &worktrees_dir {
        let _ = std::fs::remove_dir(dir);
    }
    let (usage, cost) = control.spent();
    Ok(RunReport {
        goal: options.goal.clone(),
        strategy: options.strategy,
        merge: options.merge,
        plan,
        results: all_results,
        merged,
        usage,
        cost_usd: price.map(|_| cost),
        duration_ms: started.elapsed().as_millis() as u64,
        stopped: control.stop_reason().map(|r| r.message),
    })
}

enum Readiness {
    Go,
    Wait,
    Skip(String),
}

fn winner_of<'a>(
    ti: usize,
    winner: &[Option<usize>],
    results: &'a [Vec<Option<TaskResult>>],
    not_run: &'a [Option<TaskResult>],
) -> Option<&'a TaskResult> {
    if let Some(r) = &not_run[ti] {
        return Some(r);
    }
    let candidates = &results[ti];
    winner[ti]
        .and_then(|w| candidates.get(w).and_then(Option::as_ref))
        .or_else(|| candidates.iter().flatten().next())
}

#[allow(clippy::too_many_arguments)]
fn readiness(
    plan: &Plan,
    ti: usize,
    state: &[TaskState],
    order: &[usize],
    strategy: Strategy,
    winner: &[Option<usize>],
    results: &[Vec<Option<TaskResult>>],
    not_run: &[Option<TaskResult>],
) -> Readiness {
    if strategy == Strategy::Sequential {
        let position = order.iter().position(|&i| i == ti).unwrap_or(0);
        if order[..position]
            .iter()
            .any(|&i| state[i] != TaskState::Merged)
        {
            return Readiness::Wait;
        }
    }
    for dep in &plan.tasks[ti].depends_on {
        let Some(di) = plan.tasks.iter().position(|t| &t.id == dep) else {
            continue;
        };
        if state[di] != TaskState::Merged {
            return Readiness::Wait;
        }
        let completed = winner_of(di, winner, results, not_run)
            .is_some_and(|r| r.status == TaskStatus::Completed && r.conflict.is_none());
        if !completed {
            let status = winner_of(di, winner, results, not_run)
                .map(|r| {
                    if r.conflict.is_some() {
                        "its changes conflicted".to_string()
                    } else {
                        r.status.to_string()
                    }
                })
                .unwrap_or_else(|| "no result".into());
            return Readiness::Skip(format!(
                "skipped: dependency `{dep}` did not complete ({status})"
            ));
        }
    }
    Readiness::Go
}

/// The results a task is given: every earlier task's under `sequential`, its dependencies'
/// otherwise.
fn earlier_results(
    plan: &Plan,
    ti: usize,
    order: &[usize],
    strategy: Strategy,
    winner: &[Option<usize>],
    results: &[Vec<Option<TaskResult>>],
    not_run: &[Option<TaskResult>],
) -> Vec<(TaskSpec, TaskResult)> {
    let sources: Vec<usize> = match strategy {
        Strategy::Sequential => order.iter().take_while(|&&i| i != ti).copied().collect(),
        _ => plan.tasks[ti]
            .depends_on
            .iter()
            .filter_map(|d| plan.tasks.iter().position(|t| &t.id == d))
            .collect(),
    };
    sources
        .into_iter()
        .filter_map(|i| {
            winner_of(i, winner, results, not_run).map(|r| (plan.tasks[i].clone(), r.clone()))
        })
        .collect()
}

fn agent_prompt(goal: &str, task: &TaskSpec, context: &[(TaskSpec, TaskResult)]) -> String {
    let mut text = task.prompt.trim().to_string();
    text.push_str(&format!(
        "\n\n<team_goal>\n{goal}\n</team_goal>\n<your_task id=\"{}\">{}</your_task>",
        task.id, task.title
    ));
    if let Some(acceptance) = &task.acceptance {
        text.push_str(&format!("\n<acceptance>\n{acceptance}\n</acceptance>"));
    }
    if !task.writes.is_empty() {
        text.push_str(&format!(
            "\n<files_you_may_change>\n{}\n</files_you_may_change>",
            task.writes.join("\n")
        ));
    }
    if !context.is_empty() {
        text.push_str("\n<earlier_results>");
        for (spec, result) in context {
            text.push_str(&format!(
                "\n<result task=\"{}\" title=\"{}\" status=\"{}\" verified=\"{}\">\n{}",
                spec.id,
                spec.title,
                result.status,
                result.verified,
                result.final_message.as_deref().unwrap_or("").trim()
            ));
            if !result.files_changed.is_empty() {
                let files: Vec<String> = result
                    .files_changed
                    .iter()
                    .map(|f| format!("{} (+{} -{})", f.path, f.added, f.removed))
                    .collect();
                text.push_str(&format!("\nfiles changed: {}", files.join(", ")));
            }
            text.push_str("\n</result>");
        }
        text.push_str("\n</earlier_results>");
    }
    text
}

#[allow(clippy::too_many_arguments)]
async fn run_task_agent(
    shared: Arc<Shared>,
    base: Config,
    role: RoleDefinition,
    task: TaskSpec,
    agent_id: String,
    prompt: String,
    ti: usize,
    candidate: usize,
    isolate: bool,
) -> Finished {
    let profile = agent_profile(&role, base.profile);
    let writer = profile.allows_workspace_writes();
    let started = Instant::now();
    let fail = |message: String| Finished {
        task: ti,
        candidate,
        result: {
            let mut r = TaskResult::not_run(&task.id, &role.name, TaskStatus::Failed, message);
            r.agent_id = agent_id.clone();
            r.profile = Some(profile);
            r.duration_ms = started.elapsed().as_millis() as u64;
            r
        },
        isolated: None,
    };

    // Where the agent works, and the snapshot its changes are measured from.
    let mut worktree = None;
    let mut cwd = base.cwd.clone();
    let mut before = None;
    if let (Some(repo), true) = (&shared.repo, writer) {
        let main_state = match worktree::snapshot(repo).await {
            Ok(tree) => tree,
            Err(error) => return fail(format!("cannot snapshot the workspace: {error}")),
        };
        if isolate {
            let dir = shared
                .worktrees_dir
                .clone()
                .unwrap_or_else(std::env::temp_dir);
            let branch = format!("cadre/{}/{}", shared.run_id, sanitize(&agent_id));
            match worktree::create(repo, &dir, &branch, &main_state).await {
                Ok(tree) => {
                    let relative = base.cwd.strip_prefix(repo).unwrap_or(Path::new(""));
                    cwd = tree.path.join(relative);
                    worktree = Some(tree);
                }
                Err(error) => return fail(format!("cannot create a worktree: {error}")),
            }
        }
        before = Some(main_state);
    }

    let config = agent_config(&base, &role, cwd.clone(), shared.limits.max_turns);
    shared.events.send(SupervisorEvent::AgentStarted {
        agent_id: agent_id.clone(),
        task_id: task.id.clone(),
        title: task.title.clone(),
        role: role.name.clone(),
        profile: config.profile,
        worktree: worktree.as_ref().map(|w| w.path.clone()),
    });
    shared
        .parts
        .audit
        .agent_started(&agent_id, &role.name, config.profile)
        .await;
    let timeout = shared.limits.task_timeout.or(role.timeout);
    let spec = AgentSpec {
        agent_id: agent_id.clone(),
        tools: agent::role_tools(&role, &shared.parts.extra_tools),
        role: role.clone(),
        config,
        prompt,
        timeout,
        stall_timeout: shared.limits.stall_timeout,
    };
    let outcome = agent::run_agent(spec, &shared.parts, &shared.control, &shared.events).await;

    // The facts: changes from the snapshots (git) or the patch tool's records.
    let mut files_changed = outcome.patched.clone();
    let mut after = None;
    if let (Some(repo), Some(before)) = (&shared.repo, &before) {
        let dir = worktree
            .as_ref()
            .map(|w| w.path.clone())
            .unwrap_or(repo.clone());
        if let Ok(tree) = worktree::snapshot(&dir).await {
            if let Ok(stats) = worktree::diff_stats(repo, before, &tree).await {
                files_changed = stats;
            }
            after = Some(tree);
        }
    }
    let result = outcome.into_result(
        task.id.clone(),
        &role.name,
        &agent_id,
        files_changed,
        profile,
    );
    shared.parts.record_stop(&result).await;
    shared.events.send(SupervisorEvent::AgentCompleted {
        agent_id,
        task_id: task.id.clone(),
        status: result.status,
        verified: result.verified,
        usage: result.usage,
        duration_ms: result.duration_ms,
        error: result.error.clone(),
    });
    Finished {
        task: ti,
        candidate,
        result,
        isolated: match (worktree, after) {
            (Some(w), Some(a)) => Some((w, a)),
            (Some(w), None) => Some((w.clone(), w.base.clone())),
            _ => None,
        },
    }
}

/// Applies the winning candidate's changes to the main checkout; drops the other worktrees.
async fn merge_back_task(
    shared: &Shared,
    ti: usize,
    winner: Option<usize>,
    isolated: &mut [Option<(Worktree, String)>],
    results: &mut [Option<TaskResult>],
) {
    let _ = ti;
    let Some(repo) = &shared.repo else { return };
    for (index, slot) in isolated.iter_mut().enumerate() {
        let Some((tree, after)) = slot.take() else {
            continue;
        };
        let completed = results[index]
            .as_ref()
            .is_some_and(|r| r.status == TaskStatus::Completed);
        if Some(index) == winner && completed {
            let changed = results[index]
                .as_ref()
                .map(|r| r.files_changed.clone())
                .unwrap_or_default();
            match worktree::merge_back(repo, &tree, &after, &changed).await {
                Ok(()) => {
                    let _ = worktree::remove(repo, &tree, true).await;
                }
                Err(conflict) => {
                    if let Some(r) = results[index].as_mut() {
                        r.conflict = Some(conflict);
                    }
                }
            }
        } else {
            let _ = worktree::remove(repo, &tree, true).await;
        }
    }
}

fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn short_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    format!("{:x}", (nanos as u64) ^ (std::process::id() as u64) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let task = |id: &str| TaskSpec {
            id: id.into(),
            title: id.into(),
            role: "Tester".into(),
            prompt: String::new(),
            depends_on: Vec::new(),
            writes: Vec::new(),
            acceptance: None,
        };
        Plan {
            tasks: vec![task("t1"), task("t2")],
        }
    }

    #[tokio::test]
    async fn an_agent_that_panics_or_is_cancelled_still_ends_its_task_with_a_reason() {
        let plan = plan();
        let mut join: JoinSet<Finished> = JoinSet::new();
        let mut agent_of = AgentsByTask::default();
        let panics = join.spawn(async { panic!("an agent bug") });
        agent_of.insert(panics.id(), (0, 0));
        let cancelled = join.spawn(async {
            std::future::pending::<()>().await;
            unreachable!()
        });
        agent_of.insert(cancelled.id(), (1, 0));
        cancelled.abort();

        let mut ended = Vec::new();
        while let Some(joined) = join.join_next_with_id().await {
            ended.push(accounted_for(joined, &mut agent_of, &plan).expect("accounted for"));
        }
        ended.sort_by_key(|done| done.task);
        assert_eq!(ended.len(), 2);
        for (done, (task, why)) in ended.iter().zip([("t1", "panicked"), ("t2", "cancelled")]) {
            assert_eq!(done.result.task_id, task);
            assert_eq!(done.result.status, TaskStatus::Failed);
            let error = done.result.error.as_deref().unwrap_or_default();
            assert!(error.contains(why), "{error}");
        }
        assert!(agent_of.is_empty(), "every slot was freed");
    }
}
