//! The configuration tree and its loading: `$CADRE_HOME/config.toml`, then the project's
//! `.cadre/config.toml` (only once the user has trusted its content, see [`cadre_trust`]), then
//! `CADRE_*` environment variables, then `-c key=value` overrides, then flags. Each layer is
//! checked as it is applied, so an error names the file (or variable, or override) it came from.
//!
//! Even a trusted project file cannot move credentials: it may not set or change the
//! `base_url`, `env_key` or `http_headers` of a provider the user's configuration (or cadre
//! itself) defines, nor define a provider that reads an environment variable the user's
//! configuration does not send to that same server, nor pass secret variables on to commands.

use cadre_model::ProviderConfig;
pub use cadre_protocol::ModelPrice;
use cadre_protocol::{ApprovalMode, SecurityProfile};
use cadre_sandbox::{EnvInherit, EnvPolicy, SandboxPolicy};
use cadre_trust::{CheckedProject, ProjectFileKind, ProjectFiles, TrustError, TrustStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file format: every field optional so layers can be merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigToml {
    /// Model used by default, e.g. `gpt-5`.
    pub model: Option<String>,
    /// Id of the provider: a `[model_providers.<id>]` table or a built-in (`openai`, `ollama`,
    /// `lmstudio`, `openrouter`).
    pub model_provider: Option<String>,
    /// Security profile for commands: offline, net-read-only, workspace-write, workspace-net,
    /// trusted.
    pub profile: Option<SecurityProfile>,
    /// When to ask before running a command: untrusted, on-request, on-failure, never.
    pub approval_policy: Option<ApprovalMode>,
    /// The most tokens one model answer may have (Codex's name). Default: 4096 on the Chat wire,
    /// 32768 on the Responses wire, and never more than a quarter of a known context window.
    pub model_max_output_tokens: Option<u64>,
    /// The model's context window in tokens (Codex's name). Default: what the server says
    /// (llama.cpp, vLLM, Ollama, LM Studio); below 16384 cadre sends a compact system prompt and
    /// compact tool descriptions.
    pub model_context_window: Option<u64>,
    #[serde(default)]
    pub model_providers: BTreeMap<String, ProviderConfig>,
    pub limits: Option<LimitsToml>,
    pub sandbox: Option<SandboxToml>,
    pub network: Option<NetworkToml>,
    pub shell_environment_policy: Option<EnvPolicy>,
    pub audit: Option<AuditToml>,
    pub research: Option<ResearchToml>,
    /// Prices per million tokens, by model name, for `--budget-usd` and cost reports.
    #[serde(default)]
    pub model_prices: BTreeMap<String, ModelPrice>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsToml {
    /// Most model calls in one turn before it stops (default 50).
    pub max_model_calls_per_turn: Option<u32>,
    /// Wall-clock limit of one turn in seconds (default: none).
    pub turn_timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxToml {
    /// More directories writable under the workspace profiles.
    #[serde(default)]
    pub writable_roots: Vec<PathBuf>,
    /// Let commands write inside `.git` (hooks, config).
    #[serde(default)]
    pub allow_git_writes: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkToml {
    /// Domains reachable through the proxy in the network profiles; empty means all.
    #[serde(default)]
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditToml {
    pub enabled: Option<bool>,
    /// Directory of the log files (default `$CADRE_AUDIT_DIR`, else `$CADRE_HOME/audit`).
    pub dir: Option<PathBuf>,
    pub batch_window_ms: Option<u64>,
    pub max_file_bytes: Option<u64>,
    pub retention_days: Option<u32>,
    /// Flush the records that authorise an action to the storage device (`fdatasync`) before
    /// the action proceeds (default true). False still writes them first, to the kernel: they
    /// survive cadre being killed but not a power cut, and each command starts sooner.
    pub fsync: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResearchToml {
    /// Default search provider: searxng, brave, tavily, duckduckgo, local.
    pub provider: Option<String>,
    pub searxng_url: Option<String>,
    /// Hours a fetched page stays fresh in the cache.
    pub cache_ttl_hours: Option<u64>,
}

/// Where a configuration problem was found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration in {origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("invalid override `{0}`: expected key=value, e.g. -c model=\"gpt-5\"")]
    BadOverride(String),
    #[error(
        "unknown model provider `{id}`; define [model_providers.{id}] in config.toml or use one of: {known}"
    )]
    UnknownProvider { id: String, known: String },
    #[error("cannot find the home directory; set CADRE_HOME")]
    NoHome,
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(
        "{file} sets `{key}`, but a project file cannot {why}; set it in your own config.toml ($CADRE_HOME/config.toml) instead, or remove it from the project file"
    )]
    ProjectMovesCredentials {
        file: PathBuf,
        key: String,
        why: &'static str,
    },
}

/// What the caller knows before loading: where to look and what the command line says.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `$CADRE_HOME`; `None` means the environment variable, else `~/.cadre`.
    pub cadre_home: Option<PathBuf>,
    /// The working directory (the project's files are searched from here up).
    pub cwd: Option<PathBuf>,
    /// `$HOME`, above which no project file is searched; `None` means the user's home.
    pub user_home: Option<PathBuf>,
    /// `-c key=value` overrides, in order.
    pub overrides: Vec<String>,
    /// Values from dedicated flags (`--model`, `--profile`...), applied last.
    pub flags: ConfigToml,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub cadre_home: PathBuf,
    pub cwd: PathBuf,
    pub model: String,
    pub provider_id: String,
    pub provider: ProviderConfig,
    pub profile: SecurityProfile,
    pub approval: ApprovalMode,
    /// `model_max_output_tokens` as configured (`None`: the wire's default applies).
    pub model_max_output_tokens: Option<u64>,
    /// `model_context_window` as configured (`None`: asked of the server).
    pub model_context_window: Option<u64>,
    pub max_model_calls_per_turn: u32,
    pub turn_timeout: Option<std::time::Duration>,
    pub sandbox: SandboxToml,
    pub network: NetworkToml,
    pub env_policy: EnvPolicy,
    /// The audit log's settings, defaults applied.
    pub audit: cadre_audit::AuditConfig,
    pub research: ResearchToml,
    pub model_prices: BTreeMap<String, ModelPrice>,
    /// Files that contributed, in the order applied.
    pub sources: Vec<PathBuf>,
    /// The merged TOML, for `cadre doctor`.
    pub merged: ConfigToml,
    /// The project's files that change what cadre may do, each trusted or not.
    pub project: CheckedProject,
}

pub const DEFAULT_MODEL: &str = "gpt-5";
pub const DEFAULT_PROVIDER: &str = "openai";
const ENV_KEYS: &[(&str, &str)] = &[
    ("CADRE_MODEL", "model"),
    ("CADRE_MODEL_PROVIDER", "model_provider"),
    ("CADRE_PROFILE", "profile"),
    ("CADRE_APPROVAL_POLICY", "approval_policy"),
];

/// `$CADRE_HOME`, else `~/.cadre`.
pub fn default_cadre_home() -> Result<PathBuf, ConfigError> {
    if let Some(home) = std::env::var_os("CADRE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    std::env::home_dir()
        .map(|h| h.join(".cadre"))
        .ok_or(ConfigError::NoHome)
}

impl Config {
    pub fn load(options: LoadOptions) -> Result<Config, ConfigError> {
        let cadre_home = match options.cadre_home {
            Some(h) => h,
            None => default_cadre_home()?,
        };
        let cwd = match options.cwd {
            Some(c) => c,
            None => std::env::current_dir().map_err(|source| ConfigError::Read {
                path: PathBuf::from("."),
                source,
            })?,
        };
        let user_home = options.user_home.or_else(std::env::home_dir);
        let project = ProjectFiles::discover(&cwd, &cadre_home, user_home.as_deref())?
            .check(&TrustStore::in_cadre_home(&cadre_home).load()?);
        let mut merged = toml::Table::new();
        let mut sources = Vec::new();

        let user_file = cadre_home.join("config.toml");
        if user_file.is_file() {
            let text = std::fs::read_to_string(&user_file).map_err(|source| ConfigError::Read {
                path: user_file.clone(),
                source,
            })?;
            let origin = user_file.display().to_string();
            let layer = parse_layer(&text, &origin)?;
            check_layer(&merged, &layer, &origin)?;
            merge(&mut merged, layer);
            sources.push(user_file);
        }
        if let Some(file) = project.trusted(ProjectFileKind::Config).next()
            && let Some(text) = file.trusted_text()
        {
            let origin = file.path.display().to_string();
            let layer = parse_layer(text, &origin)?;
            check_project_layer(&merged, &layer, &file.path)?;
            check_layer(&merged, &layer, &origin)?;
            merge(&mut merged, layer);
            sources.push(file.path.clone());
        }

        let mut env_layer = toml::Table::new();
        for (var, key) in ENV_KEYS {
            if let Ok(value) = std::env::var(var)
                && !value.is_empty()
            {
                env_layer.insert((*key).into(), toml::Value::String(value));
            }
        }
        check_layer(&merged, &env_layer, "environment variables (CADRE_*)")?;
        merge(&mut merged, env_layer);

        for item in &options.overrides {
            let layer = parse_override(item)?;
            check_layer(&merged, &layer, &format!("override `-c {item}`"))?;
            merge(&mut merged, layer);
        }

        let flags = toml::Table::try_from(&options.flags).map_err(|e| ConfigError::Invalid {
            origin: "command-line flags".into(),
            message: e.to_string(),
        })?;
        merge(&mut merged, flags);

        let merged: ConfigToml =
            toml::Value::Table(merged)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    origin: "the merged configuration".into(),
                    message: e.message().to_string(),
                })?;
        Self::resolve(merged, cadre_home, cwd, sources, project)
    }

    fn resolve(
        merged: ConfigToml,
        cadre_home: PathBuf,
        cwd: PathBuf,
        sources: Vec<PathBuf>,
        project: CheckedProject,
    ) -> Result<Config, ConfigError> {
        let provider_id = merged
            .model_provider
            .clone()
            .unwrap_or_else(|| DEFAULT_PROVIDER.into());
        let provider = match merged.model_providers.get(&provider_id) {
            Some(p) => p.clone(),
            None => ProviderConfig::builtin(&provider_id).ok_or_else(|| {
                let mut known: Vec<String> = ProviderConfig::BUILTIN_IDS
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                known.extend(merged.model_providers.keys().cloned());
                ConfigError::UnknownProvider {
                    id: provider_id.clone(),
                    known: known.join(", "),
                }
            })?,
        };
        let limits = merged.limits.clone().unwrap_or_default();
        let mut env_policy = merged.shell_environment_policy.clone().unwrap_or_default();
        if let Some(key) = &provider.env_key {
            env_policy.secret_names.push(key.clone());
        }
        let audit = resolve_audit(
            merged.audit.clone().unwrap_or_default(),
            &cadre_home,
            &env_policy,
        );
        Ok(Config {
            model: merged.model.clone().unwrap_or_else(|| DEFAULT_MODEL.into()),
            provider_id,
            provider,
            profile: merged.profile.unwrap_or_default(),
            approval: merged.approval_policy.unwrap_or_default(),
            model_max_output_tokens: merged.model_max_output_tokens,
            model_context_window: merged.model_context_window,
            max_model_calls_per_turn: limits.max_model_calls_per_turn.unwrap_or(50),
            turn_timeout: limits.turn_timeout_secs.map(std::time::Duration::from_secs),
            sandbox: merged.sandbox.clone().unwrap_or_default(),
            network: merged.network.clone().unwrap_or_default(),
            env_policy,
            audit,
            research: merged.research.clone().unwrap_or_default(),
            model_prices: merged.model_prices.clone(),
            cadre_home,
            cwd,
            sources,
            merged,
            project,
        })
    }

    /// The project's trusted `.cadre/policy.toml`: its path and the text that was trusted.
    pub fn project_policy(&self) -> Option<(&Path, &str)> {
        let file = self.project.trusted(ProjectFileKind::Policy).next()?;
        Some((file.path.as_path(), file.trusted_text()?))
    }

    /// The sandbox policy for commands run from `cwd` under this configuration.
    pub fn sandbox_policy(&self) -> SandboxPolicy {
        let mut policy = SandboxPolicy::new(self.profile, self.cwd.clone());
        policy.extra_writable_roots = self.sandbox.writable_roots.clone();
        policy.allow_git_writes = self.sandbox.allow_git_writes;
        policy.network_allow = self.network.allow.clone();
        policy.env = self.env_policy.clone();
        policy.read_only_paths = vec![self.cadre_home.clone(), self.audit_dir()];
        policy
    }

    /// The hosts cadre's network traffic may reach: the sandbox proxy's and cadre's own fetches.
    pub fn network_allowlist(&self) -> cadre_protocol::DomainAllowlist {
        cadre_protocol::DomainAllowlist::new(&self.network.allow)
    }

    /// How long a page fetched for research stays fresh in the cache (`research.cache_ttl_hours`,
    /// default 24 hours).
    pub fn research_cache_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.research.cache_ttl_hours.unwrap_or(24) * 3600)
    }

    /// The price of the configured model, when the price table has it.
    pub fn model_price(&self) -> Option<ModelPrice> {
        self.model_prices.get(&self.model).copied()
    }

    pub fn audit_dir(&self) -> PathBuf {
        self.audit.dir.clone()
    }

    pub fn sessions_dir(&self) -> PathBuf {
        self.cadre_home.join("sessions")
    }

    /// The effective configuration as TOML (defaults filled in), secret-looking values masked.
    pub fn to_masked_toml(&self) -> String {
        let mut effective = self.merged.clone();
        effective.model = Some(self.model.clone());
        effective.model_provider = Some(self.provider_id.clone());
        effective.profile = Some(self.profile);
        effective.approval_policy = Some(self.approval);
        effective
            .model_providers
            .insert(self.provider_id.clone(), self.provider.clone());
        effective.limits = Some(LimitsToml {
            max_model_calls_per_turn: Some(self.max_model_calls_per_turn),
            turn_timeout_secs: self.turn_timeout.map(|t| t.as_secs()),
        });
        let mut value =
            toml::Value::try_from(&effective).unwrap_or(toml::Value::Table(Default::default()));
        mask_secrets(&mut value, "");
        toml::to_string_pretty(&value).unwrap_or_default()
    }

    /// The environment policy's inherit mode (shown by `cadre doctor`).
    pub fn env_inherit(&self) -> EnvInherit {
        self.env_policy.inherit
    }
}

