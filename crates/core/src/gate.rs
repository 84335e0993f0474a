//! The core's [`ActionGate`]: the command policy decides, the approval mode settles `ask`, and
//! the audit log records every decision before the action it authorises proceeds.

use crate::approvals::PendingApprovals;
use crate::audit_sink::{AuditSink, CommandRecord};
use async_trait::async_trait;
use cadre_protocol::{
    ApprovalMode, EventMsg, ExecStatus, FileChange, ReviewDecision, SecurityProfile,
};
use cadre_tools::{ActionGate, CommandAction, GateVerdict};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// What the command policy said about one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVerdict {
    pub decision: PolicyDecision,
    /// The id of the rule that matched.
    pub rule: String,
    pub reason: String,
    /// No rule knew the command (as opposed to a rule that says `ask`).
    pub unknown: bool,
}

pub use cadre_protocol::PolicyDecision;

/// What a session does with a command once the policy has spoken, under a profile and an
/// approval mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandFate {
    /// It runs: confined by the profile's sandbox, or unconfined under `trusted`.
    Run { sandboxed: bool },
    /// A person is asked first.
    Ask,
    /// It does not run: the policy forbids it, or it needs an approval nobody can give.
    Refuse,
}

/// Whether a command needs a person's approval. `on-request` follows Codex's meaning: under a
/// sandboxed profile everything runs inside the sandbox, which holds what the profile forbids,
/// so only commands that would run unconfined (`trusted`) are asked about. `untrusted` asks
/// for anything no rule knows to be safe.
fn approval_needed(verdict: &PolicyVerdict, profile: SecurityProfile, mode: ApprovalMode) -> bool {
    match mode {
        ApprovalMode::Untrusted => verdict.decision != PolicyDecision::Allow,
        ApprovalMode::OnRequest => {
            profile == SecurityProfile::Trusted
                && verdict.decision == PolicyDecision::Ask
                && !verdict.unknown
        }
        ApprovalMode::OnFailure | ApprovalMode::Never => false,
    }
}

/// The fate of a command with this verdict; `interactive` says whether a person can answer.
pub fn command_fate(
    verdict: &PolicyVerdict,
    profile: SecurityProfile,
    mode: ApprovalMode,
    interactive: bool,
) -> CommandFate {
    if verdict.decision == PolicyDecision::Forbid {
        CommandFate::Refuse
    } else if approval_needed(verdict, profile, mode) {
        if interactive {
            CommandFate::Ask
        } else {
            CommandFate::Refuse
        }
    } else {
        CommandFate::Run {
            sandboxed: profile != SecurityProfile::Trusted,
        }
    }
}

/// What would let a command that needed an approval run where nobody can answer.
pub fn approval_hint(profile: SecurityProfile) -> &'static str {
    if profile == SecurityProfile::Trusted {
        "to run it unasked, allow it with a rule in ~/.cadre/policy.toml (see `cadre policy show`), or pass --ask-for-approval never"
    } else {
        "to let the sandbox hold it instead, pass --ask-for-approval on-request (or set approval_policy = \"on-request\"), or allow it with a rule in ~/.cadre/policy.toml"
    }
}

/// Decides allow / ask / forbid for a command.
pub trait CommandPolicy: Send + Sync {
    fn evaluate(&self, argv: &[String]) -> PolicyVerdict;
}

pub struct CoreGate {
    pub profile: SecurityProfile,
    pub approval: ApprovalMode,
    /// A person can answer approval requests (the TUI); false in `exec`.
    pub interactive: bool,
    pub policy: Arc<dyn CommandPolicy>,
    pub audit: Arc<dyn AuditSink>,
    pub events: UnboundedSender<EventMsg>,
    pub approvals: Arc<PendingApprovals>,
    pub cancel: CancellationToken,
    decisions: Mutex<std::collections::HashMap<String, CommandRecord>>,
}

