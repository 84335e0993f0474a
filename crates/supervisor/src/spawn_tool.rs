//! `spawn_agent`: the tool through which an agent delegates to a sub-agent of a role, with the
//! supervisor's machinery (profile ceiling, limits, proof). Several calls in one answer run at
//! once; depth and the number of agents per session are limited, and a refusal is a tool error
//! the model can read.

use crate::agent::{self, AgentSpec, SessionParts};
use crate::events::EventSink;
use crate::limits::{Limits, RunControl};
use crate::run::{agent_config, agent_profile};
use async_trait::async_trait;
use cadre_core::Config;
use cadre_protocol::{EventMsg, TokenUsage, ToolSpec};
use cadre_roles::RoleDefinition;
use cadre_tools::{Tool, ToolCall, ToolContext, ToolRegistry, ToolResult};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_util::sync::CancellationToken;

/// How far delegation may go.
#[derive(Debug, Clone)]
pub struct DelegationLimits {
    /// Levels of sub-agents below the session (1: sub-agents cannot spawn).
    pub max_depth: u32,
    /// Sub-agents one session may start in all.
    pub max_agents: usize,
    pub limits: Limits,
}

impl Default for DelegationLimits {
    fn default() -> Self {
        DelegationLimits {
            max_depth: 1,
            max_agents: 8,
            limits: Limits::default(),
        }
    }
}

struct Delegation {
    /// The parent's configuration: its profile is the ceiling.
    config: Config,
    roles: Vec<RoleDefinition>,
    parts: SessionParts,
    limits: DelegationLimits,
    depth: u32,
    spawned: AtomicUsize,
    control: RunControl,
}

/// The `spawn_agent` tool of one session.
pub struct SpawnAgentTool {
    inner: Arc<Delegation>,
}

#[derive(Deserialize)]
struct SpawnArgs {
    role: String,
    prompt: String,
}

impl SpawnAgentTool {
    /// A tool for a session at depth 0 (the top-level agent).
    pub fn new(
        config: Config,
        roles: Vec<RoleDefinition>,
        parts: SessionParts,
        limits: DelegationLimits,
    ) -> Self {
        Self::at_depth(config, roles, parts, limits, 0)
    }

    fn at_depth(
        config: Config,
        roles: Vec<RoleDefinition>,
        parts: SessionParts,
        limits: DelegationLimits,
        depth: u32,
    ) -> Self {
        let control = RunControl::new(&limits.limits, CancellationToken::new());
        SpawnAgentTool {
            inner: Arc::new(Delegation {
                config,
                roles,
                parts,
                limits,
                depth,
                spawned: AtomicUsize::new(0),
                control,
            }),
        }
    }
}

/// The default tools plus `spawn_agent`: what `cadre exec` offers its agent.
pub fn exec_tools(
    config: Config,
    roles: Vec<RoleDefinition>,
    parts: SessionParts,
    limits: DelegationLimits,
) -> ToolRegistry {
    let mut registry = cadre_tools::default_registry();
    registry.register(Arc::new(SpawnAgentTool::new(config, roles, parts, limits)));
    registry
}

#[async_trait]
impl Tool for SpawnAgentTool {
    fn spec(&self) -> ToolSpec {
        let names: Vec<&str> = self.inner.roles.iter().map(|r| r.name.as_str()).collect();
        ToolSpec {
            name: "spawn_agent".into(),
            description: format!(
                "Delegate a self-contained task to a sub-agent of a role and get its result (final message, files changed, commands run, whether its claims are verified). Several calls in one answer run at once. Roles: {}.",
                names.join(", ")
            ),
            parameters: json!({
                "type": "object",
                "properties": {
                    "role": {"type": "string", "enum": names},
                    "prompt": {"type": "string", "description": "Complete instructions: the sub-agent sees nothing else"}
                },
                "required": ["role", "prompt"]
            }),
        }
    }