fn mask_secrets(value: &mut toml::Value, key: &str) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table.iter_mut() {
                mask_secrets(v, k);
            }
        }
        toml::Value::String(s) => {
            let lower = key.to_ascii_lowercase();
            let secret_key = ["key", "token", "secret", "password", "authorization"]
                .iter()
                .any(|w| lower.contains(w))
                && lower != "env_key";
            if secret_key && !s.is_empty() {
                *s = "****".into();
            }
        }
        _ => {}
    }
}

/// `[audit]` with every default applied: the directory (`dir`, else `$CADRE_AUDIT_DIR`, else
/// `$CADRE_HOME/audit`), and the secrets the log must never show (the environment policy's).
fn resolve_audit(
    toml: AuditToml,
    cadre_home: &Path,
    env_policy: &EnvPolicy,
) -> cadre_audit::AuditConfig {
    let dir = toml.dir.unwrap_or_else(|| {
        std::env::var_os("CADRE_AUDIT_DIR")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| cadre_home.join("audit"))
    });
    let defaults = cadre_audit::AuditConfig::in_dir(dir);
    cadre_audit::AuditConfig {
        enabled: toml.enabled.unwrap_or(defaults.enabled),
        batch_window_ms: toml.batch_window_ms.unwrap_or(defaults.batch_window_ms),
        max_file_bytes: toml.max_file_bytes.unwrap_or(defaults.max_file_bytes),
        retention_days: toml.retention_days.unwrap_or(defaults.retention_days),
        fsync: toml.fsync.unwrap_or(defaults.fsync),
        secret_names: env_policy.secret_names.clone(),
        ..defaults
    }
}

