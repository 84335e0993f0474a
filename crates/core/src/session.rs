//! A session: the conversation, its transcript, and the turn loop that calls the model and runs
//! the tools it asks for.

use crate::CoreError;
use crate::approvals::PendingApprovals;
use crate::audit_sink::{AuditSink, SessionInfo};
use crate::config::Config;
use crate::context;
use crate::gate::{CommandPolicy, CoreGate};
use crate::model_window::ModelWindow;
use crate::transcript::{self, SessionMeta, TranscriptLine, TranscriptWriter};
use cadre_model::{ModelClient, ModelError, ModelEvent, Prompt};
use cadre_protocol::{
    AbortReason, Event, EventMsg, IncompleteReason, Op, ResponseItem, TokenUsage,
};
use cadre_sandbox::Sandbox;
use cadre_tools::{ToolCall, ToolContext, ToolRegistry, ToolResult};
use futures::future::join_all;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio_util::sync::CancellationToken;

/// Everything needed to start (or resume) a session.
pub struct SessionOptions {
    pub config: Config,
    /// A transcript to continue instead of starting afresh.
    pub resume: Option<PathBuf>,
    /// A person can answer approval requests.
    pub interactive: bool,
    /// The executable that applies sandbox policies (normally this very binary).
    pub launcher: Option<PathBuf>,
    pub policy: Arc<dyn CommandPolicy>,
    pub audit: Arc<dyn AuditSink>,
    /// Set for sub-agents; stamped on every event.
    pub agent_id: Option<String>,
    pub parent_session_id: Option<String>,
    /// The tools offered; `None` means the default set.
    pub tools: Option<ToolRegistry>,
    /// Instructions added after cadre's system prompt (a sub-agent's role, say).
    pub extra_instructions: Option<String>,
    /// The id of a new session, when the caller chose it first (to stamp its own records with
    /// it); `None` picks a fresh one. Ignored when resuming.
    pub session_id: Option<String>,
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    Completed {
        last_message: Option<String>,
        usage: TokenUsage,
    },
    Aborted {
        reason: AbortReason,
        usage: TokenUsage,
    },
    Failed {
        error: String,
        usage: TokenUsage,
    },
}

/// A running session seen from a front end: send ops, read events.
pub struct SessionHandle {
    pub session_id: String,
    pub transcript_path: PathBuf,
    ops: UnboundedSender<Op>,
    pub events: UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

impl SessionHandle {
    pub fn submit(&self, op: Op) {
        let _ = self.ops.send(op);
    }

    /// A sender for ops that can be moved to another task (a Ctrl-C handler, say).
    pub fn op_sender(&self) -> UnboundedSender<Op> {
        self.ops.clone()
    }

