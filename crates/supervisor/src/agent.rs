//! Runs one agent: a real session of the core on the current runtime, watched from outside.
//! Every limit is enforced here with the session's own ops (an interrupt kills the running
//! command and ends the turn), and the facts of the result are taken from its events.

use crate::events::{EventSink, SupervisorEvent};
use crate::limits::RunControl;
use crate::report::{CommandRun, FileChanged, TaskResult, TaskStatus, Usage};
use cadre_core::audit_sink::AuditSink;
use cadre_core::gate::CommandPolicy;
use cadre_core::{Config, SessionOptions};
use cadre_protocol::{Event, EventMsg, Op};
use cadre_roles::RoleDefinition;
use cadre_tools::ToolRegistry;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every agent of a run shares with the session it starts.
#[derive(Clone)]
pub struct SessionParts {
    pub policy: Arc<dyn CommandPolicy>,
    pub audit: Arc<dyn AuditSink>,
    /// The sandbox launcher (the cadre binary).
    pub launcher: Option<PathBuf>,
    /// The session (or run) the agents belong to.
    pub parent_id: Option<String>,
    /// Tools beyond the core set that roles may name (`research`, say).
    pub extra_tools: ToolRegistry,
}

/// One agent to run.
pub struct AgentSpec {
    pub agent_id: String,
    pub role: RoleDefinition,
    /// Already adjusted: working directory, capped profile, model, turn cap.
    pub config: Config,
    pub prompt: String,
    pub tools: ToolRegistry,
    pub timeout: Option<Duration>,
    pub stall_timeout: Option<Duration>,
}

/// What the session showed, whatever the model says.
#[derive(Debug, Clone)]
pub struct AgentOutcome {
    pub status: TaskStatus,
    pub final_message: Option<String>,
    pub commands: Vec<CommandRun>,
    /// Files the patch tool changed (outside git, the only record of changes).
    pub patched: Vec<FileChanged>,
    pub tool_calls: u64,
    pub usage: Usage,
    pub duration: Duration,
    pub error: Option<String>,
}

impl AgentOutcome {
    /// The task's result: the outcome, the files it changed, and whether the facts bear out the
    /// agent's final message.
    pub fn into_result(
        self,
        task_id: String,
        role: &str,
        agent_id: &str,
        files_changed: Vec<FileChanged>,
        profile: cadre_protocol::SecurityProfile,
    ) -> TaskResult {
        let verification = crate::proof::check(
            self.final_message.as_deref(),
            &self.commands,
            &files_changed,
            self.tool_calls,
        );
        TaskResult {
            task_id,
            role: role.to_string(),
            agent_id: agent_id.to_string(),
            status: self.status,
            verified: verification.is_none(),
            verification,
            final_message: self.final_message,
            files_changed,
            commands: self.commands,
            tool_calls: self.tool_calls,
            usage: self.usage,
            duration_ms: self.duration.as_millis() as u64,
            error: self.error,
            profile: Some(profile),
            conflict: None,
        }
    }
}

impl SessionParts {
    /// Records in the audit log that an agent stopped, with its status and tokens.
    pub async fn record_stop(&self, result: &TaskResult) {
        self.audit
            .agent_stopped(
                &result.agent_id,
                result.status.as_str(),
                result.usage.token_usage(),
            )
            .await;
    }
}

/// How long a session may take to wind down after an interrupt before it is dropped.
const WIND_DOWN: Duration = Duration::from_secs(5);
/// An interrupt sent before the turn began is lost; it is repeated this often until the turn
/// ends.
const INTERRUPT_REPEAT: Duration = Duration::from_millis(100);