/// Holds a trusted project layer to what no project file may do: move the user's credentials
/// somewhere else, or hand secrets to commands. `user` is the user's own layer.
fn check_project_layer(
    user: &toml::Table,
    project: &toml::Table,
    file: &Path,
) -> Result<(), ConfigError> {
    let refuse = |key: String, why: &'static str| ConfigError::ProjectMovesCredentials {
        file: file.to_path_buf(),
        key,
        why,
    };
    let user_providers = user.get("model_providers").and_then(|v| v.as_table());
    // A variable the user's configuration names, with the server the user sends it to.
    let user_keys: Vec<(&str, Option<&str>)> = user_providers
        .into_iter()
        .flat_map(|providers| providers.values())
        .filter_map(|provider| {
            let env_key = provider.get("env_key")?.as_str()?;
            Some((env_key, provider.get("base_url").and_then(|v| v.as_str())))
        })
        .collect();
    let project_providers = project.get("model_providers").and_then(|v| v.as_table());
    for (id, provider) in project_providers.into_iter().flatten() {
        let Some(provider) = provider.as_table() else {
            continue;
        };
        let users_own = user_providers.and_then(|providers| providers.get(id));
        let builtin =
            ProviderConfig::builtin(id).and_then(|builtin| toml::Value::try_from(builtin).ok());
        let defined = users_own.or(builtin.as_ref());
        match defined {
            Some(defined) => {
                for key in ["base_url", "env_key", "http_headers"] {
                    if let Some(value) = provider.get(key)
                        && defined.get(key) != Some(value)
                    {
                        return Err(refuse(
                            format!("model_providers.{id}.{key}"),
                            "change where the credentials of a provider you defined go",
                        ));
                    }
                }
            }
            None => {
                // A provider of the project's own may read a key only where the user already
                // sends that very key: to the same server.
                let base_url = provider.get("base_url").and_then(|v| v.as_str());
                if let Some(env_key) = provider.get("env_key").and_then(|v| v.as_str())
                    && !user_keys.contains(&(env_key, base_url))
                {
                    return Err(refuse(
                        format!("model_providers.{id}.env_key"),
                        "read an environment variable that your own configuration does not send to that server",
                    ));
                }
            }
        }
    }
    if let Some(env) = project
        .get("shell_environment_policy")
        .and_then(|v| v.as_table())
    {
        for key in ["keep_secrets", "include_only"] {
            if env.contains_key(key) {
                return Err(refuse(
                    format!("shell_environment_policy.{key}"),
                    "pass secret environment variables on to commands",
                ));
            }
        }
    }
    Ok(())
}