impl CoreGate {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        profile: SecurityProfile,
        approval: ApprovalMode,
        interactive: bool,
        policy: Arc<dyn CommandPolicy>,
        audit: Arc<dyn AuditSink>,
        events: UnboundedSender<EventMsg>,
        approvals: Arc<PendingApprovals>,
        cancel: CancellationToken,
    ) -> Self {
        CoreGate {
            profile,
            approval,
            interactive,
            policy,
            audit,
            events,
            approvals,
            cancel,
            decisions: Mutex::new(Default::default()),
        }
    }

    fn needs_approval(&self, verdict: &PolicyVerdict, display: &str) -> bool {
        !self.approvals.is_approved_for_session(display)
            && approval_needed(verdict, self.profile, self.approval)
    }

    /// Asks the front end, or settles by the approval mode when no one can answer.
    async fn ask(
        &self,
        action: &CommandAction,
        verdict: &PolicyVerdict,
    ) -> (ReviewDecision, String) {
        let request_id = format!("approval-{}", action.call_id);
        if !self.interactive {
            let decision = ReviewDecision::Denied;
            let by = format!("approval mode {} (no one to ask)", self.approval);
            let _ = self.events.send(EventMsg::ApprovalResolved {
                request_id,
                decision,
                by: by.clone(),
            });
            return (decision, by);
        }
        let answer = self.approvals.register(&request_id);
        let _ = self.events.send(EventMsg::ApprovalRequest {
            request_id: request_id.clone(),
            call_id: action.call_id.clone(),
            command: action.display.clone(),
            reason: verdict.reason.clone(),
            rule: Some(verdict.rule.clone()),
        });
        let decision = tokio::select! {
            answer = answer => answer.unwrap_or(ReviewDecision::Denied),
            _ = self.cancel.cancelled() => ReviewDecision::Abort,
        };
        let by = "user".to_string();
        let _ = self.events.send(EventMsg::ApprovalResolved {
            request_id,
            decision,
            by: by.clone(),
        });
        (decision, by)
    }

    /// Writes a record that must be on disk before the action proceeds. Restricted profiles
    /// refuse to act without it; `trusted` warns and goes on.
    async fn durable(&self, record: &CommandRecord) -> Option<GateVerdict> {
        match self.audit.command_decided(record).await {
            Ok(()) => None,
            Err(err) if self.profile == SecurityProfile::Trusted => {
                let _ = self.events.send(EventMsg::Warning {
                    message: format!("audit log not written: {err}"),
                });
                None
            }
            Err(err) => Some(GateVerdict::Deny {
                reason: format!(
                    "the audit log cannot be written ({err}); restricted profiles do not act unrecorded. Fix the audit directory or disable the log with -c audit.enabled=false"
                ),
            }),
        }
    }
}

#[async_trait]
impl ActionGate for CoreGate {
    async fn before_command(&self, action: &CommandAction) -> GateVerdict {
        let verdict = self.policy.evaluate(&action.argv);
        let mut record = CommandRecord {
            call_id: action.call_id.clone(),
            argv: action.argv.clone(),
            display: action.display.clone(),
            cwd: action.cwd.clone(),
            profile: self.profile,
            decision: verdict.decision,
            rule: verdict.rule.clone(),
            approval: None,
            allowed: false,
        };
        if verdict.decision == PolicyDecision::Forbid {
            let _ = self.durable(&record).await;
            return GateVerdict::Deny {
                reason: format!(
                    "forbidden by policy rule `{}`{}; no approval lifts a forbid rule",
                    verdict.rule,
                    if verdict.reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", verdict.reason)
                    }
                ),
            };
        }
        if self.needs_approval(&verdict, &action.display) {
            let (decision, by) = self.ask(action, &verdict).await;
            record.approval = Some((decision, self.interactive));
            match decision {
                ReviewDecision::Approved => {}
                ReviewDecision::ApprovedForSession => {
                    self.approvals.approve_for_session(&action.display);
                }
                ReviewDecision::Denied => {
                    let _ = self.durable(&record).await;
                    return GateVerdict::Deny {
                        reason: if self.interactive {
                            format!(
                                "needs approval (policy rule `{}`) and was not approved: {by}",
                                verdict.rule
                            )
                        } else {
                            format!(
                                "needs approval (policy rule `{}`) and was not approved: {by}; {}",
                                verdict.rule,
                                approval_hint(self.profile)
                            )
                        },
                    };
                }
                ReviewDecision::Abort => {
                    let _ = self.durable(&record).await;
                    return GateVerdict::Abort {
                        reason: "the user stopped the turn at an approval".into(),
                    };
                }
            }
        }
        record.allowed = true;
        if let Some(refusal) = self.durable(&record).await {
            return refusal;
        }
        self.decisions
            .lock()
            .expect("decisions lock")
            .insert(action.call_id.clone(), record);
        GateVerdict::Allow
    }

    async fn after_command(
        &self,
        action: &CommandAction,
        status: ExecStatus,
        exit_code: Option<i32>,
        duration_ms: u64,
        output: &str,
    ) {
        let record = self
            .decisions
            .lock()
            .expect("decisions lock")
            .remove(&action.call_id);
        if let Some(record) = record {
            self.audit
                .command_finished(&record, status, exit_code, duration_ms, output)
                .await;
        }
    }

    async fn before_patch(&self, call_id: &str, changes: &[FileChange]) -> GateVerdict {
        match self.audit.file_change(call_id, changes).await {
            Ok(()) => GateVerdict::Allow,
            Err(err) if self.profile == SecurityProfile::Trusted => {
                let _ = self.events.send(EventMsg::Warning {
                    message: format!("audit log not written: {err}"),
                });
                GateVerdict::Allow
            }
            Err(err) => GateVerdict::Deny {
                reason: format!("the audit log cannot be written ({err}); no file was changed"),
            },
        }
    }

    async fn after_patch(&self, _call_id: &str, _changes: &[FileChange], _success: bool) {}
}

