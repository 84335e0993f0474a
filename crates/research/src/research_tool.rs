//! The `research` tool for the agent: the same pipeline as `cadre deep-research`, under the
//! session's security profile (web providers only where the profile allows the network; `local`
//! works offline), returning the checked findings with their citations as JSON.

use crate::budget::{Budgets, TokenPrice};
use crate::deep::{DeepOptions, ModelSetup, run_deep_research};
use crate::engine::{Engine, ResearchRequest};
use crate::fetch::FetchConfig;
use crate::sources::{ProviderKind, Sources, SourcesSetup, open_sources};
use crate::strategy::Strategy;
use cadre_model::ModelClient;
use cadre_protocol::{SecurityProfile, ToolSpec};
use cadre_tools::{Tool, ToolCall, ToolContext, ToolResult};
use serde::Deserialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the tool needs from the configuration.
#[derive(Clone, Default)]
pub struct ResearchToolConfig {
    /// `$CADRE_HOME`: the fetch cache and the local index live under `cache/research/`.
    pub cadre_home: PathBuf,
    /// The model that plans and writes; `None` runs model-free.
    pub model: Option<(ModelClient, String)>,
    pub price: Option<TokenPrice>,
    /// The default provider (`research.provider`), else `local`.
    pub default_provider: Option<String>,
    pub searxng_url: Option<String>,
    /// How long a fetched page stays fresh in the cache.
    pub cache_ttl: Duration,
    /// The hosts its fetches may reach (`[network] allow`).
    pub network_allow: cadre_protocol::DomainAllowlist,
    /// Budgets for one call of the tool.
    pub budgets: Budgets,
    /// Told of the run's progress (the caller audits the fetches cadre makes from it).
    pub progress: Option<crate::ProgressSink>,
}

/// The tool.
pub struct ResearchTool {
    config: ResearchToolConfig,
}