    /// Waits for the session task to finish (after [`Op::Shutdown`]).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

pub struct Session {
    id: String,
    config: Config,
    client: ModelClient,
    tools: ToolRegistry,
    sandbox: Arc<Sandbox>,
    history: Vec<ResponseItem>,
    transcript: TranscriptWriter,
    events: UnboundedSender<EventMsg>,
    policy: Arc<dyn CommandPolicy>,
    audit: Arc<dyn AuditSink>,
    interactive: bool,
    approvals: Arc<PendingApprovals>,
    instructions: String,
    extra_instructions: Option<String>,
    window: ModelWindow,
    proxy_decisions: Option<UnboundedReceiver<cadre_sandbox::ProxyDecision>>,
    turn_counter: u64,
    item_counter: Arc<std::sync::atomic::AtomicU64>,
    /// Calls of the resumed transcript that had no output and were closed as aborted.
    closed_on_resume: usize,
}

/// A fresh session id (time-ordered, so transcripts sort by start).
pub fn new_session_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Starts a session on the current tokio runtime.
pub async fn spawn(options: SessionOptions) -> Result<SessionHandle, CoreError> {
    let (event_tx, event_rx) = mpsc::unbounded_channel::<Event>();
    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel::<EventMsg>();
    let agent_id = options.agent_id.clone();
    tokio::spawn(async move {
        while let Some(msg) = msg_rx.recv().await {
            if event_tx
                .send(Event {
                    agent_id: agent_id.clone(),
                    msg,
                })
                .is_err()
            {
                break;
            }
        }
    });

    let resumed = options.resume.is_some();
    let agent_id = options
        .agent_id
        .clone()
        .unwrap_or_else(|| "main".to_string());
    let parent_agent_id = options.parent_session_id.clone();
    let mut session = Session::start(options, msg_tx.clone())?;
    session.window = ModelWindow::discover(&session.config, &session.client).await;
    session.instructions = session
        .window
        .instructions(session.extra_instructions.as_deref());
    session.audit = session
        .audit
        .start_session(&SessionInfo {
            session_id: session.id.clone(),
            agent_id,
            parent_agent_id,
            profile: session.config.profile,
            approval: session.config.approval,
            model: session.config.model.clone(),
            provider: session.config.provider_id.clone(),
            cwd: session.config.cwd.clone(),
            config_files: session.config.sources.clone(),
        })
        .await;
    if let Some(mut decisions) = session.proxy_decisions.take() {
        let audit = session.audit.clone();
        tokio::spawn(async move {
            while let Some(decision) = decisions.recv().await {
                audit.proxy_decision(&decision).await;
            }
        });
    }
    let session_id = session.id.clone();
    let transcript_path = session.transcript.path().to_path_buf();
    let _ = msg_tx.send(EventMsg::SessionConfigured {
        session_id: session_id.clone(),
        model: session.config.model.clone(),
        provider: session.config.provider_id.clone(),
        profile: session.config.profile,
        approval_mode: session.config.approval,
        cwd: session.config.cwd.clone(),
        transcript_path: transcript_path.clone(),
        resumed,
    });
    if session.closed_on_resume > 0 {
        let _ = msg_tx.send(EventMsg::Warning {
            message: format!(
                "{} tool call(s) of the last run never finished (cadre was stopped); the model is told: \"{ABORTED_CALL_OUTPUT}\"",
                session.closed_on_resume
            ),
        });
    }

    let (op_tx, op_rx) = mpsc::unbounded_channel::<Op>();
    let task = tokio::spawn(session.run(op_rx));
    Ok(SessionHandle {
        session_id,
        transcript_path,
        ops: op_tx,
        events: event_rx,
        task,
    })
}

impl Session {
    fn start(
        options: SessionOptions,
        events: UnboundedSender<EventMsg>,
    ) -> Result<Self, CoreError> {
        let config = options.config;
        let client = ModelClient::new(config.provider.clone())?;
        let (proxy_tx, proxy_decisions) = mpsc::unbounded_channel();
        let observer: cadre_sandbox::ProxyObserver = Arc::new(move |decision| {
            let _ = proxy_tx.send(decision);
        });
        let sandbox = Arc::new(Sandbox::with_proxy_observer(
            config.sandbox_policy(),
            options.launcher,
            Some(observer),
        )?);
        let tools = options.tools.unwrap_or_else(cadre_tools::default_registry);
        let mut closed_on_resume = 0;
        let (id, history, transcript) = match options.resume {
            Some(path) => {
                let loaded = transcript::load(&path)?;
                let mut writer = TranscriptWriter::reopen(&path)?;
                let mut history = loaded.items;
                let mut added = close_dangling_calls(&history);
                closed_on_resume = added.len();
                if loaded.cwd != config.cwd || loaded.profile != config.profile {
                    writer.append(&TranscriptLine::EnvironmentChanged {
                        ts: chrono::Utc::now().to_rfc3339(),
                        cwd: config.cwd.clone(),
                        profile: config.profile,
                    })?;
                    added.push(context::environment_change_message(
                        (&loaded.cwd, loaded.profile),
                        &config.cwd,
                        config.profile,
                        config.approval,
                    ));
                }
                for item in added {
                    writer.append(&TranscriptLine::Item { item: item.clone() })?;
                    history.push(item);
                }
                (loaded.meta.id, history, writer)
            }
            None => {
                let id = options.session_id.clone().unwrap_or_else(new_session_id);
                let meta = SessionMeta {
                    id: id.clone(),
                    created_at: chrono::Utc::now().to_rfc3339(),
                    cwd: config.cwd.clone(),
                    model: config.model.clone(),
                    provider: config.provider_id.clone(),
                    profile: config.profile,
                    cadre_version: env!("CARGO_PKG_VERSION").to_string(),
                    parent_session_id: options.parent_session_id.clone(),
                };
                let mut writer = TranscriptWriter::create(&config.sessions_dir(), &meta)?;
                let mut history = Vec::new();
                if let Some(agents) = context::agents_message(&config.cwd) {
                    history.push(agents);
                }
                history.push(context::environment_message(
                    &config.cwd,
                    config.profile,
                    config.approval,
                ));
                for item in &history {
                    writer.append(&TranscriptLine::Item { item: item.clone() })?;
                }
                (id, history, writer)
            }
        };
        let window = ModelWindow::new(&config, None);
        Ok(Session {
            id,
            config,
            client,
            tools,
            sandbox,
            history,
            transcript,
            events,
            policy: options.policy,
            audit: options.audit,
            interactive: options.interactive,
            approvals: Arc::new(PendingApprovals::default()),
            window,
            instructions: window.instructions(options.extra_instructions.as_deref()),
            extra_instructions: options.extra_instructions,
            proxy_decisions: Some(proxy_decisions),
            turn_counter: 0,
            item_counter: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            closed_on_resume,
        })
    }