/// Parses one file. Problems the file shows on its own (syntax, unknown keys, wrong types) are
/// reported with its line numbers; a table it only completes (a provider whose `base_url` is
/// in another file) is judged once merged, by [`check_layer`].
fn parse_layer(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    let invalid = |e: toml::de::Error| ConfigError::Invalid {
        origin: origin.to_string(),
        message: describe_toml_error(&e, text),
    };
    if let Err(e) = toml::from_str::<ConfigToml>(text)
        && !e.message().contains("missing field")
    {
        return Err(invalid(e));
    }
    toml::from_str::<toml::Table>(text).map_err(invalid)
}

fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let number = text[..start].matches('\n').count() + 1;
            let line_text = text.lines().nth(number - 1).unwrap_or("").trim();
            format!("line {number} (`{line_text}`): {}", e.message().trim())
        }
        None => e.message().trim().to_string(),
    }
}

/// Checks that `layer` applied over `merged` still fits the schema, so unknown keys and wrong
/// types are reported with the layer's origin and the key's place in the tree.
fn check_layer(merged: &toml::Table, layer: &toml::Table, origin: &str) -> Result<(), ConfigError> {
    let mut candidate = merged.clone();
    merge(&mut candidate, layer.clone());
    let text = toml::to_string(&candidate).unwrap_or_default();
    toml::from_str::<ConfigToml>(&text)
        .map(|_| ())
        .map_err(|e| ConfigError::Invalid {
            origin: origin.to_string(),
            message: describe_in_tree(&e, &text),
        })
}

