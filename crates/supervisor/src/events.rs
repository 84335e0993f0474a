//! What a run reports while it works: the agents' own events, stamped with their agent ids, and
//! the supervisor's milestones. Front ends render them (a live tree, a JSONL stream); the JSONL
//! schema belongs to the front end that prints it.

use crate::plan::Plan;
use crate::report::{Merged, TaskStatus, Usage};
use cadre_protocol::{Event, SecurityProfile};
use std::path::PathBuf;
use tokio::sync::mpsc::UnboundedSender;

#[derive(Debug, Clone)]
pub enum SupervisorEvent {
    /// The planning request is about to be sent.
    PlanningStarted,
    PlanCreated {
        plan: Plan,
    },
    AgentStarted {
        agent_id: String,
        task_id: String,
        title: String,
        role: String,
        profile: SecurityProfile,
        /// The git worktree the agent works in, when isolated.
        worktree: Option<PathBuf>,
    },
    /// An event of an agent's session (its `agent_id` is set).
    Agent(Event),
    AgentCompleted {
        agent_id: String,
        task_id: String,
        status: TaskStatus,
        verified: bool,
        usage: Usage,
        duration_ms: u64,
        error: Option<String>,
    },
    MergeCompleted {
        merged: Merged,
    },
}

/// Where events go; sending never fails the run (a front end that went away just stops
/// listening).
#[derive(Clone, Default)]
pub struct EventSink {
    sender: Option<UnboundedSender<SupervisorEvent>>,
}

impl EventSink {
    pub fn new(sender: UnboundedSender<SupervisorEvent>) -> Self {
        EventSink {
            sender: Some(sender),
        }
    }

    /// A sink that drops everything.
    pub fn none() -> Self {
        EventSink::default()
    }

    pub fn send(&self, event: SupervisorEvent) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(event);
        }
    }
}
