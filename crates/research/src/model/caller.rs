//! One model call that offers one tool and wants its arguments back: answered from the journal
//! when a run is resumed, refused when a budget is spent, journaled and accounted otherwise.

use crate::budget::Ledger;
use crate::engine::{Progress, ProgressSink};
use crate::journal::{Journal, JournalEntry};
use cadre_model::{ModelClient, Prompt};
use cadre_protocol::{ResponseItem, TokenUsage, ToolSpec};
use std::sync::Arc;

/// Why a call produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// A budget is spent; the reason names it.
    Budget(String),
    /// The provider failed (after its retries).
    Model(String),
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallFailure::Budget(reason) => write!(f, "stopped by {reason}"),
            CallFailure::Model(reason) => write!(f, "the model call failed: {reason}"),
        }
    }
}

/// Makes the run's model calls.
pub struct ModelCaller {
    client: ModelClient,
    model: String,
    journal: Option<Arc<Journal>>,
    ledger: Arc<Ledger>,
    progress: Option<ProgressSink>,
}

impl ModelCaller {
    pub fn new(client: ModelClient, model: impl Into<String>, ledger: Arc<Ledger>) -> Self {
        ModelCaller {
            client,
            model: model.into(),
            journal: None,
            ledger,
            progress: None,
        }
    }

    pub fn with_journal(mut self, journal: Arc<Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    pub fn with_progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    fn account(&self, purpose: &str, usage: &TokenUsage, replayed: bool) {
        self.ledger.record_call(usage, replayed);
        if let Some(sink) = &self.progress {
            let spent = self.ledger.spent();
            sink(&Progress::ModelCall {
                purpose: purpose.to_string(),
                replayed,
                tokens: spent.tokens,
                cost_usd: spent.cost_usd,
            });
        }
    }

    /// Calls the model with `tool` offered. `key` names the call within the run (the same call
    /// on a resumed run has the same key). Returns the tool's JSON arguments, or `None` when the
    /// model answered without calling it (or with arguments that are not JSON).
    pub async fn call(
        &self,
        key: &str,
        instructions: &str,
        input: String,
        tool: ToolSpec,
    ) -> Result<Option<serde_json::Value>, CallFailure> {
        if let Some((arguments, usage)) = self.journal.as_ref().and_then(|j| j.model_answer(key)) {
            self.account(key, usage, true);
            return Ok(arguments
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok()));
        }
        if let Some(reason) = self.ledger.exhausted() {
            return Err(CallFailure::Budget(reason));
        }
        if let Some(sink) = &self.progress {
            sink(&Progress::ModelRequest {
                purpose: key.to_string(),
            });
        }
        let name = tool.name.clone();
        let prompt = Prompt {
            model: self.model.clone(),
            instructions: instructions.to_string(),
            input: vec![ResponseItem::user(input)],
            tools: vec![tool],
            parallel_tool_calls: false,
            max_output_tokens: Some(self.client.provider().default_max_output_tokens()),
        };
        let completion = self
            .client
            .complete(&prompt)
            .await
            .map_err(|e| CallFailure::Model(e.to_string()))?;
        let arguments = completion.items.into_iter().find_map(|item| match item {
            ResponseItem::FunctionCall {
                name: called,
                arguments,
                ..
            } if called == name => Some(arguments),
            _ => None,
        });
        let usage = completion.usage.unwrap_or_default();
        if let Some(journal) = &self.journal {
            // A journal that cannot be written loses resumability, not the run.
            if let Err(err) = journal.append(&JournalEntry::Model {
                key: key.to_string(),
                arguments: arguments.clone(),
                usage,
            }) {
                tracing::warn!("{err}");
            }
        }
        self.account(key, &usage, false);
        Ok(arguments
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok()))
    }
}
