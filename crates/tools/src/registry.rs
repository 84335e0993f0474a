use crate::ToolContext;
use async_trait::async_trait;
use cadre_protocol::ToolSpec;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One call as the model made it.
#[derive(Debug, Clone)]
pub struct ToolCall {
    pub call_id: String,
    pub name: String,
    /// The raw JSON arguments string.
    pub arguments: String,
}

/// What goes back to the model, and whether the call did what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    pub output: String,
    pub success: bool,
    /// Set when the turn must stop after this call (an approval answered with abort).
    pub abort_turn: bool,
}

impl ToolResult {
    pub fn ok(output: impl Into<String>) -> Self {
        ToolResult {
            output: output.into(),
            success: true,
            abort_turn: false,
        }
    }

    pub fn error(output: impl Into<String>) -> Self {
        ToolResult {
            output: output.into(),
            success: false,
            abort_turn: false,
        }
    }
}

#[async_trait]
pub trait Tool: Send + Sync {
    /// Name, description and JSON schema offered to the model.
    fn spec(&self) -> ToolSpec;

    /// True when the tool only reads, so several calls may run at once.
    fn read_only(&self) -> bool {
        false
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult;
}

/// The set of tools a session offers, by name.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl ToolRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, tool: Arc<dyn Tool>) {
        self.tools.insert(tool.spec().name, tool);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.get(name)
    }

    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools.values().map(|t| t.spec()).collect()
    }

    pub fn is_read_only(&self, name: &str) -> bool {
        self.tools.get(name).is_some_and(|t| t.read_only())
    }

    /// Runs a call; an unknown tool is an error the model can read.
    pub async fn dispatch(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        match self.tools.get(&call.name) {
            Some(tool) => tool.call(ctx, call).await,
            None => ToolResult::error(format!(
                "unknown tool `{}`; available tools: {}",
                call.name,
                self.tools.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }
}