/// Runs the agent to its end and reports what happened.
pub async fn run_agent(
    spec: AgentSpec,
    parts: &SessionParts,
    control: &RunControl,
    events: &EventSink,
) -> AgentOutcome {
    let started = Instant::now();
    let price = spec.config.model_price();
    let mut outcome = AgentOutcome {
        status: TaskStatus::Failed,
        final_message: None,
        commands: Vec::new(),
        patched: Vec::new(),
        tool_calls: 0,
        usage: Usage::default(),
        duration: Duration::ZERO,
        error: None,
    };
    let max_turns = spec.config.max_model_calls_per_turn;
    let handle = cadre_core::spawn(SessionOptions {
        config: spec.config,
        resume: None,
        interactive: false,
        launcher: parts.launcher.clone(),
        policy: parts.policy.clone(),
        audit: parts.audit.clone(),
        agent_id: Some(spec.agent_id.clone()),
        parent_session_id: parts.parent_id.clone(),
        tools: Some(spec.tools),
        extra_instructions: Some(role_instructions(&spec.role)),
        session_id: None,
    })
    .await;
    let mut handle = match handle {
        Ok(handle) => handle,
        Err(error) => {
            outcome.error = Some(format!("the agent could not start: {error}"));
            outcome.duration = started.elapsed();
            return outcome;
        }
    };
    handle.submit(Op::UserInput { text: spec.prompt });
    handle.submit(Op::Shutdown);

    let deadline = spec.timeout.map(|t| tokio::time::Instant::now() + t);
    let run_cancel = control.cancelled();
    let mut last_activity = tokio::time::Instant::now();
    // Why the supervisor stopped the agent, once it did.
    let mut stopped: Option<(TaskStatus, String)> = None;
    let mut stop_deadline: Option<tokio::time::Instant> = None;
    let mut turn_ended = false;
    let far = || tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);

    loop {
        let stall_at = match (spec.stall_timeout, &stopped) {
            (Some(stall), None) => last_activity + stall,
            _ => far(),
        };
        let limit_at = match &stopped {
            None => deadline.unwrap_or_else(far),
            Some(_) if turn_ended => stop_deadline.unwrap_or_else(far),
            Some(_) => (tokio::time::Instant::now() + INTERRUPT_REPEAT)
                .min(stop_deadline.unwrap_or_else(far)),
        };
        tokio::select! {
            event = handle.events.recv() => {
                let Some(event) = event else { break };
                last_activity = tokio::time::Instant::now();
                let done = observe(&event, &mut outcome, &mut turn_ended, max_turns, control, price);
                events.send(SupervisorEvent::Agent(event));
                if done {
                    break;
                }
            }
            _ = tokio::time::sleep_until(stall_at), if stopped.is_none() => {
                let stall = spec.stall_timeout.unwrap_or_default();
                stopped = Some((
                    TaskStatus::Stalled,
                    format!("no progress (no model output, no tool activity) for {}", human(stall)),
                ));
                stop_deadline = Some(tokio::time::Instant::now() + WIND_DOWN);
                handle.submit(Op::Interrupt);
            }
            _ = tokio::time::sleep_until(limit_at) => {
                match &stopped {
                    None => {
                        stopped = Some((
                            TaskStatus::TimedOut,
                            format!("the task's time limit of {} was reached", human(spec.timeout.unwrap_or_default())),
                        ));
                        stop_deadline = Some(tokio::time::Instant::now() + WIND_DOWN);
                        handle.submit(Op::Interrupt);
                    }
                    Some(_) if stop_deadline.is_some_and(|d| tokio::time::Instant::now() >= d) => {
                        outcome.error = Some("the session did not stop after an interrupt; it was abandoned".into());
                        break;
                    }
                    Some(_) => {
                        if !turn_ended {
                            handle.submit(Op::Interrupt);
                        }
                    }
                }
            }
            _ = run_cancel.cancelled(), if stopped.is_none() => {
                let reason = control.stop_reason().unwrap_or(crate::limits::StopReason {
                    status: TaskStatus::Cancelled,
                    message: "the run was cancelled".into(),
                });
                stopped = Some((reason.status, reason.message));
                stop_deadline = Some(tokio::time::Instant::now() + WIND_DOWN);
                handle.submit(Op::Interrupt);
            }
        }
    }

    // A turn that completed is completed even if a limit struck while it was ending; a turn the
    // supervisor stopped takes the supervisor's reason.
    if outcome.status != TaskStatus::Completed
        && let Some((status, reason)) = stopped
    {
        outcome.status = status;
        outcome.error = Some(reason);
    }
    if outcome.status == TaskStatus::Failed && outcome.error.is_none() {
        outcome.error = Some("the session ended without finishing its turn".into());
    }
    outcome.duration = started.elapsed();
    outcome
}