    /// Sub-agents are separate sessions, so several may run at once.
    fn read_only(&self) -> bool {
        true
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        let inner = &self.inner;
        let args: SpawnArgs = match serde_json::from_str(&call.arguments) {
            Ok(args) => args,
            Err(error) => {
                return ToolResult::error(format!(
                    "invalid arguments for `spawn_agent`: {error}. Expected {{\"role\": \"Tester\", \"prompt\": \"...\"}}"
                ));
            }
        };
        if inner.depth >= inner.limits.max_depth {
            return ToolResult::error(format!(
                "refused: sub-agents may not spawn agents (delegation depth is limited to {})",
                inner.limits.max_depth
            ));
        }
        let Some(role) = inner.roles.iter().find(|r| r.name == args.role).cloned() else {
            let names: Vec<&str> = inner.roles.iter().map(|r| r.name.as_str()).collect();
            return ToolResult::error(format!(
                "refused: unknown role `{}`; roles: {}",
                args.role,
                names.join(", ")
            ));
        };
        let number = inner.spawned.fetch_add(1, Ordering::SeqCst) + 1;
        if number > inner.limits.max_agents {
            return ToolResult::error(format!(
                "refused: this session may start at most {} sub-agents and has started them all",
                inner.limits.max_agents
            ));
        }
        let agent_id = match &inner.parts.parent_id {
            Some(parent) => format!("{parent}/sub-{number}"),
            None => format!("sub-{number}"),
        };
        let _ = ctx.events.send(EventMsg::ToolCallBegin {
            call_id: call.call_id.clone(),
            tool: "spawn_agent".into(),
            arguments: json!({"role": role.name, "prompt": args.prompt, "agent_id": agent_id}),
        });

        let config = agent_config(
            &inner.config,
            &role,
            ctx.cwd.clone(),
            inner.limits.limits.max_turns,
        );
        let mut tools = agent::role_tools(&role, &inner.parts.extra_tools);
        if inner.depth + 1 < inner.limits.max_depth {
            tools.register(Arc::new(SpawnAgentTool::at_depth(
                inner.config.clone(),
                inner.roles.clone(),
                SessionParts {
                    parent_id: Some(agent_id.clone()),
                    ..inner.parts.clone()
                },
                inner.limits.clone(),
                inner.depth + 1,
            )));
        }
        let profile = agent_profile(&role, inner.config.profile);
        inner
            .parts
            .audit
            .agent_started(&agent_id, &role.name, profile)
            .await;
        let spec = AgentSpec {
            agent_id: agent_id.clone(),
            tools,
            role: role.clone(),
            config,
            prompt: args.prompt,
            timeout: inner.limits.limits.task_timeout.or(role.timeout),
            stall_timeout: inner.limits.limits.stall_timeout,
        };
        // The sub-agent's transcript names the session that started it.
        let parts = SessionParts {
            parent_id: inner
                .parts
                .parent_id
                .clone()
                .or_else(|| Some(ctx.session_id.clone())),
            ..inner.parts.clone()
        };
        // The parent's interrupt stops the sub-agent too.
        let stop = ctx.cancel.clone();
        let no_events = EventSink::none();
        let outcome = tokio::select! {
            outcome = agent::run_agent(spec, &parts, &inner.control, &no_events) => Some(outcome),
            _ = stop.cancelled() => None,
        };
        let Some(outcome) = outcome else {
            inner
                .parts
                .audit
                .agent_stopped(&agent_id, "cancelled", TokenUsage::default())
                .await;
            return ToolResult::error("the sub-agent was stopped: the turn was interrupted");
        };
        let files_changed = outcome.patched.clone();
        let result = outcome.into_result(
            agent_id.clone(),
            &role.name,
            &agent_id,
            files_changed,
            profile,
        );
        inner.parts.record_stop(&result).await;
        let success = result.status == crate::report::TaskStatus::Completed;
        let output = serde_json::to_string_pretty(&result).unwrap_or_default();
        let _ = ctx.events.send(EventMsg::ToolCallEnd {
            call_id: call.call_id.clone(),
            tool: "spawn_agent".into(),
            success,
            output: output.clone(),
        });
        if success {
            ToolResult::ok(output)
        } else {
            ToolResult::error(output)
        }
    }
}