/// The command policy crate's rules, as the gate consults them.
impl CommandPolicy for cadre_policy::Policy {
    fn evaluate(&self, argv: &[String]) -> PolicyVerdict {
        PolicyVerdict::from(self.check_argv(argv))
    }
}

impl From<cadre_policy::Evaluation> for PolicyVerdict {
    fn from(evaluation: cadre_policy::Evaluation) -> Self {
        PolicyVerdict {
            decision: evaluation.decision,
            unknown: evaluation.unknown,
            rule: evaluation.rule,
            reason: evaluation.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_sink::NoAudit;

    struct AskEverything;

    impl CommandPolicy for AskEverything {
        fn evaluate(&self, _argv: &[String]) -> PolicyVerdict {
            PolicyVerdict {
                decision: PolicyDecision::Ask,
                rule: "test:ask".into(),
                reason: "asks".into(),
                unknown: false,
            }
        }
    }

    fn action() -> CommandAction {
        CommandAction {
            call_id: "call_1".into(),
            argv: vec!["bash".into(), "-c".into(), "make deploy".into()],
            display: "make deploy".into(),
            cwd: std::env::temp_dir(),
        }
    }

    #[test]
    fn on_request_asks_only_about_what_would_run_unconfined() {
        let verdict = |decision, unknown| PolicyVerdict {
            decision,
            rule: "r".into(),
            reason: String::new(),
            unknown,
        };
        let ask = verdict(PolicyDecision::Ask, false);
        let unknown = verdict(PolicyDecision::Ask, true);
        let forbid = verdict(PolicyDecision::Forbid, false);
        let sandboxed = CommandFate::Run { sandboxed: true };
        use ApprovalMode::*;
        use SecurityProfile::*;
        for profile in [Offline, NetReadOnly, WorkspaceWrite, WorkspaceNet] {
            assert_eq!(command_fate(&ask, profile, OnRequest, false), sandboxed);
            assert_eq!(command_fate(&unknown, profile, OnRequest, true), sandboxed);
            assert_eq!(
                command_fate(&ask, profile, Untrusted, true),
                CommandFate::Ask
            );
            assert_eq!(
                command_fate(&ask, profile, Untrusted, false),
                CommandFate::Refuse
            );
            assert_eq!(
                command_fate(&forbid, profile, Never, true),
                CommandFate::Refuse
            );
        }
        assert_eq!(
            command_fate(&ask, Trusted, OnRequest, true),
            CommandFate::Ask
        );
        assert_eq!(
            command_fate(&unknown, Trusted, OnRequest, true),
            CommandFate::Run { sandboxed: false }
        );
        assert_eq!(
            command_fate(&ask, Trusted, Never, false),
            CommandFate::Run { sandboxed: false }
        );
    }

    #[tokio::test]
    async fn an_approval_for_the_session_outlives_the_gate_of_one_answer() {
        let approvals = Arc::new(PendingApprovals::default());
        let (events, mut seen) = tokio::sync::mpsc::unbounded_channel();
        let gate = |approvals: &Arc<PendingApprovals>| {
            CoreGate::new(
                SecurityProfile::WorkspaceWrite,
                ApprovalMode::Untrusted,
                true,
                Arc::new(AskEverything),
                Arc::new(NoAudit),
                events.clone(),
                approvals.clone(),
                CancellationToken::new(),
            )
        };
        // The first answer's gate asks; the person approves for the session.
        let answering = approvals.clone();
        let answer = tokio::spawn(async move {
            while let Some(event) = seen.recv().await {
                if let EventMsg::ApprovalRequest { request_id, .. } = event {
                    answering.resolve(&request_id, ReviewDecision::ApprovedForSession);
                    return seen;
                }
            }
            panic!("no approval request");
        });
        assert_eq!(
            gate(&approvals).before_command(&action()).await,
            GateVerdict::Allow
        );
        let mut seen = answer.await.unwrap();
        while seen.try_recv().is_ok() {}

        // A later answer gets a new gate: the same command runs without asking again (were it
        // to ask, nobody would answer and the guard below would end the wait).
        let second = gate(&approvals);
        let verdict = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            second.before_command(&action()),
        )
        .await
        .expect("the gate asked again for a command approved for the session");
        assert_eq!(verdict, GateVerdict::Allow);
        let asked_again = std::iter::from_fn(|| seen.try_recv().ok())
            .any(|e| matches!(e, EventMsg::ApprovalRequest { .. }));
        assert!(!asked_again);
    }
}
