//! `cadre supervisor --json`: each agent's session in the schema of `cadre exec --json`
//! ([`ThreadEvent`], with the agent's `agent_id` on every line), framed by the run's own
//! events: `plan.started`, `plan.created`, `agent.started`, `agent.finished`, `merge.completed`
//! and last `run.completed`.

use super::jsonl::{ExecJsonl, ThreadEvent, emit_line};
use cadre_protocol::SecurityProfile;
use cadre_supervisor::report::{Merged, RunReport, TaskStatus, Usage};
use cadre_supervisor::{Plan, SupervisorEvent};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// A line of the stream that belongs to the run rather than to one agent's session.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub enum RunEvent<'a> {
    #[serde(rename = "plan.started")]
    PlanStarted {},
    #[serde(rename = "plan.created")]
    PlanCreated { plan: &'a Plan },
    #[serde(rename = "agent.started")]
    AgentStarted {
        agent_id: &'a str,
        task_id: &'a str,
        title: &'a str,
        role: &'a str,
        profile: SecurityProfile,
        worktree: Option<&'a PathBuf>,
    },
    /// `verified` is false when the session's facts contradict the agent's final message;
    /// `run.completed` carries the reason.
    #[serde(rename = "agent.finished")]
    AgentFinished {
        agent_id: &'a str,
        task_id: &'a str,
        status: TaskStatus,
        verified: bool,
        usage: Usage,
        duration_ms: u64,
        error: Option<&'a str>,
    },
    #[serde(rename = "merge.completed")]
    MergeCompleted { merged: &'a Merged },
    #[serde(rename = "run.completed")]
    RunCompleted { result: &'a RunReport },
}

/// An event of one agent's session, as `exec --json` prints it, with the agent's id.
#[derive(Debug, Serialize)]
pub struct AgentThreadEvent<'a> {
    pub agent_id: &'a str,
    #[serde(flatten)]
    pub event: ThreadEvent,
}

/// Prints a run's events as JSONL, translating each agent's session on its own.
#[derive(Debug, Default)]
pub struct SupervisorJsonl {
    agents: HashMap<String, ExecJsonl>,
}

impl SupervisorJsonl {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn render(&mut self, event: &SupervisorEvent) {
        match event {
            SupervisorEvent::PlanningStarted => emit_line(&RunEvent::PlanStarted {}),
            SupervisorEvent::PlanCreated { plan } => emit_line(&RunEvent::PlanCreated { plan }),
            SupervisorEvent::AgentStarted {
                agent_id,
                task_id,
                title,
                role,
                profile,
                worktree,
            } => emit_line(&RunEvent::AgentStarted {
                agent_id,
                task_id,
                title,
                role,
                profile: *profile,
                worktree: worktree.as_ref(),
            }),
            SupervisorEvent::Agent(event) => {
                let Some(agent_id) = &event.agent_id else {
                    return;
                };
                let translator = self.agents.entry(agent_id.clone()).or_default();
                for line in translator.translate(event) {
                    emit_line(&AgentThreadEvent {
                        agent_id,
                        event: line,
                    });
                }
            }
            SupervisorEvent::AgentCompleted {
                agent_id,
                task_id,
                status,
                verified,
                usage,
                duration_ms,
                error,
            } => emit_line(&RunEvent::AgentFinished {
                agent_id,
                task_id,
                status: *status,
                verified: *verified,
                usage: *usage,
                duration_ms: *duration_ms,
                error: error.as_deref(),
            }),
            SupervisorEvent::MergeCompleted { merged } => {
                emit_line(&RunEvent::MergeCompleted { merged })
            }
        }
    }

    /// The last line: the whole result.
    pub fn finish(&self, report: &RunReport) {
        emit_line(&RunEvent::RunCompleted { result: report });
    }
}