    /// Processes ops until shutdown: turns one at a time, interrupts and approvals at any time.
    async fn run(mut self, mut ops: UnboundedReceiver<Op>) {
        let current_turn: Arc<Mutex<Option<CancellationToken>>> = Arc::new(Mutex::new(None));
        let (input_tx, mut input_rx) = mpsc::unbounded_channel::<Option<String>>();
        let approvals = self.approvals.clone();
        let router_turn = current_turn.clone();
        tokio::spawn(async move {
            while let Some(op) = ops.recv().await {
                match op {
                    Op::UserInput { text } => {
                        let _ = input_tx.send(Some(text));
                    }
                    Op::Interrupt => {
                        if let Some(token) = router_turn.lock().expect("turn lock").as_ref() {
                            token.cancel();
                        }
                        approvals.cancel_all();
                    }
                    Op::ApprovalDecision {
                        request_id,
                        decision,
                    } => {
                        approvals.resolve(&request_id, decision);
                    }
                    Op::Shutdown => {
                        let _ = input_tx.send(None);
                    }
                }
            }
            let _ = input_tx.send(None);
        });
        let mut total = TokenUsage::default();
        let mut status = "completed".to_string();
        while let Some(Some(text)) = input_rx.recv().await {
            let cancel = CancellationToken::new();
            *current_turn.lock().expect("turn lock") = Some(cancel.clone());
            let outcome = self.run_turn(text, cancel).await;
            *current_turn.lock().expect("turn lock") = None;
            let (turn_status, usage) = match outcome {
                TurnOutcome::Completed { usage, .. } => ("completed".to_string(), usage),
                TurnOutcome::Aborted { reason, usage } => (format!("aborted: {reason}"), usage),
                TurnOutcome::Failed { error, usage } => (format!("failed: {error}"), usage),
            };
            total.add(&usage);
            status = turn_status;
        }
        self.audit.end_session(&status, total).await;
        let _ = self.events.send(EventMsg::ShutdownComplete);
    }

    fn next_item_id(&self, prefix: &str) -> String {
        let n = self
            .item_counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}_{n}")
    }

    fn emit(&self, msg: EventMsg) {
        let _ = self.events.send(msg);
    }

    fn record(&mut self, line: TranscriptLine) {
        if let Err(err) = self.transcript.append(&line) {
            self.emit(EventMsg::Warning {
                message: err.to_string(),
            });
        }
    }

    fn push_item(&mut self, item: ResponseItem) {
        self.record(TranscriptLine::Item { item: item.clone() });
        self.history.push(item);
    }

