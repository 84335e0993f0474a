//! A session's approvals: the requests the gate waits on (a front end answers them through
//! [`cadre_protocol::Op::ApprovalDecision`]) and the commands approved for the whole session.

use cadre_protocol::ReviewDecision;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tokio::sync::oneshot;

#[derive(Default)]
pub struct PendingApprovals {
    waiting: Mutex<HashMap<String, oneshot::Sender<ReviewDecision>>>,
    /// Commands answered with "approved for the session": they run without asking again.
    approved_for_session: Mutex<HashSet<String>>,
}

impl PendingApprovals {
    pub fn approve_for_session(&self, command: &str) {
        self.approved_for_session
            .lock()
            .expect("approvals lock")
            .insert(command.to_string());
    }

    pub fn is_approved_for_session(&self, command: &str) -> bool {
        self.approved_for_session
            .lock()
            .expect("approvals lock")
            .contains(command)
    }

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
