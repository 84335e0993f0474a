//! `update_plan`: the agent records its step-by-step plan; front ends show it as a checklist.

use crate::arguments::parse_arguments;
use crate::schema::parameters_schema;
use crate::{Tool, ToolCall, ToolContext, ToolResult};
use async_trait::async_trait;
use cadre_protocol::{EventMsg, PlanItem, StepStatus, ToolSpec};
use schemars::JsonSchema;
use serde::Deserialize;

const EXPECTED_SHAPE: &str = r#"{"plan": [{"step": "Write the parser", "status": "in_progress"}, {"step": "Add tests", "status": "pending"}], "explanation": "optional"}"#;

#[derive(Debug, Deserialize, JsonSchema)]
struct UpdatePlanArgs {
    /// The whole plan, in order; each call replaces the previous one.
    plan: Vec<PlanStep>,
    /// Why the plan changed, in a sentence.
    explanation: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct PlanStep {
    /// One short step.
    step: String,
    status: PlanStepStatus,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum PlanStepStatus {
    Pending,
    InProgress,
    Completed,
}

impl From<PlanStepStatus> for StepStatus {
    fn from(status: PlanStepStatus) -> Self {
        match status {
            PlanStepStatus::Pending => StepStatus::Pending,
            PlanStepStatus::InProgress => StepStatus::InProgress,
            PlanStepStatus::Completed => StepStatus::Completed,
        }
    }
}

/// Publishes the agent's plan.
pub struct UpdatePlanTool;

#[async_trait]
impl Tool for UpdatePlanTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "update_plan".into(),
            description: "Records your plan for the task as a list of short steps, each \
                pending, in_progress or completed. Send the whole plan each time; keep at most \
                one step in_progress and mark steps completed as you finish them."
                .into(),
            parameters: parameters_schema::<UpdatePlanArgs>(),
        }
    }

    fn read_only(&self) -> bool {
        true
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        let args: UpdatePlanArgs =
            match parse_arguments("update_plan", &call.arguments, EXPECTED_SHAPE) {
                Ok(args) => args,
                Err(err) => return err,
            };
        let plan = args
            .plan
            .into_iter()
            .map(|item| PlanItem {
                step: item.step,
                status: item.status.into(),
            })
            .collect();
        let _ = ctx.events.send(EventMsg::PlanUpdate {
            call_id: call.call_id.clone(),
            explanation: args.explanation.filter(|text| !text.trim().is_empty()),
            plan,
        });
        ToolResult::ok("Plan updated")
    }
}
