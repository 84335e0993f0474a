use crate::{ModelError, ProviderConfig};
use cadre_protocol::{ResponseItem, TokenUsage, ToolSpec};

/// Everything one model call needs.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub model: String,
    /// System instructions (the Responses API's `instructions`, a system message on Chat).
    pub instructions: String,
    pub input: Vec<ResponseItem>,
    pub tools: Vec<ToolSpec>,
    pub parallel_tool_calls: bool,
}

/// What a streamed answer yields, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent {
    /// A piece of assistant text.
    TextDelta { delta: String },
    /// A piece of a reasoning summary.
    ReasoningDelta { delta: String },
    /// A finished output item (a message, a reasoning item, a function call).
    ItemDone(ResponseItem),
    /// The attempt failed transiently; everything received since the last `Retrying` (or the
    /// start) must be discarded, and the request is sent again after `delay_ms`.
    Retrying {
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        reason: String,
    },
    /// The answer is complete.
    Completed {
        response_id: Option<String>,
        usage: Option<TokenUsage>,
    },
}

pub type ResponseStream = tokio::sync::mpsc::Receiver<Result<ModelEvent, ModelError>>;

pub struct ModelClient {
    provider: ProviderConfig,
}

impl ModelClient {
    pub fn new(provider: ProviderConfig) -> Result<Self, ModelError> {
        Ok(ModelClient { provider })
    }

    pub fn provider(&self) -> &ProviderConfig {
        &self.provider
    }

    /// Sends the prompt and streams the answer. Dropping the receiver cancels the request.
    pub async fn stream(&self, _prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        unimplemented!("filled in by the model client implementation")
    }
}
