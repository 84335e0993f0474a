//! `apply_patch`: edits files with the patch format models are trained to write.
//!
//! The whole patch is parsed and every file's new content computed in memory first; every
//! target must be writable under the sandbox profile and the gate must approve the changes;
//! only then are files written, each atomically, with earlier writes undone if a later one
//! fails. A patch refused by the sandbox or the gate reports `PatchApplyEnd` without a
//! `PatchApplyBegin`: nothing was attempted.

mod apply;
mod parser;
mod seek_sequence;
mod write;

pub use apply::ApplyPatchError;
pub use parser::{
    Hunk, HunkLine, Patch, PatchOperation, PatchParseError, affected_paths, parse_patch,
};
pub use write::WriteError;

use crate::arguments::parse_arguments;
use crate::schema::parameters_schema;
use crate::{GateVerdict, Tool, ToolCall, ToolContext, ToolResult};
use apply::{PatchPlan, plan_patch};
use async_trait::async_trait;
use cadre_protocol::{EventMsg, FileChange, ToolSpec};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;

const EXPECTED_SHAPE: &str = r#"{"patch": "*** Begin Patch\n*** Update File: src/main.rs\n@@ fn main\n-    old();\n+    new();\n*** End Patch"}"#;

const DESCRIPTION: &str = "Edits files. The patch is one string:
*** Begin Patch
*** Add File: path/new.txt
+each line of the new file starts with +
*** Update File: path/existing.rs
*** Move to: path/renamed.rs   (optional: rename the file)
@@ fn surrounding_function   (optional: the hunk is after a line containing this text)
 context line (starts with a space)
-removed line
+added line
*** Delete File: path/old.txt
*** End Patch
Paths are relative to the working directory. Give about three lines of unchanged context \
around each change, copied exactly; start each further change in the same file with `@@`. Add \
`*** End of File` after a hunk that ends the file. All changes apply together or not at all.";

#[derive(Debug, Deserialize, JsonSchema)]
struct ApplyPatchArgs {
    /// The full patch text, from `*** Begin Patch` to `*** End Patch`.
    #[serde(alias = "input")]
    patch: String,
}

/// Applies patches.
pub struct ApplyPatchTool;

#[async_trait]
impl Tool for ApplyPatchTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "apply_patch".into(),
            description: DESCRIPTION.into(),
            parameters: parameters_schema::<ApplyPatchArgs>(),
        }
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        let args: ApplyPatchArgs =
            match parse_arguments("apply_patch", &call.arguments, EXPECTED_SHAPE) {
                Ok(args) => args,
                Err(err) => return err,
            };
        let patch = match parse_patch(&args.patch) {
            Ok(patch) => patch,
            Err(err) => return ToolResult::error(err.to_string()),
        };
        let plan = match plan_blocking(ctx, &patch).await {
            Ok(plan) => plan,
            Err(message) => return ToolResult::error(message),
        };

        let targets: Vec<PathBuf> = affected_paths(&patch)
            .iter()
            .map(|path| ctx.cwd.join(path))
            .chain(plan.target_paths().map(PathBuf::from))
            .collect();
        if let Some(err) = targets
            .iter()
            .find_map(|path| ctx.sandbox.check_writable(path).err())
        {
            let message = format!("patch refused, no file was changed: {err}");
            return refused(ctx, call, &plan.changes, message, false);
        }

        match ctx.gate.before_patch(&call.call_id, &plan.changes).await {
            GateVerdict::Allow => {}
            GateVerdict::Deny { reason } => {
                let message = format!("patch refused, no file was changed: {reason}");
                return refused(ctx, call, &plan.changes, message, false);
            }
            GateVerdict::Abort { reason } => {
                let message = format!("patch refused, no file was changed: {reason}");
                return refused(ctx, call, &plan.changes, message, true);
            }
        }

        let _ = ctx.events.send(EventMsg::PatchApplyBegin {
            call_id: call.call_id.clone(),
            changes: plan.changes.clone(),
        });
        // The files may have changed while approval was pending: place the hunks again on what
        // is on disk now, so nothing written since is overwritten blindly.
        let outcome = match plan_blocking(ctx, &patch).await {
            Ok(fresh) => write_blocking(fresh).await,
            Err(message) => Err(message),
        };
        let (success, error) = match &outcome {
            Ok(_) => (true, None),
            Err(message) => (false, Some(message.clone())),
        };
        let _ = ctx.events.send(EventMsg::PatchApplyEnd {
            call_id: call.call_id.clone(),
            changes: plan.changes.clone(),
            success,
            error,
        });
        ctx.gate
            .after_patch(&call.call_id, &plan.changes, success)
            .await;
        match outcome {
            Ok(summary) => ToolResult::ok(format!(
                "Success. Updated the following files:\n{}\n",
                summary.join("\n")
            )),
            Err(message) => ToolResult::error(message),
        }
    }
}

async fn plan_blocking(ctx: &ToolContext, patch: &Patch) -> Result<PatchPlan, String> {
    let cwd = ctx.cwd.clone();
    let patch = patch.clone();
    tokio::task::spawn_blocking(move || plan_patch(&cwd, &patch).map_err(|e| e.to_string()))
        .await
        .unwrap_or_else(|err| Err(format!("apply_patch failed: {err}")))
}

async fn write_blocking(plan: PatchPlan) -> Result<Vec<String>, String> {
    tokio::task::spawn_blocking(move || {
        write::write_all(&plan.writes)
            .map(|()| plan.summary)
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|err| Err(format!("apply_patch failed: {err}")))
}

fn refused(
    ctx: &ToolContext,
    call: &ToolCall,
    changes: &[FileChange],
    message: String,
    abort_turn: bool,
) -> ToolResult {
    let _ = ctx.events.send(EventMsg::PatchApplyEnd {
        call_id: call.call_id.clone(),
        changes: changes.to_vec(),
        success: false,
        error: Some(message.clone()),
    });
    ToolResult {
        output: message,
        success: false,
        abort_turn,
    }
}
