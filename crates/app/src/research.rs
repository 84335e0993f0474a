//! The research engine as agents use it, and the audit records of a research run.

use cadre_research::Progress;
use std::sync::Arc;

/// The `research` tool for an agent session under `config`: the same pipeline, with the
/// configured model when its provider is usable (else model-free), and the session's profile
/// deciding whether the web may be used.
pub fn research_tool(
    config: &cadre_core::Config,
    audit: Arc<dyn cadre_core::audit_sink::AuditSink>,
) -> std::sync::Arc<dyn cadre_tools::Tool> {
    let model_url = config.provider.base_url.clone();
    let progress: cadre_research::ProgressSink =
        Arc::new(move |event| audit_research_requests(&*audit, &model_url, event));
    let model = cadre_model::ModelClient::new(config.provider.clone())
        .ok()
        .map(|client| (client, config.model.clone()));
    cadre_research::research_tool(cadre_research::ResearchToolConfig {
        cadre_home: config.cadre_home.clone(),
        model,
        price: config.model_price(),
        default_provider: config.research.provider.clone(),
        searxng_url: config.research.searxng_url.clone(),
        cache_ttl: config.research_cache_ttl(),
        network_allow: config.network_allowlist(),
        budgets: cadre_research::Budgets::default(),
        progress: Some(progress),
    })
}

/// Records a research run's own network requests: each model request (to the provider at
/// `model_url`) before it is sent, the pages it fetched, and the ones the network allowlist
/// refused. A page refused before any request (robots.txt, the profile) or replayed from the
/// journal is not recorded as a request.
pub fn audit_research_requests(
    audit: &dyn cadre_core::audit_sink::AuditSink,
    model_url: &str,
    event: &Progress,
) {
    match event {
        Progress::ModelRequest { purpose } => cadre_core::audit_sink::record_model_request(
            audit,
            model_url,
            &format!("research model request: {purpose}"),
        ),
        Progress::Fetched {
            url,
            outcome,
            requested: true,
        } => {
            let purpose = match outcome {
                Ok(()) => "research fetch".to_string(),
                Err(reason) => format!("research fetch: {reason}"),
            };
            cadre_core::audit_sink::record_request(audit, url, &purpose);
        }
        Progress::NetworkDenied { url, .. } => cadre_core::audit_sink::record_refused_request(
            audit,
            url,
            "research fetch: not on the network allowlist",
        ),
        _ => {}
    }
}
