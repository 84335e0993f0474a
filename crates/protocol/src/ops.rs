//! Operations a front end sends into a session.

use crate::events::ReviewDecision;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Op {
    /// Start a turn with this user input.
    UserInput { text: String },
    /// Stop the running turn: kill the running command, record the interruption.
    Interrupt,
    /// Answer an [`crate::EventMsg::ApprovalRequest`].
    ApprovalDecision {
        request_id: String,
        decision: ReviewDecision,
    },
    /// End the session after the running turn.
    Shutdown,
}