    /// Runs one turn to its end and reports how it ended (also as events).
    pub async fn run_turn(&mut self, input: String, cancel: CancellationToken) -> TurnOutcome {
        self.turn_counter += 1;
        let turn_id = format!("turn_{}", self.turn_counter);
        let now = || chrono::Utc::now().to_rfc3339();
        self.record(TranscriptLine::TurnStarted {
            turn_id: turn_id.clone(),
            ts: now(),
        });
        self.emit(EventMsg::TurnStarted {
            turn_id: turn_id.clone(),
        });
        self.push_item(ResponseItem::user(input));

        let mut usage = TokenUsage::default();
        let deadline = self
            .config
            .turn_timeout
            .map(|t| tokio::time::Instant::now() + t);
        let timer_cancel = cancel.clone();
        let timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let timer = deadline.map(|deadline| {
            let flag = timed_out.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(deadline).await;
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                timer_cancel.cancel();
            })
        });

        let outcome = self.turn_loop(&cancel, &mut usage).await;
        if let Some(timer) = timer {
            timer.abort();
        }
        let outcome = match outcome {
            LoopEnd::Done(last_message) => TurnOutcome::Completed {
                last_message,
                usage,
            },
            LoopEnd::Cancelled => {
                let reason = if timed_out.load(std::sync::atomic::Ordering::SeqCst) {
                    AbortReason::TimeLimit {
                        seconds: self.config.turn_timeout.map(|t| t.as_secs()).unwrap_or(0),
                    }
                } else {
                    AbortReason::Interrupted
                };
                TurnOutcome::Aborted { reason, usage }
            }
            LoopEnd::Aborted(reason) => TurnOutcome::Aborted { reason, usage },
            LoopEnd::Failed(error) => TurnOutcome::Failed { error, usage },
        };
        match &outcome {
            TurnOutcome::Completed {
                last_message,
                usage,
            } => {
                self.record(TranscriptLine::TurnCompleted {
                    turn_id: turn_id.clone(),
                    ts: now(),
                    usage: *usage,
                });
                self.emit(EventMsg::TurnComplete {
                    turn_id,
                    usage: *usage,
                    last_agent_message: last_message.clone(),
                });
            }
            TurnOutcome::Aborted { reason, usage } => {
                self.record(TranscriptLine::TurnAborted {
                    turn_id: turn_id.clone(),
                    ts: now(),
                    reason: reason.to_string(),
                    why: Some(reason.clone()),
                    usage: *usage,
                });
                self.emit(EventMsg::TurnAborted {
                    turn_id,
                    reason: reason.clone(),
                    usage: *usage,
                });
            }
            TurnOutcome::Failed { error, usage } => {
                self.record(TranscriptLine::TurnFailed {
                    turn_id: turn_id.clone(),
                    ts: now(),
                    error: error.clone(),
                    usage: *usage,
                });
                self.emit(EventMsg::TurnFailed {
                    turn_id,
                    error: error.clone(),
                    usage: *usage,
                });
            }
        }
        outcome
    }

    async fn turn_loop(&mut self, cancel: &CancellationToken, usage: &mut TokenUsage) -> LoopEnd {
        let tool_specs = self.window.tool_specs(self.tools.specs());
        let mut last_message = None;
        let mut cut_off_calls_in_a_row = 0;
        for _ in 0..self.config.max_model_calls_per_turn {
            let prompt = Prompt {
                model: self.config.model.clone(),
                instructions: self.instructions.clone(),
                input: self.history.clone(),
                tools: tool_specs.clone(),
                parallel_tool_calls: true,
                max_output_tokens: Some(self.window.max_output_tokens),
            };
            let answer = tokio::select! {
                answer = self.call_model(&prompt) => answer,
                _ = cancel.cancelled() => return LoopEnd::Cancelled,
            };
            let answer = match answer {
                Ok(answer) => answer,
                // A typed error: an overflow (`ContextLengthExceeded`) is where compaction hooks in.
                Err(error) => return LoopEnd::Failed(error.to_string()),
            };
            if let Some(call_usage) = answer.usage {
                usage.add(&call_usage);
                self.emit(EventMsg::TokenCount {
                    last: call_usage,
                    total: *usage,
                });
            }
            if let Some(reason) = answer.incomplete {
                self.emit(EventMsg::ResponseIncomplete {
                    reason,
                    max_output_tokens: Some(self.window.max_output_tokens),
                });
            }
            let mut calls = Vec::new();
            let mut invalid_calls = Vec::new();
            for mut item in answer.items {
                match &mut item {
                    ResponseItem::Message { content, .. } => {
                        self.emit(EventMsg::AgentMessage {
                            item_id: answer.message_id.clone(),
                            text: content.clone(),
                        });
                        last_message = Some(content.clone());
                    }
                    ResponseItem::Reasoning { summary, .. } if !summary.is_empty() => {
                        self.emit(EventMsg::Reasoning {
                            item_id: answer.reasoning_id.clone(),
                            text: summary.join("\n\n"),
                        });
                    }
                    ResponseItem::FunctionCall {
                        call_id,
                        name,
                        arguments,
                        ..
                    } => match cadre_model::invalid_arguments(arguments) {
                        None => calls.push(ToolCall {
                            call_id: call_id.clone(),
                            name: name.clone(),
                            arguments: arguments.clone(),
                        }),
                        Some(error) => {
                            // Never run, and never sent back as it is: servers parse the
                            // arguments in the history, and llama.cpp fails the whole request.
                            self.emit(EventMsg::ToolCallInvalid {
                                call_id: call_id.clone(),
                                tool: name.clone(),
                                error: error.clone(),
                            });
                            invalid_calls.push((call_id.clone(), error));
                            *arguments = "{}".to_string();
                        }
                    },
                    _ => {}
                }
                self.push_item(item);
            }
            for (call_id, error) in &invalid_calls {
                let output =
                    not_run_output(error, answer.incomplete, self.window.max_output_tokens);
                self.push_item(ResponseItem::FunctionCallOutput {
                    call_id: call_id.clone(),
                    output,
                });
            }
            if calls.is_empty() && invalid_calls.is_empty() {
                return LoopEnd::Done(last_message);
            }
            if calls.is_empty() {
                // Only broken calls: the model is told and asked again, but an answer cut off
                // by the output limit twice in a row will not fit the third time either.
                cut_off_calls_in_a_row += usize::from(answer.incomplete.is_some());
                if cut_off_calls_in_a_row >= 2 {
                    return LoopEnd::Aborted(AbortReason::OutputLimit {
                        max_output_tokens: self.window.max_output_tokens,
                    });
                }
                continue;
            }
            cut_off_calls_in_a_row = 0;
            let results = self.run_tools(&calls, cancel).await;
            let mut abort = None;
            for (call, result) in calls.iter().zip(results) {
                if result.abort_turn && abort.is_none() {
                    abort = Some(AbortReason::Tool {
                        message: result.output.clone(),
                    });
                }
                self.push_item(ResponseItem::FunctionCallOutput {
                    call_id: call.call_id.clone(),
                    output: result.output,
                });
            }
            if let Some(reason) = abort {
                return LoopEnd::Aborted(reason);
            }
            if cancel.is_cancelled() {
                return LoopEnd::Cancelled;
            }
        }
        LoopEnd::Aborted(AbortReason::ModelCallLimit {
            calls: self.config.max_model_calls_per_turn,
        })
    }

    /// Streams one model answer, forwarding deltas as events.
    async fn call_model(&self, prompt: &Prompt) -> Result<ModelAnswer, ModelError> {
        crate::audit_sink::record_model_request(
            self.audit.as_ref(),
            &self.config.provider.base_url,
            "model request",
        );
        let mut stream = self.client.stream(prompt).await?;
        let mut answer = ModelAnswer {
            items: Vec::new(),
            usage: None,
            incomplete: None,
            message_id: self.next_item_id("msg"),
            reasoning_id: self.next_item_id("reasoning"),
        };
        while let Some(event) = stream.recv().await {
            match event? {
                ModelEvent::TextDelta { delta } => self.emit(EventMsg::AgentMessageDelta {
                    item_id: answer.message_id.clone(),
                    delta,
                }),
                ModelEvent::ReasoningDelta { delta } => self.emit(EventMsg::ReasoningDelta {
                    item_id: answer.reasoning_id.clone(),
                    delta,
                }),
                ModelEvent::ItemDone(item) => answer.items.push(item),
                ModelEvent::Retrying {
                    attempt,
                    max_attempts,
                    delay_ms,
                    reason,
                } => {
                    answer.items.clear();
                    self.emit(EventMsg::StreamRetry {
                        attempt,
                        max_attempts,
                        delay_ms,
                        reason,
                    });
                }
                ModelEvent::Completed {
                    usage, incomplete, ..
                } => {
                    answer.usage = usage;
                    answer.incomplete = incomplete;
                    return Ok(answer);
                }
            }
        }
        Err(ModelError::MalformedStream(
            "the stream ended without completing".into(),
        ))
    }

    /// Runs the calls of one answer: consecutive read-only calls at once, others one by one,
    /// results in the order the model asked.
    async fn run_tools(&self, calls: &[ToolCall], cancel: &CancellationToken) -> Vec<ToolResult> {
        let gate = Arc::new(CoreGate::new(
            self.config.profile,
            self.config.approval,
            self.interactive,
            self.policy.clone(),
            self.audit.clone(),
            self.events.clone(),
            self.approvals.clone(),
            cancel.clone(),
        ));
        let ctx = ToolContext {
            session_id: self.id.clone(),
            cwd: self.config.cwd.clone(),
            sandbox: self.sandbox.clone(),
            events: self.events.clone(),
            cancel: cancel.clone(),
            gate,
        };
        let mut results = Vec::with_capacity(calls.len());
        let mut index = 0;
        while index < calls.len() {
            if cancel.is_cancelled() {
                results.push(ToolResult::error("not run: the turn was interrupted"));
                index += 1;
                continue;
            }
            let mut end = index;
            while end < calls.len() && self.tools.is_read_only(&calls[end].name) {
                end += 1;
            }
            if end > index {
                let batch = join_all(
                    calls[index..end]
                        .iter()
                        .map(|c| self.tools.dispatch(&ctx, c)),
                );
                results.extend(batch.await);
                index = end;
            } else {
                results.push(self.tools.dispatch(&ctx, &calls[index]).await);
                index += 1;
            }
        }
        results
    }
}