/// Names the key an error points at in re-serialised TOML (`[limits] max = "x"`).
fn describe_in_tree(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim().to_string();
    let Some(span) = e.span() else {
        return message;
    };
    let before = &text[..span.start.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = text[line_start..line_end].trim();
    let header = before
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .map(|h| format!("{} ", h.trim()))
        .unwrap_or_default();
    if line.starts_with('[') {
        format!("at `{line}`: {message}")
    } else {
        format!("at `{header}{line}`: {message}")
    }
}

fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) => {
                merge(existing, incoming)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `a.b.c=value`: the value is parsed as TOML, else taken as a string.
fn parse_override(item: &str) -> Result<toml::Table, ConfigError> {
    let (path, raw) = item
        .split_once('=')
        .ok_or_else(|| ConfigError::BadOverride(item.to_string()))?;
    let path = path.trim();
    if path.is_empty() {
        return Err(ConfigError::BadOverride(item.to_string()));
    }
    let raw = raw.trim();
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut value = value;
    for part in path.rsplit('.') {
        let mut table = toml::Table::new();
        table.insert(part.to_string(), value);
        value = toml::Value::Table(table);
    }
    match value {
        toml::Value::Table(t) => Ok(t),
        _ => unreachable!("wrapped in a table above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_in(home: &Path, cwd: &Path, overrides: &[&str]) -> Result<Config, ConfigError> {
        Config::load(LoadOptions {
            cadre_home: Some(home.to_path_buf()),
            cwd: Some(cwd.to_path_buf()),
            user_home: None,
            overrides: overrides.iter().map(|s| s.to_string()).collect(),
            flags: ConfigToml::default(),
        })
    }

    #[test]
    fn precedence_user_project_override_flag() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let project = dir.path().join("proj");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(project.join(".cadre")).unwrap();
        std::fs::write(
            home.join("config.toml"),
            "model = \"user-model\"\nprofile = \"workspace-write\"\n[limits]\nmax_model_calls_per_turn = 7\n",
        )
        .unwrap();
        std::fs::write(
            project.join(".cadre/config.toml"),
            "model = \"project-model\"\n",
        )
        .unwrap();
        trust(&home, &project);

        let config = load_in(&home, &project, &[]).unwrap();
        assert_eq!(config.model, "project-model");
        assert_eq!(config.profile, SecurityProfile::WorkspaceWrite);
        assert_eq!(config.max_model_calls_per_turn, 7);
        assert_eq!(config.sources.len(), 2);

        let config = load_in(
            &home,
            &project,
            &["model=override", "limits.max_model_calls_per_turn=3"],
        )
        .unwrap();
        assert_eq!(config.model, "override");
        assert_eq!(config.max_model_calls_per_turn, 3);

        let config = Config::load(LoadOptions {
            cadre_home: Some(home.clone()),
            cwd: Some(project.clone()),
            user_home: None,
            overrides: vec!["model=override".into()],
            flags: ConfigToml {
                model: Some("flag".into()),
                ..Default::default()
            },
        })
        .unwrap();
        assert_eq!(config.model, "flag");
    }

    /// Trusts the current content of the project files around `project`.
    fn trust(cadre_home: &Path, project: &Path) {
        let files = ProjectFiles::discover(project, cadre_home, None).unwrap();
        TrustStore::in_cadre_home(cadre_home).trust(&files).unwrap();
    }

    /// A cadre home with a provider of the user's, and a repository beside it.
    fn user_and_repository(project_config: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join(".cadre")).unwrap();
        std::fs::write(
            home.join("config.toml"),
            "model_provider = \"mine\"\n[model_providers.mine]\nname = \"Mine\"\nbase_url = \"http://127.0.0.1:9/v1\"\nenv_key = \"MINE_API_KEY\"\n",
        )
        .unwrap();
        std::fs::write(repo.join(".cadre/config.toml"), project_config).unwrap();
        (dir, home, repo)
    }

    #[test]
    fn an_untrusted_project_file_is_ignored_and_a_changed_one_too() {
        let (_dir, home, repo) =
            user_and_repository("profile = \"trusted\"\napproval_policy = \"never\"\n");
        let config = load_in(&home, &repo, &[]).unwrap();
        assert_eq!(config.profile, SecurityProfile::Offline);
        assert_eq!(config.project.ignored().count(), 1);
        assert_eq!(config.sources, vec![home.join("config.toml")]);

        trust(&home, &repo);
        let config = load_in(&home, &repo, &[]).unwrap();
        assert_eq!(config.profile, SecurityProfile::Trusted);
        assert_eq!(config.approval, ApprovalMode::Never);

        std::fs::write(
            repo.join(".cadre/config.toml"),
            "profile = \"trusted\"\napproval_policy = \"never\"\nmodel = \"x\"\n",
        )
        .unwrap();
        let config = load_in(&home, &repo, &[]).unwrap();
        assert_eq!(config.profile, SecurityProfile::Offline);
        assert_eq!(
            config.project.ignored().next().unwrap().state,
            cadre_trust::TrustState::Changed
        );
    }

    #[test]
    fn even_a_trusted_project_file_cannot_move_credentials() {
        let refused = [
            "[model_providers.mine]\nbase_url = \"http://127.0.0.1:8/v1\"\n",
            "[model_providers.mine]\nenv_key = \"OTHER_KEY\"\n",
            "[model_providers.mine]\nhttp_headers = { X-Key = \"a\" }\n",
            "[model_providers.openai]\nname = \"x\"\nbase_url = \"http://127.0.0.1:8/v1\"\n",
            "[model_providers.new]\nname = \"x\"\nbase_url = \"http://127.0.0.1:8/v1\"\nenv_key = \"OPENAI_API_KEY\"\n",
            "[model_providers.new]\nname = \"x\"\nbase_url = \"http://127.0.0.1:8/v1\"\nenv_key = \"MINE_API_KEY\"\n",
            "[shell_environment_policy]\nkeep_secrets = true\n",
        ];
        for text in refused {
            let (_dir, home, repo) = user_and_repository(text);
            trust(&home, &repo);
            let err = load_in(&home, &repo, &[]).unwrap_err();
            assert!(
                matches!(err, ConfigError::ProjectMovesCredentials { .. }),
                "{text}: {err}"
            );
            assert!(err.to_string().contains("config.toml"), "{err}");
        }
        let allowed = [
            "model_provider = \"local\"\n[model_providers.local]\nname = \"x\"\nbase_url = \"http://127.0.0.1:8/v1\"\n",
            "[model_providers.new]\nname = \"x\"\nbase_url = \"http://127.0.0.1:9/v1\"\nenv_key = \"MINE_API_KEY\"\n",
            "[model_providers.mine]\nrequest_max_retries = 1\nbase_url = \"http://127.0.0.1:9/v1\"\n",
        ];
        for text in allowed {
            let (_dir, home, repo) = user_and_repository(text);
            trust(&home, &repo);
            load_in(&home, &repo, &[]).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    #[test]
    fn the_audit_settings_are_resolved_with_their_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[audit]\nfsync = false\nretention_days = 7\n",
        )
        .unwrap();
        let config = load_in(dir.path(), dir.path(), &[]).unwrap();
        assert!(config.audit.enabled);
        assert!(!config.audit.fsync);
        assert_eq!(config.audit.retention_days, 7);
        assert_eq!(
            config.audit.batch_window_ms,
            cadre_audit::AuditConfig::default().batch_window_ms
        );
        if std::env::var_os("CADRE_AUDIT_DIR").is_none() {
            assert_eq!(config.audit_dir(), dir.path().join("audit"));
        }
        let config = load_in(dir.path(), dir.path(), &["audit.dir=\"/elsewhere\""]).unwrap();
        assert_eq!(config.audit_dir(), PathBuf::from("/elsewhere"));
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "modle = \"x\"\n").unwrap();
        let err = load_in(dir.path(), dir.path(), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.toml"), "{err}");
        assert!(err.contains("modle"), "{err}");
    }

    #[test]
    fn wrong_type_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "[limits]\nmax_model_calls_per_turn = \"many\"\n",
        )
        .unwrap();
        let err = load_in(dir.path(), dir.path(), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_model_calls_per_turn"), "{err}");
        let err = load_in(dir.path(), dir.path(), &["profile=bogus"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.toml") || err.contains("profile"),
            "{err}"
        );
    }

    #[test]
    fn providers_custom_and_builtin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "model_provider = \"mylocal\"\n[model_providers.mylocal]\nname = \"My server\"\nbase_url = \"http://127.0.0.1:8080/v1\"\nwire_api = \"chat\"\nenv_key = \"MYLOCAL_API_KEY\"\n",
        )
        .unwrap();
        let config = load_in(dir.path(), dir.path(), &[]).unwrap();
        assert_eq!(config.provider.base_url, "http://127.0.0.1:8080/v1");
        assert!(
            config
                .env_policy
                .secret_names
                .contains(&"MYLOCAL_API_KEY".to_string())
        );
        let config = load_in(dir.path(), dir.path(), &["model_provider=ollama"]).unwrap();
        assert_eq!(config.provider.base_url, "http://localhost:11434/v1");
        let err = load_in(dir.path(), dir.path(), &["model_provider=nope"]).unwrap_err();
        assert!(err.to_string().contains("mylocal"));
    }

    #[test]
    fn override_values_parse_as_toml_or_string() {
        let t = parse_override("a.b=3").unwrap();
        assert_eq!(t["a"]["b"].as_integer(), Some(3));
        let t = parse_override("model=gpt-5-codex").unwrap();
        assert_eq!(t["model"].as_str(), Some("gpt-5-codex"));
        assert!(parse_override("novalue").is_err());
    }
}