/// Builds the `research` tool for a session.
pub fn research_tool(config: ResearchToolConfig) -> Arc<dyn Tool> {
    Arc::new(ResearchTool { config })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Arguments {
    question: String,
    provider: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    levels: Option<u8>,
}

impl ResearchTool {
    /// Runs one call of the tool under `profile`, resolving `paths` against `cwd`.
    pub async fn research(
        &self,
        profile: SecurityProfile,
        cwd: &Path,
        cancel: CancellationToken,
        arguments: &str,
    ) -> ToolResult {
        let args: Arguments = match serde_json::from_str(arguments) {
            Ok(args) => args,
            Err(err) => return ToolResult::error(format!("invalid arguments: {err}")),
        };
        match self.run(profile, cwd, cancel, args).await {
            Ok(output) => ToolResult::ok(output),
            Err(err) => ToolResult::error(err),
        }
    }

    async fn run(
        &self,
        profile: SecurityProfile,
        cwd: &Path,
        cancel: CancellationToken,
        args: Arguments,
    ) -> Result<String, String> {
        let provider_name = args
            .provider
            .clone()
            .or_else(|| self.config.default_provider.clone())
            .unwrap_or_else(|| "local".into());
        let provider_kind: ProviderKind = provider_name.parse().map_err(|e| format!("{e}"))?;
        let paths: Vec<PathBuf> = if args.paths.is_empty() {
            vec![cwd.to_path_buf()]
        } else {
            args.paths.iter().map(|p| cwd.join(p)).collect()
        };
        let setup = SourcesSetup {
            provider: provider_kind,
            profile,
            paths,
            searxng_url: self.config.searxng_url.clone(),
            brave_url: None,
            tavily_url: None,
            duckduckgo_url: None,
            research_dir: self.config.cadre_home.join("cache").join("research"),
            cache_ttl: Some(self.config.cache_ttl),
            fetch: FetchConfig {
                allowlist: self.config.network_allow.clone(),
                ..FetchConfig::default()
            },
        };
        let Sources { provider, fetcher } =
            tokio::task::spawn_blocking(move || open_sources(setup))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        let mut request = ResearchRequest::new(args.question);
        request.levels = args.levels.unwrap_or(2).clamp(1, 5);
        request.strategy = Strategy::Focused;
        request.max_sources = 6;
        request.profile = profile;
        let engine = Engine::new(provider, fetcher).with_cancellation(cancel);
        let options = DeepOptions {
            model: self
                .config
                .model
                .as_ref()
                .map(|(client, model)| ModelSetup {
                    client: client.clone(),
                    model: model.clone(),
                    price: self.config.price,
                }),
            budgets: self.config.budgets,
            progress: self.config.progress.clone(),
            ..DeepOptions::default()
        };
        let outcome = run_deep_research(engine, &request, options)
            .await
            .map_err(|e| e.to_string())?;
        let report = outcome.report;
        let sources: Vec<serde_json::Value> = report
            .sources
            .iter()
            .filter(|s| {
                report
                    .findings
                    .iter()
                    .any(|f| f.citations.iter().any(|c| c.source_id == s.id))
            })
            .map(|s| json!({"id": s.id, "url": s.url, "title": s.title, "family": s.family}))
            .collect();
        let findings: Vec<serde_json::Value> = report
            .findings
            .iter()
            .filter(|f| f.flag.is_none())
            .map(|f| json!({"text": f.text, "citations": f.citations}))
            .collect();
        Ok(serde_json::to_string_pretty(&json!({
            "question": report.query,
            "findings": findings,
            "sources": sources,
            "open_questions": report.open_questions,
            "warnings": report.bias.warnings.iter().chain(&report.warnings).collect::<Vec<_>>(),
            "run": report.run,
        }))
        .unwrap_or_default())
    }
}

#[async_trait::async_trait]
impl Tool for ResearchTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "research".into(),
            description: "Research a question: search (local files, or the web where the session's profile allows the network), fetch, and return findings whose every citation was fetched and checked. Prefer provider `local` with `paths` for questions about this project.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "question": {"type": "string", "description": "The question to research."},
                    "provider": {"type": "string", "enum": ["local", "searxng", "brave", "tavily", "duckduckgo"], "description": "Where to search (default: the configured provider, else local)."},
                    "paths": {"type": "array", "items": {"type": "string"}, "description": "Directories for the local provider, relative to the working directory (default: the working directory)."},
                    "levels": {"type": "integer", "minimum": 1, "maximum": 5, "description": "Rounds of search (default 2)."}
                },
                "required": ["question"],
                "additionalProperties": false
            }),
        }
    }

    fn read_only(&self) -> bool {
        true
    }

    async fn call(&self, ctx: &ToolContext, call: &ToolCall) -> ToolResult {
        self.research(
            ctx.sandbox.policy().profile,
            &ctx.cwd,
            ctx.cancel.clone(),
            &call.arguments,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(home: &Path) -> ResearchTool {
        ResearchTool {
            config: ResearchToolConfig {
                cadre_home: home.to_path_buf(),
                ..ResearchToolConfig::default()
            },
        }
    }

    #[tokio::test]
    async fn local_research_works_offline_and_cites_files() {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(work.path().join("ops")).unwrap();
        std::fs::write(
            work.path().join("ops/rollback.md"),
            "# Rollback\n\nA rollback switches traffic back to the previous release within a minute.\n",
        )
        .unwrap();
        let result = tool(home.path())
            .research(
                SecurityProfile::Offline,
                work.path(),
                CancellationToken::new(),
                r#"{"question": "How does a rollback switch traffic?", "paths": ["ops"]}"#,
            )
            .await;
        assert!(result.success, "{}", result.output);
        let output: serde_json::Value = serde_json::from_str(&result.output).unwrap();
        let citation = &output["findings"][0]["citations"][0];
        assert!(
            citation["quote"]
                .as_str()
                .unwrap()
                .contains("switches traffic back")
        );
        assert!(
            output["sources"][0]["url"]
                .as_str()
                .unwrap()
                .starts_with("file://")
        );
        assert_eq!(output["sources"][0]["family"], "F1");
        assert_eq!(output["run"]["mode"], "model-free");
    }

    #[tokio::test]
    async fn web_research_needs_a_profile_with_network() {
        let home = tempfile::tempdir().unwrap();
        let mut tool = tool(home.path());
        tool.config.searxng_url = Some("http://127.0.0.1:9".into());
        let result = tool
            .research(
                SecurityProfile::Offline,
                home.path(),
                CancellationToken::new(),
                r#"{"question": "anything", "provider": "searxng"}"#,
            )
            .await;
        assert!(!result.success);
        assert!(result.output.contains("offline"), "{}", result.output);
        let bad = tool
            .research(
                SecurityProfile::Offline,
                home.path(),
                CancellationToken::new(),
                r#"{"query": "wrong field"}"#,
            )
            .await;
        assert!(!bad.success && bad.output.contains("invalid arguments"));
        for provider in ["brave", "tavily", "duckduckgo"] {
            let refused = tool
                .research(
                    SecurityProfile::Offline,
                    home.path(),
                    CancellationToken::new(),
                    &format!(r#"{{"question": "anything", "provider": "{provider}"}}"#),
                )
                .await;
            assert!(!refused.success, "{provider}");
            assert!(refused.output.contains("offline"), "{}", refused.output);
        }
        let unknown = tool
            .research(
                SecurityProfile::NetReadOnly,
                home.path(),
                CancellationToken::new(),
                r#"{"question": "anything", "provider": "bogus"}"#,
            )
            .await;
        assert!(unknown.output.contains("duckduckgo"), "{}", unknown.output);
    }
}