/// The output recorded on resume for a call that never got one because cadre stopped (killed,
/// or the machine went down) while it ran.
pub const ABORTED_CALL_OUTPUT: &str = "aborted: cadre stopped before it finished";

/// Outputs for the calls of `history` that have none, so the model (and APIs that refuse a call
/// without its output) sees every call answered.
fn close_dangling_calls(history: &[ResponseItem]) -> Vec<ResponseItem> {
    transcript::dangling_calls(history)
        .into_iter()
        .map(|call_id| ResponseItem::FunctionCallOutput {
            call_id,
            output: ABORTED_CALL_OUTPUT.to_string(),
        })
        .collect()
}

struct ModelAnswer {
    items: Vec<ResponseItem>,
    usage: Option<TokenUsage>,
    incomplete: Option<IncompleteReason>,
    message_id: String,
    reasoning_id: String,
}

/// What the model reads in place of a result for a call that was not run.
fn not_run_output(
    error: &str,
    incomplete: Option<IncompleteReason>,
    max_output_tokens: u64,
) -> String {
    let cause = match incomplete {
        Some(IncompleteReason::MaxOutputTokens) => format!(
            " Your answer was cut off by the output limit ({max_output_tokens} tokens) while writing them."
        ),
        Some(IncompleteReason::ContentFilter) => {
            " Your answer was stopped by the provider's content filter.".to_string()
        }
        None => String::new(),
    };
    format!(
        "error: not run: the arguments of this call are not valid JSON ({error}).{cause} Call the tool again with complete JSON arguments, keeping them short."
    )
}

enum LoopEnd {
    Done(Option<String>),
    Cancelled,
    Aborted(AbortReason),
    Failed(String),
}