/// Updates the outcome from one event; true when the session has ended.
fn observe(
    event: &Event,
    outcome: &mut AgentOutcome,
    turn_ended: &mut bool,
    max_turns: u32,
    control: &RunControl,
    price: Option<cadre_core::config::ModelPrice>,
) -> bool {
    match &event.msg {
        EventMsg::ExecCommandEnd {
            command, exit_code, ..
        } => {
            outcome.tool_calls += 1;
            outcome.commands.push(CommandRun {
                command: command.clone(),
                exit_code: *exit_code,
            });
        }
        EventMsg::PatchApplyEnd {
            changes, success, ..
        } => {
            outcome.tool_calls += 1;
            if *success {
                for change in changes {
                    let path = change
                        .move_path
                        .as_ref()
                        .unwrap_or(&change.path)
                        .display()
                        .to_string();
                    if outcome.patched.iter().any(|f| f.path == path) {
                        continue;
                    }
                    outcome.patched.push(FileChanged {
                        path,
                        added: 0,
                        removed: 0,
                    });
                }
            }
        }
        EventMsg::ToolCallEnd { .. } | EventMsg::PlanUpdate { .. } => outcome.tool_calls += 1,
        EventMsg::AgentMessage { text, .. } => outcome.final_message = Some(text.clone()),
        EventMsg::TokenCount { last, .. } => {
            let usage = Usage::from(*last);
            outcome.usage.add(usage);
            control.add_usage(usage, price);
        }
        EventMsg::TurnComplete {
            last_agent_message, ..
        } => {
            *turn_ended = true;
            outcome.status = TaskStatus::Completed;
            if last_agent_message.is_some() {
                outcome.final_message = last_agent_message.clone();
            }
        }
        EventMsg::TurnAborted { reason, .. } => {
            *turn_ended = true;
            if let cadre_protocol::AbortReason::ModelCallLimit { .. } = reason {
                outcome.status = TaskStatus::BudgetExhausted;
                outcome.error = Some(format!(
                    "the turn cap of {max_turns} model calls was reached"
                ));
            } else {
                outcome.status = TaskStatus::Failed;
                outcome.error = Some(reason.to_string());
            }
        }
        EventMsg::TurnFailed { error, .. } => {
            *turn_ended = true;
            outcome.status = TaskStatus::Failed;
            outcome.error = Some(error.clone());
        }
        EventMsg::ShutdownComplete => return true,
        _ => {}
    }
    false
}

/// The role's instructions, added after cadre's system prompt.
pub fn role_instructions(role: &RoleDefinition) -> String {
    format!(
        "You are working as the {} agent of a team run by cadre's supervisor. Do your task, then answer with a short report of what you did and found. Only state facts you checked.\n\n{}",
        role.name,
        role.system_prompt.trim()
    )
}

/// The default tools narrowed to the role's list (`None`: all of them).
pub fn role_tools(role: &RoleDefinition, extra: &ToolRegistry) -> ToolRegistry {
    let mut all = cadre_tools::default_registry();
    for spec in extra.specs() {
        if let Some(tool) = extra.get(&spec.name) {
            all.register(tool.clone());
        }
    }
    match &role.tools {
        None => all,
        Some(names) => {
            let mut registry = ToolRegistry::new();
            for name in names {
                if let Some(tool) = all.get(name) {
                    registry.register(tool.clone());
                }
            }
            registry
        }
    }
}

pub(crate) fn human(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}
