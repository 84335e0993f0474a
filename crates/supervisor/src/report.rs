//! What a run produces: one result per agent with the facts taken from its session, the merged
//! answer, and the totals. Serialised as-is for `--format json`.

use crate::merge::MergeStrategy;
use crate::plan::{Plan, Strategy};
use serde::{Deserialize, Serialize};

/// How a task (or one candidate of it) ended. Never `Completed` for an agent that hit a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Completed,
    Failed,
    TimedOut,
    BudgetExhausted,
    Stalled,
    Cancelled,
    Skipped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::TimedOut => "timed_out",
            TaskStatus::BudgetExhausted => "budget_exhausted",
            TaskStatus::Stalled => "stalled",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Skipped => "skipped",
        }
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChanged {
    pub path: String,
    pub added: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRun {
    pub command: String,
    pub exit_code: Option<i32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    /// The part of `input_tokens` the provider served from its prompt cache (priced at the
    /// cached rate, as `exec` and `deep-research` price it).
    #[serde(default)]
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.output_tokens += other.output_tokens;
    }

    /// The same counts in the protocol's shape, for pricing and the audit log.
    pub fn token_usage(&self) -> cadre_protocol::TokenUsage {
        cadre_protocol::TokenUsage {
            input_tokens: self.input_tokens,
            cached_input_tokens: self.cached_input_tokens,
            output_tokens: self.output_tokens,
            total_tokens: self.total(),
            ..Default::default()
        }
    }

    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl From<cadre_protocol::TokenUsage> for Usage {
    fn from(u: cadre_protocol::TokenUsage) -> Self {
        Usage {
            input_tokens: u.input_tokens,
            cached_input_tokens: u.cached_input_tokens,
            output_tokens: u.output_tokens,
        }
    }
}

/// The result of one agent run for one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    pub task_id: String,
    pub role: String,
    /// Empty for a task that never started.
    pub agent_id: String,
    pub status: TaskStatus,
    /// False when the session's facts contradict the final message (see `reason`).
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    pub final_message: Option<String>,
    pub files_changed: Vec<FileChanged>,
    pub commands: Vec<CommandRun>,
    /// Tool calls of every kind the agent made.
    pub tool_calls: u64,
    pub usage: Usage,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// The profile the agent ran under (its role's, capped by the run's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<cadre_protocol::SecurityProfile>,
    /// A branch kept for the user when merging the task's changes back conflicted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<MergeConflict>,
}

impl TaskResult {
    /// A result for a task that never ran.
    pub fn not_run(task_id: &str, role: &str, status: TaskStatus, why: impl Into<String>) -> Self {
        TaskResult {
            task_id: task_id.into(),
            role: role.into(),
            agent_id: String::new(),
            status,
            verified: true,
            verification: None,
            final_message: None,
            files_changed: vec![],
            commands: vec![],
            tool_calls: 0,
            usage: Usage::default(),
            duration_ms: 0,
            error: Some(why.into()),
            profile: None,
            conflict: None,
        }
    }
}

/// Changes that could not be applied to the main checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeConflict {
    pub files: Vec<String>,
    /// The branch holding the task's changes.
    pub branch: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub task_id: String,
    /// The normalised answer.
    pub answer: String,
    pub count: usize,
    pub agents: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub task_id: String,
    pub agent_id: String,
    pub score: f64,
    pub reason: String,
}

/// The merged answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    pub text: String,
    /// The winning agent of each task (voting and highest-score), by task id.
    pub winner: std::collections::BTreeMap<String, String>,
    pub votes: Vec<Vote>,
    /// Task ids whose vote ended in a tie (the earliest answer among the tied wins).
    pub ties: Vec<String>,
    pub scores: Vec<Score>,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub goal: String,
    pub strategy: Strategy,
    pub merge: MergeStrategy,
    pub plan: Plan,
    /// One per task; with several candidates per task, every candidate (the winner is named in
    /// `merged.winner`).
    pub results: Vec<TaskResult>,
    pub merged: Merged,
    /// Every agent, the planner and the judge together.
    pub usage: Usage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    pub duration_ms: u64,
    /// Why the run stopped early, when it did (budget, timeout, cancellation).
    pub stopped: Option<String>,
}

impl RunReport {
    /// Every task reached `completed` (for at least one candidate) and merged back cleanly.
    pub fn all_completed(&self) -> bool {
        self.plan.tasks.iter().all(|task| {
            self.results
                .iter()
                .any(|r| r.task_id == task.id && r.status == TaskStatus::Completed)
                && !self
                    .results
                    .iter()
                    .any(|r| r.task_id == task.id && r.conflict.is_some())
        })
    }
}
