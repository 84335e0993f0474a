use async_trait::async_trait;
use cadre_protocol::{EventMsg, ExecStatus, FileChange, SecurityProfile};
use cadre_sandbox::{Sandbox, SandboxPolicy};
use cadre_tools::{
    ActionGate, CommandAction, GateVerdict, ToolCall, ToolContext, ToolRegistry, ToolResult,
    default_registry,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tempfile::TempDir;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio_util::sync::CancellationToken;

/// A gate answering every request with one verdict and remembering what it heard.
pub struct RecordingGate {
    pub verdict: GateVerdict,
    pub commands_seen: Mutex<Vec<Vec<String>>>,
    pub finished_commands: Mutex<Vec<(ExecStatus, Option<i32>)>>,
    pub patches_seen: Mutex<Vec<Vec<FileChange>>>,
    pub finished_patches: Mutex<Vec<bool>>,
}

#[async_trait]
impl ActionGate for RecordingGate {
    async fn before_command(&self, action: &CommandAction) -> GateVerdict {
        self.commands_seen.lock().unwrap().push(action.argv.clone());
        self.verdict.clone()
    }
    async fn after_command(
        &self,
        _action: &CommandAction,
        status: ExecStatus,
        exit_code: Option<i32>,
        _duration_ms: u64,
        _output: &str,
    ) {
        self.finished_commands
            .lock()
            .unwrap()
            .push((status, exit_code));
    }
    async fn before_patch(&self, _call_id: &str, changes: &[FileChange]) -> GateVerdict {
        self.patches_seen.lock().unwrap().push(changes.to_vec());
        self.verdict.clone()
    }
    async fn after_patch(&self, _call_id: &str, _changes: &[FileChange], success: bool) {
        self.finished_patches.lock().unwrap().push(success);
    }
}

pub struct Harness {
    /// Removed when the harness drops.
    _dir: TempDir,
    pub ctx: ToolContext,
    pub gate: Arc<RecordingGate>,
    pub registry: ToolRegistry,
    events: UnboundedReceiver<EventMsg>,
}

impl Harness {
    /// A trusted sandbox and a gate that allows everything.
    pub fn new() -> Self {
        Self::with(SecurityProfile::Trusted, GateVerdict::Allow)
    }

    pub fn with(profile: SecurityProfile, verdict: GateVerdict) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().canonicalize().unwrap();
        let sandbox = Sandbox::new(SandboxPolicy::new(profile, &cwd), None).unwrap();
        let gate = Arc::new(RecordingGate {
            verdict,
            commands_seen: Mutex::default(),
            finished_commands: Mutex::default(),
            patches_seen: Mutex::default(),
            finished_patches: Mutex::default(),
        });
        let (tx, events) = unbounded_channel();
        let ctx = ToolContext {
            session_id: "test-session".into(),
            cwd,
            sandbox: Arc::new(sandbox),
            events: tx,
            cancel: CancellationToken::new(),
            gate: gate.clone(),
        };
        Harness {
            _dir: dir,
            ctx,
            gate,
            registry: default_registry(),
            events,
        }
    }

    pub async fn call(&self, tool: &str, arguments: serde_json::Value) -> ToolResult {
        self.call_raw(tool, &arguments.to_string()).await
    }

    pub async fn call_raw(&self, tool: &str, arguments: &str) -> ToolResult {
        let call = ToolCall {
            call_id: "call-1".into(),
            name: tool.into(),
            arguments: arguments.into(),
        };
        self.registry.dispatch(&self.ctx, &call).await
    }

    /// Events emitted so far.
    pub fn events(&mut self) -> Vec<EventMsg> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            out.push(event);
        }
        out
    }

    pub async fn next_event(&mut self) -> EventMsg {
        self.events.recv().await.expect("event channel open")
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.ctx.cwd.join(relative)
    }

    pub fn write(&self, relative: &str, contents: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    pub fn exists(&self, relative: &str) -> bool {
        Path::exists(&self.path(relative))
    }
}
