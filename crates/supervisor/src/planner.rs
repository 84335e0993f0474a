//! The planning call: one model request that offers `submit_plan`, and one repair round when the
//! submitted plan breaks a rule (the errors go back as the tool's output).

use crate::SupervisorError;
use crate::plan::{Plan, Strategy};
use crate::report::Usage;
use cadre_model::{ModelClient, Prompt};
use cadre_protocol::{ResponseItem, ToolSpec};
use cadre_roles::RoleDefinition;
use serde_json::json;
use std::path::Path;

/// The `submit_plan` tool offered to the planner.
pub fn submit_plan_spec() -> ToolSpec {
    ToolSpec {
        name: "submit_plan".into(),
        description: "Submit the plan: the tasks that together reach the goal.".into(),
        parameters: json!({
            "type": "object",
            "properties": {
                "tasks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "description": "Short unique id, e.g. t1"},
                            "title": {"type": "string"},
                            "role": {"type": "string", "description": "One of the roles listed"},
                            "prompt": {"type": "string", "description": "Complete instructions for the agent"},
                            "depends_on": {"type": "array", "items": {"type": "string"}},
                            "writes": {"type": "array", "items": {"type": "string"}, "description": "Globs of files the task may change; empty for read-only work"},
                            "acceptance": {"type": "string", "description": "How to judge the result"}
                        },
                        "required": ["id", "title", "role", "prompt"]
                    }
                }
            },
            "required": ["tasks"]
        }),
    }
}

const PLANNER_INSTRUCTIONS: &str = "You are the planner of cadre's supervisor. Split the goal into a few focused tasks, each for one of the roles offered, with complete instructions (the agent sees only its prompt and the results it is given). Answer only by calling submit_plan.";

/// What the planner is told.
pub fn planner_input(
    goal: &str,
    roles: &[RoleDefinition],
    strategy: Strategy,
    cwd: &Path,
) -> String {
    let mut text = format!("<goal>\n{goal}\n</goal>\n\n<roles>\n");
    for role in roles {
        text.push_str(&format!("- {}: {}\n", role.name, role.description.trim()));
    }
    text.push_str("</roles>\n\n<strategy>\n");
    text.push_str(match strategy {
        Strategy::Parallel => "parallel: every task runs at once, so tasks must be independent: leave depends_on empty.",
        Strategy::Sequential => "sequential: tasks run one after another in dependency order; each sees the results of all earlier tasks.",
        Strategy::Hybrid => "hybrid: a task starts when the tasks in its depends_on have completed, and sees their results. Independent tasks run at once.",
    });
    text.push_str("\n</strategy>\n");
    if let Some(ResponseItem::Message { content, .. }) = cadre_core::context::agents_message(cwd) {
        text.push_str(&format!("\n{content}\n"));
    }
    text.push_str(&format!(
        "\n<workspace path=\"{}\">\n{}</workspace>\n",
        cwd.display(),
        workspace_listing(cwd)
    ));
    text
}

/// The top of the workspace: names of its entries (directories with a slash), hidden ones left
/// out, at most 60.
fn workspace_listing(cwd: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(cwd) else {
        return String::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                return None;
            }
            let dir = e.file_type().is_ok_and(|t| t.is_dir());
            Some(if dir { format!("{name}/") } else { name })
        })
        .collect();
    names.sort();
    let more = names.len().saturating_sub(60);
    names.truncate(60);
    let mut text: String = names.into_iter().map(|n| format!("{n}\n")).collect();
    if more > 0 {
        text.push_str(&format!("... and {more} more\n"));
    }
    text
}

/// Asks the model for a plan; an invalid one goes back once with its errors.
pub async fn request_plan(
    client: &ModelClient,
    model: &str,
    input: String,
    roles: &[&str],
    strategy: Strategy,
) -> Result<(Plan, Usage), SupervisorError> {
    let mut history = vec![ResponseItem::user(input)];
    let mut usage = Usage::default();
    let mut last_problems = Vec::new();
    for attempt in 0..2 {
        let prompt = Prompt {
            model: model.to_string(),
            instructions: PLANNER_INSTRUCTIONS.into(),
            input: history.clone(),
            tools: vec![submit_plan_spec()],
            parallel_tool_calls: false,
            max_output_tokens: Some(client.provider().default_max_output_tokens()),
        };
        let completion = client
            .complete(&prompt)
            .await
            .map_err(|e| SupervisorError::Planner(format!("the planning call failed: {e}")))?;
        if let Some(u) = completion.usage {
            usage.add(Usage::from(u));
        }
        let call = completion.items.iter().find_map(|item| match item {
            ResponseItem::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } if name == "submit_plan" => Some((call_id.clone(), arguments.clone())),
            _ => None,
        });
        let Some((call_id, arguments)) = call else {
            last_problems = vec!["the planner answered without calling submit_plan".to_string()];
            history.extend(completion.items);
            history.push(ResponseItem::user(
                "Call submit_plan with the plan; do not answer in text.",
            ));
            continue;
        };
        let (plan, problems) = match Plan::from_json(&arguments) {
            Ok(plan) => {
                let problems = plan.problems(roles, strategy);
                (Some(plan), problems)
            }
            Err(error) => (None, vec![error]),
        };
        if problems.is_empty()
            && let Some(plan) = plan
        {
            return Ok((plan, usage));
        }
        last_problems = problems.clone();
        if attempt == 0 {
            history.extend(completion.items);
            history.push(ResponseItem::FunctionCallOutput {
                call_id,
                output: format!(
                    "The plan was refused:\n- {}\nFix these problems and call submit_plan again with the whole plan.",
                    problems.join("\n- ")
                ),
            });
        } else {
            return Err(SupervisorError::InvalidPlan {
                problems,
                plan: arguments,
            });
        }
    }
    Err(SupervisorError::InvalidPlan {
        problems: last_problems,
        plan: String::new(),
    })
}
