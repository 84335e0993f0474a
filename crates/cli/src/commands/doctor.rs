//! `cadre doctor`: the effective configuration (secrets masked), whether the provider answers,
//! what the sandbox can enforce on this machine, and where cadre keeps its files.

use crate::cli_env::CliEnv;
use anyhow::Context;
use cadre_core::ConfigToml;
use cadre_core::model_window::ModelWindow;
use cadre_model::{ContextWindow, ModelClient};
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Check the configuration for this directory instead of the current one.
    #[arg(short = 'C', long = "cd", value_name = "DIR")]
    cd: Option<PathBuf>,
    /// Skip contacting the model provider.
    #[arg(long)]
    offline: bool,
}

/// How requests are fitted to the model, as `doctor --format json` shows it.
#[derive(Debug, serde::Serialize)]
struct WindowReport {
    /// `null` when neither the configuration nor the server says.
    context_window: Option<ContextWindow>,
    max_output_tokens: u64,
    compact_prompt: bool,
}

impl From<ModelWindow> for WindowReport {
    fn from(window: ModelWindow) -> Self {
        WindowReport {
            context_window: window.context_window,
            max_output_tokens: window.max_output_tokens,
            compact_prompt: window.compact,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[allow(clippy::print_stdout)]
pub fn run(args: DoctorArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let config = env.load_config(args.cd, ConfigToml::default())?;
    // Offline, only a configured window is known.
    let configured = config.model_context_window.map(|tokens| ContextWindow {
        tokens,
        source: cadre_model::ContextWindowSource::Configured,
    });
    let mut window = ModelWindow::new(&config, configured);
    let probe = if args.offline {
        None
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Some(match ModelClient::new(config.provider.clone()) {
            Ok(client) => Ok(runtime.block_on(async {
                window = ModelWindow::discover(&config, &client).await;
                client.probe(&config.model).await
            })),
            Err(err) => Err(err.to_string()),
        })
    };
    let window_report = WindowReport::from(window);
    let support = cadre_sandbox::support_report();
    let profile_ok = support
        .profiles
        .iter()
        .find(|p| p.profile == config.profile)
        .is_none_or(|p| p.enforceable);

    match args.format {
        Format::Json => {
            let provider = match &probe {
                None => json!(null),
                Some(Ok(report)) => json!(report),
                Some(Err(err)) => json!({"error": err}),
            };
            let out = json!({
                "version": crate::VERSION,
                "cadre_home": config.cadre_home,
                "cwd": config.cwd,
                "config_files": config.sources,
                "model": config.model,
                "provider_id": config.provider_id,
                "provider": {
                    "name": config.provider.name,
                    "base_url": config.provider.base_url,
                    "wire_api": config.provider.wire_api,
                    "env_key": config.provider.env_key,
                    "check": provider,
                },
                "model_window": window_report,
                "profile": config.profile,
                "approval_policy": config.approval,
                "sandbox": support,
                "audit_dir": config.audit_dir(),
                "audit_enabled": config.audit.enabled,
                "sessions_dir": config.sessions_dir(),
                "project": crate::commands::trust::ProjectReport::of(&config.project),
                "config": toml_to_json(&config.to_masked_toml()),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Format::Text => {
            println!("cadre {}", crate::VERSION);
            println!();
            println!("configuration");
            println!("  home:            {}", config.cadre_home.display());
            println!("  working dir:     {}", config.cwd.display());
            if config.sources.is_empty() {
                println!("  files:           none (defaults)");
            }
            for source in &config.sources {
                println!("  file:            {}", source.display());
            }
            println!("  model:           {}", config.model);
            println!(
                "  provider:        {} ({}, {} wire, {})",
                config.provider_id,
                config.provider.base_url,
                match config.provider.wire_api {
                    cadre_model::WireApi::Responses => "responses",
                    cadre_model::WireApi::Chat => "chat",
                },
                match &config.provider.env_key {
                    Some(var) if std::env::var(var).is_ok_and(|v| !v.is_empty()) =>
                        format!("key from {var}: set"),
                    Some(var) => format!("key from {var}: NOT SET"),
                    None => "no key".to_string(),
                }
            );
            match &probe {
                None => println!("  provider check:  skipped (--offline)"),
                Some(Ok(report)) => println!(
                    "  provider check:  {} ({} in {} ms)",
                    report.summary, report.url, report.latency_ms
                ),
                Some(Err(err)) => println!("  provider check:  {err}"),
            }
            match &window_report.context_window {
                Some(w) => println!(
                    "  context window:  {} tokens ({}){}",
                    w.tokens,
                    w.source.describe(),
                    if window_report.compact_prompt {
                        "; small, so the compact prompt is sent"
                    } else {
                        ""
                    }
                ),
                None => println!(
                    "  context window:  unknown (set model_context_window if the server has a small one)"
                ),
            }
            println!(
                "  output cap:      {} tokens per answer (model_max_output_tokens)",
                window_report.max_output_tokens
            );
            println!("  profile:         {}", config.profile);
            println!("  approval policy: {}", config.approval);
            println!();
            println!("project files ({})", config.project.root.display());
            if config.project.files.is_empty() {
                println!("  none");
            }
            for file in &config.project.files {
                println!(
                    "  {:<28} {} ({})",
                    file.state.to_string(),
                    file.path.display(),
                    file.kind
                );
            }
            if config.project.ignored().next().is_some() {
                println!("  ignored until trusted: `cadre trust` applies them as they are now");
            }
            println!();
            println!("sandbox");
            println!(
                "  os {} · landlock ABI {} · seccomp {} · user namespaces {} · root {}",
                support.os,
                support.landlock_abi,
                yes_no(support.seccomp),
                yes_no(support.user_namespaces),
                yes_no(support.running_as_root)
            );
            for profile in &support.profiles {
                match &profile.reason {
                    None => println!("  {:<16} enforced", profile.profile.as_str()),
                    Some(reason) => {
                        println!(
                            "  {:<16} CANNOT be enforced: {reason}",
                            profile.profile.as_str()
                        )
                    }
                }
            }
            println!();
            println!("files");
            println!("  sessions:        {}", config.sessions_dir().display());
            println!(
                "  audit log:       {}{}",
                config.audit_dir().display(),
                if !config.audit.enabled {
                    " (disabled)"
                } else {
                    ""
                }
            );
            println!();
            println!("effective configuration (secrets masked)");
            for line in config.to_masked_toml().lines() {
                println!("  {line}");
            }
        }
    }
    let provider_ok = match &probe {
        None => true,
        Some(Ok(report)) => report
            .status
            .is_some_and(|s| s < 500 && s != 401 && s != 403),
        Some(Err(_)) => false,
    };
    Ok(if provider_ok && profile_ok { 0 } else { 1 })
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn toml_to_json(text: &str) -> serde_json::Value {
    text.parse::<toml::Table>()
        .ok()
        .and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or(serde_json::Value::Null)
}
