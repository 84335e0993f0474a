//! Which environment variables a sandboxed command inherits.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Starting set of variables before include/exclude rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvInherit {
    /// Every variable of cadre's own environment.
    #[default]
    All,
    /// Only a small core set (PATH, HOME, LANG, TERM, USER, SHELL, TMPDIR, ...).
    Core,
    /// Nothing.
    None,
}

/// The environment policy: inherit a base set, drop secrets and excluded names, add includes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvPolicy {
    pub inherit: EnvInherit,
    /// Keep secret-looking variables (`*_KEY`, `*_TOKEN`, `*_SECRET`, ...). Off by default.
    pub keep_secrets: bool,
    /// Names (`*` wildcards allowed) removed whatever else says.
    pub exclude: Vec<String>,
    /// Variables set in the child, after everything else.
    pub set: BTreeMap<String, String>,
    /// Names always passed through even if they look secret.
    pub include_only: Vec<String>,
    /// Names that are secrets for this run (the provider's `env_key`, say): never passed on.
    #[serde(skip)]
    pub secret_names: Vec<String>,
}

const CORE_VARS: &[&str] = &[
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "USER", "LOGNAME", "SHELL", "TMPDIR",
    "TZ",
];

const SECRET_PATTERNS: &[&str] = &[
    "*_KEY",
    "*_API_KEY",
    "*_TOKEN",
    "*_SECRET",
    "*_SECRET_*",
    "*PASSWORD*",
    "*_CREDENTIALS",
    "AWS_*",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "SSH_AUTH_SOCK",
];

/// Matches `name` against a pattern with `*` wildcards, case-insensitively.
pub(crate) fn wildcard_match(pattern: &str, name: &str) -> bool {
    let pattern = pattern.to_ascii_uppercase();
    let name = name.to_ascii_uppercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name.as_str();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

impl EnvPolicy {
    pub fn is_secret_name(&self, name: &str) -> bool {
        self.secret_names.iter().any(|s| s == name)
            || SECRET_PATTERNS.iter().any(|p| wildcard_match(p, name))
    }

    /// The child's environment built from `parent`.
    pub fn apply<I>(&self, parent: I) -> BTreeMap<String, String>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut env = BTreeMap::new();
        for (name, value) in parent {
            let inherited = match self.inherit {
                EnvInherit::All => true,
                EnvInherit::Core => CORE_VARS.contains(&name.as_str()),
                EnvInherit::None => false,
            };
            let always = self.include_only.iter().any(|p| wildcard_match(p, &name));
            if !(inherited || always) {
                continue;
            }
            if self.exclude.iter().any(|p| wildcard_match(p, &name)) {
                continue;
            }
            let secret = self.secret_names.iter().any(|s| s == &name);
            if secret || (!self.keep_secrets && !always && self.is_secret_name(&name)) {
                continue;
            }
            env.insert(name, value);
        }
        for (k, v) in &self.set {
            env.insert(k.clone(), v.clone());
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), "v".to_string()))
            .collect()
    }

    #[test]
    fn secrets_are_scrubbed_by_default() {
        let policy = EnvPolicy {
            secret_names: vec!["MYLOCAL_KEY_VAR".into()],
            ..Default::default()
        };
        let env = policy.apply(vars(&[
            "PATH",
            "OPENAI_API_KEY",
            "GITHUB_TOKEN",
            "CI_JOB_TOKEN",
            "MYLOCAL_KEY_VAR",
            "HOME",
        ]));
        assert_eq!(env.keys().collect::<Vec<_>>(), vec!["HOME", "PATH"]);
    }

    #[test]
    fn include_and_exclude() {
        let policy = EnvPolicy {
            inherit: EnvInherit::Core,
            include_only: vec!["CARGO_*".into()],
            exclude: vec!["TERM".into()],
            ..Default::default()
        };
        let env = policy.apply(vars(&["PATH", "TERM", "CARGO_HOME", "FOO"]));
        assert_eq!(env.keys().collect::<Vec<_>>(), vec!["CARGO_HOME", "PATH"]);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*_TOKEN", "GITLAB_TOKEN"));
        assert!(wildcard_match("aws_*", "AWS_SECRET_ACCESS_KEY"));
        assert!(!wildcard_match("*_TOKEN", "TOKENS"));
        assert!(wildcard_match("*PASSWORD*", "DB_PASSWORD_FILE"));
    }
}
