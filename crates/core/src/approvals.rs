//! Pending approval requests: the gate waits on them, a front end answers through
//! [`cadre_protocol::Op::ApprovalDecision`].

use cadre_protocol::ReviewDecision;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::oneshot;

#[derive(Default)]
pub struct PendingApprovals {
    waiting: Mutex<HashMap<String, oneshot::Sender<ReviewDecision>>>,
}

impl PendingApprovals {
    /// Registers a request and returns where its answer will arrive.
    pub fn register(&self, request_id: &str) -> oneshot::Receiver<ReviewDecision> {
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .expect("approvals lock")
            .insert(request_id.to_string(), tx);
        rx
    }

    /// Delivers an answer; false when nobody is waiting for that id.
    pub fn resolve(&self, request_id: &str, decision: ReviewDecision) -> bool {
        let sender = self
            .waiting
            .lock()
            .expect("approvals lock")
            .remove(request_id);
        sender.is_some_and(|tx| tx.send(decision).is_ok())
    }

    /// Drops every waiting request (their gates see a denial).
    pub fn cancel_all(&self) {
        self.waiting.lock().expect("approvals lock").clear();
    }
}
