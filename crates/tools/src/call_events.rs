//! `ToolCallBegin` / `ToolCallEnd` around the tools that have no dedicated events (read_file,
//! list_dir, grep), so front ends can show every call.

use crate::{ToolCall, ToolContext, ToolResult};
use cadre_protocol::EventMsg;
use std::future::Future;

pub(crate) async fn reported<F>(ctx: &ToolContext, call: &ToolCall, run: F) -> ToolResult
where
    F: Future<Output = ToolResult>,
{
    let arguments = serde_json::from_str(&call.arguments)
        .unwrap_or_else(|_| serde_json::Value::String(call.arguments.clone()));
    let _ = ctx.events.send(EventMsg::ToolCallBegin {
        call_id: call.call_id.clone(),
        tool: call.name.clone(),
        arguments,
    });
    let result = run.await;
    let _ = ctx.events.send(EventMsg::ToolCallEnd {
        call_id: call.call_id.clone(),
        tool: call.name.clone(),
        success: result.success,
        output: result.output.clone(),
    });
    result
}
