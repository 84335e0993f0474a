//! Removes secrets and personal paths from text before it reaches the log.
//!
//! Every string in every record passes through [`Redactor::redact`]: the home directory becomes
//! `~`, the user name `[USER]`, and anything that looks like a credential becomes
//! `[REDACTED:<kind>]`. Patterns are chosen to match the documented formats of real credentials
//! (prefixes such as `sk-ant-`, `ghp_`, `AKIA`) rather than "long random strings", so hashes,
//! UUIDs and base64 survive; secrets with no recognisable shape are caught by value, from the
//! names the environment policy marks as secret.
//!
//! Building a [`Redactor`] compiles nothing: each pattern carries literals that any match must
//! contain, one pass over a string finds which of them it contains, and a pattern's regex is
//! compiled the first time a string contains one of its literals. Most strings contain none, so
//! most logs never compile most patterns, and opening a log costs microseconds, not
//! milliseconds.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::OnceLock;

/// A secret known by name and value (an environment variable the policy marks as secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedSecret {
    pub name: String,
    pub value: String,
}

/// What to redact besides the built-in credential formats.
#[derive(Debug, Clone, Default)]
pub struct RedactionConfig {
    /// The user's home directory, replaced by `~`.
    pub home_dir: Option<String>,
    /// The user's login name, replaced by `[USER]` where it stands as a word.
    pub user_name: Option<String>,
    /// Secrets redacted by value, and wherever they are assigned (`NAME=…`).
    pub secrets: Vec<NamedSecret>,
}

impl RedactionConfig {
    /// Home and user from this process's environment, and the values of `secret_names` looked up
    /// in it (names that are unset are still redacted where assigned).
    pub fn from_environment(secret_names: &[String]) -> Self {
        let home_dir = std::env::var("HOME").ok();
        let user_name = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok();
        let secrets = secret_names
            .iter()
            .map(|name| NamedSecret {
                name: name.clone(),
                value: std::env::var(name).unwrap_or_default(),
            })
            .collect();
        RedactionConfig {
            home_dir,
            user_name,
            secrets,
        }
    }
}

/// Values shorter than this are not replaced wherever they occur (a three-letter value would
/// shred ordinary text); they are still redacted where assigned to their variable.
const MIN_SECRET_VALUE_LEN: usize = 8;

/// User names too generic to replace as words.
const GENERIC_USER_NAMES: &[&str] = &["root", "user", "admin", "runner", "ubuntu", "test"];

struct Pattern {
    kind: &'static str,
    regex: LazyRegex,
    /// Literals of which every match contains at least one (compared ignoring ASCII case when
    /// `ignore_case`): a string containing none cannot match.
    needles: Vec<String>,
    ignore_case: bool,
    /// The capture group holding the secret; the rest of the match is kept.
    secret_group: usize,
    /// Extra check on the secret text for shapes a regex cannot express without look-around.
    accept: fn(&str) -> bool,
}

/// Every pattern's needles, by first byte, so that one pass over a string finds the patterns it
/// may match.
struct NeedleIndex {
    /// For each byte value, the needles starting with it (a case-insensitive needle under both
    /// cases of its first letter).
    by_first: Vec<Vec<Needle>>,
    /// The patterns with case-insensitive needles. Unicode case folding matches more than
    /// ASCII comparison finds (`ſ` matches `s` under `(?i)`), so a string that is not ASCII is
    /// left to their regexes.
    case_folded: Vec<usize>,
    patterns: usize,
}

#[derive(Clone)]
struct Needle {
    bytes: Box<[u8]>,
    /// The index of the pattern it belongs to.
    pattern: usize,
    ignore_case: bool,
}

impl NeedleIndex {
    fn new(patterns: &[Pattern]) -> Self {
        let mut by_first: Vec<Vec<Needle>> = vec![Vec::new(); 256];
        let mut case_folded = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            if pattern.ignore_case {
                case_folded.push(index);
            }
            for needle in &pattern.needles {
                let bytes: Box<[u8]> = needle.as_bytes().into();
                let Some(&first) = bytes.first() else {
                    continue;
                };
                let mut firsts = vec![first];
                if pattern.ignore_case && first.is_ascii_alphabetic() {
                    firsts = vec![first.to_ascii_lowercase(), first.to_ascii_uppercase()];
                }
                for first in firsts {
                    by_first[usize::from(first)].push(Needle {
                        bytes: bytes.clone(),
                        pattern: index,
                        ignore_case: pattern.ignore_case,
                    });
                }
            }
        }
        NeedleIndex {
            by_first,
            case_folded,
            patterns: patterns.len(),
        }
    }

    /// Which patterns `text` may match (by index), or `None` when it can match none.
    fn candidates(&self, text: &str) -> Option<Vec<bool>> {
        let mut hits: Option<Vec<bool>> = None;
        let mut hit =
            |index: usize| hits.get_or_insert_with(|| vec![false; self.patterns])[index] = true;
        if !text.is_ascii() {
            self.case_folded.iter().for_each(|&index| hit(index));
        }
        let bytes = text.as_bytes();
        for (at, &byte) in bytes.iter().enumerate() {
            for needle in &self.by_first[usize::from(byte)] {
                let Some(here) = bytes.get(at..at + needle.bytes.len()) else {
                    continue;
                };
                let found = if needle.ignore_case {
                    here.eq_ignore_ascii_case(&needle.bytes)
                } else {
                    *here == *needle.bytes
                };
                if found {
                    hit(needle.pattern);
                }
            }
        }
        hits
    }
}

/// A regex compiled the first time it is needed.
struct LazyRegex {
    source: String,
    compiled: OnceLock<Regex>,
}

impl LazyRegex {
    fn new(source: String) -> Self {
        LazyRegex {
            source,
            compiled: OnceLock::new(),
        }
    }

    fn get(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            Regex::new(&self.source).expect("redaction patterns are built to compile")
        })
    }
}

fn always(_: &str) -> bool {
    true
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// Built-in credential formats, in the order they are applied: whole blocks and headers first so
/// that a token inside them is reported once under the enclosing kind.
fn builtin_patterns() -> Vec<Pattern> {
    // `needles` must be literals that every match of `re` contains; lower-case when `re` is
    // case-insensitive (`(?i)`). The tests below check each sample against its needles.
    let p = |kind, re: &str, needles: &[&str], secret_group, accept: fn(&str) -> bool| Pattern {
        kind,
        regex: LazyRegex::new(re.to_string()),
        needles: needles.iter().map(|n| n.to_string()).collect(),
        ignore_case: re.starts_with("(?i)"),
        secret_group,
        accept,
    };
    vec![
        p(
            "private_key",
            r"(?s)(-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z))",
            &["-----BEGIN "],
            1,
            always,
        ),
        p(
            "authorization",
            r#"(?i)\b(?:proxy-)?authorization(?:["']?\s*[:=]\s*["']?)([^\r\n"']+)"#,
            &["authorization"],
            1,
            always,
        ),
        p(
            "jwt",
            r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)",
            &["eyJ"],
            1,
            always,
        ),
        p(
            "bearer",
            r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})",
            &["bearer"],
            1,
            has_digit,
        ),
        p(
            "anthropic",
            r"\b(sk-ant-[A-Za-z0-9_-]{20,})",
            &["sk-ant-"],
            1,
            always,
        ),
        p(
            "openai",
            r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})",
            &["sk-"],
            1,
            has_digit,
        ),
        p(
            "aws_access_key_id",
            r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16})\b",
            &[
                "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA",
            ],
            1,
            always,
        ),
        p(
            "aws_secret_key",
            r#"(?i)\b(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key|aws_?session_?token)(?:["']?\s*[:=]\s*["']?)([A-Za-z0-9/+=]{40,})"#,
            &["secret", "session"],
            1,
            always,
        ),
        p(
            "github",
            r"\b((?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,})",
            &["ghp_", "gho_", "ghs_", "ghu_", "ghr_"],
            1,
            always,
        ),
        p(
            "github",
            r"\b(github_pat_[A-Za-z0-9_]{22,})",
            &["github_pat_"],
            1,
            always,
        ),
        p(
            "gitlab",
            r"\b(glpat-[A-Za-z0-9_-]{20,})",
            &["glpat-"],
            1,
            always,
        ),
        p(
            "slack",
            r"\b(xox[baprs]-[A-Za-z0-9-]{10,})",
            &["xox"],
            1,
            has_digit,
        ),
        p(
            "stripe",
            r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})",
            &["_live_", "_test_"],
            1,
            always,
        ),
        p(
            "google_api_key",
            r"\b(AIza[0-9A-Za-z_-]{35})",
            &["AIza"],
            1,
            always,
        ),
        p(
            "url_password",
            r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:([^\s@/]+)@",
            &["://"],
            1,
            always,
        ),
    ]
}

/// A redactor: cheap to build and to share; each pattern is compiled on its first use.
pub struct Redactor {
    /// The home directory, and the regex that replaces it where it stands as a path.
    home: Option<(String, LazyRegex)>,
    /// The user name, and the regex that replaces it where it stands as a word.
    user: Option<(String, LazyRegex)>,
    patterns: Vec<Pattern>,
    needles: NeedleIndex,
    secret_values: Vec<(String, String)>,
}

impl Redactor {
    pub fn new(config: &RedactionConfig) -> Self {
        let home = config
            .home_dir
            .as_deref()
            .map(|h| h.trim_end_matches('/'))
            .filter(|h| h.len() > 1)
            .map(|h| {
                let regex = format!(r"{}(/|[^A-Za-z0-9_.\-]|$)", regex::escape(h));
                (h.to_string(), LazyRegex::new(regex))
            });
        let user = config
            .user_name
            .as_deref()
            .filter(|u| u.len() >= 3 && !GENERIC_USER_NAMES.contains(u))
            .map(|u| {
                let regex = format!(r"\b{}\b", regex::escape(u));
                (u.to_string(), LazyRegex::new(regex))
            });
        let mut patterns = builtin_patterns();
        for secret in &config.secrets {
            if secret.name.is_empty() {
                continue;
            }
            let assignment = format!(
                r#"(?:\b|\$)(?:{})(?:["']?\s*[:=]\s*["']?)([^\s"']+)"#,
                regex::escape(&secret.name)
            );
            patterns.push(Pattern {
                kind: leak_kind(&secret.name),
                regex: LazyRegex::new(assignment),
                needles: vec![secret.name.clone()],
                ignore_case: false,
                secret_group: 1,
                accept: always,
            });
        }
        let mut secret_values: Vec<(String, String)> = config
            .secrets
            .iter()
            .filter(|s| s.value.len() >= MIN_SECRET_VALUE_LEN)
            .map(|s| (s.value.clone(), format!("[REDACTED:{}]", s.name)))
            .collect();
        // Longest first, so a value containing another is replaced whole.
        secret_values.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        Redactor {
            home,
            user,
            needles: NeedleIndex::new(&patterns),
            patterns,
            secret_values,
        }
    }

    /// A redactor configured from this process's environment (see
    /// [`RedactionConfig::from_environment`]).
    pub fn from_environment(secret_names: &[String]) -> Self {
        Redactor::new(&RedactionConfig::from_environment(secret_names))
    }

    /// The text with secrets, the home directory and the user name replaced.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (value, replacement) in &self.secret_values {
            if out.contains(value.as_str()) {
                out = Cow::Owned(out.replace(value.as_str(), replacement));
            }
        }
        // The patterns that match the text as it stands now, applied in order (as one
        // `RegexSet` pass would pick them): a pattern is tried only if a needle is present.
        if let Some(candidates) = self.needles.candidates(&out) {
            let hits: Vec<&Pattern> = self
                .patterns
                .iter()
                .zip(candidates)
                .filter(|(p, candidate)| *candidate && p.regex.get().is_match(&out))
                .map(|(p, _)| p)
                .collect();
            for pattern in hits {
                if let Cow::Owned(s) = replace_secret(pattern, &out) {
                    out = Cow::Owned(s);
                }
            }
        }
        if let Some((home, regex)) = &self.home
            && out.contains(home.as_str())
            && regex.get().is_match(&out)
        {
            out = Cow::Owned(regex.get().replace_all(&out, "~$1").into_owned());
        }
        if let Some((user, regex)) = &self.user
            && out.contains(user.as_str())
            && regex.get().is_match(&out)
        {
            out = Cow::Owned(regex.get().replace_all(&out, "[USER]").into_owned());
        }
        out
    }

    /// Redacts every string inside a JSON value, in place.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                if let Cow::Owned(redacted) = self.redact(s) {
                    *s = redacted;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }
}

/// Replaces the secret group of each accepted match; `Borrowed` when nothing was replaced.
fn replace_secret<'a>(pattern: &Pattern, text: &'a str) -> Cow<'a, str> {
    let mut changed = false;
    let replaced = pattern
        .regex
        .get()
        .replace_all(text, |caps: &Captures<'_>| {
            let whole = caps.get(0).expect("group 0 always matches");
            let Some(secret) = caps.get(pattern.secret_group) else {
                return whole.as_str().to_string();
            };
            if !(pattern.accept)(secret.as_str()) {
                return whole.as_str().to_string();
            }
            changed = true;
            let start = secret.start() - whole.start();
            let end = secret.end() - whole.start();
            format!(
                "{}[REDACTED:{}]{}",
                &whole.as_str()[..start],
                pattern.kind,
                &whole.as_str()[end..]
            )
        });
    if changed {
        replaced
    } else {
        Cow::Borrowed(text)
    }
}

/// Pattern kinds are `&'static str`; configured names live as long as the redactor, which lives
/// as long as its log, so the few bytes per configured name are leaked once rather than
/// threading a lifetime through every pattern.
fn leak_kind(name: &str) -> &'static str {
    Box::leak(name.to_string().into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new(&RedactionConfig {
            home_dir: Some("/home/alice".into()),
            user_name: Some("alice".into()),
            secrets: vec![
                NamedSecret {
                    name: "MY_SERVICE_TOKEN".into(),
                    value: "q9w8e7r6t5y4u3i2".into(),
                },
                NamedSecret {
                    name: "SHORT_PIN".into(),
                    value: "4711".into(),
                },
            ],
        })
    }

    /// Real-format samples with fake values, and the kind each must be reported as.
    const SECRETS: &[(&str, &str)] = &[
        (
            "OPENAI_API_KEY=sk-abc123DEF456ghi789JKL012mno345PQR678stu",
            "openai",
        ),
        (
            "key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_AbCdEfGh-IjKl",
            "openai",
        ),
        ("sk-svcacct-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0", "openai"),
        (
            "x-api-key: sk-ant-api03-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv-xyzXYZ_123AA",
            "anthropic",
        ),
        (
            "sk-ant-admin01-abcdefghijklmnopqrstuvwxyz0123456789",
            "anthropic",
        ),
        (
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "aws_access_key_id",
        ),
        (
            "ASIAY34FZKBOKMUTVV7A is the session key id",
            "aws_access_key_id",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_key",
        ),
        (
            "export AWS_SECRET_ACCESS_KEY=\"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\"",
            "aws_secret_key",
        ),
        (
            "git clone https://ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8@github.com/o/r",
            "github",
        ),
        ("token gho_16C7e42F292c6912E7710c838347Ae178B4a", "github"),
        (
            "GH_TOKEN=ghs_0123456789abcdefghijABCDEFGHIJklmnopqr",
            "github",
        ),
        ("ghu_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210", "github"),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX",
            "github",
        ),
        ("PRIVATE-TOKEN: glpat-xY9zA8bC7dE6fG5hI4jK", "gitlab"),
        (
            "SLACK_BOT_TOKEN=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "slack",
        ),
        (
            "xoxp-2222222222-3333333333-444444444444-abcdef0123456789",
            "slack",
        ),
        ("stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe"),
        ("rk_live_51H8b2cKz9yXwVuTsRqPoNmLk", "stripe"),
        ("sk_test_26PHem9AhJZvU623DfE1x4sd", "stripe"),
        (
            "https://maps.googleapis.com/api?key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
            "google_api_key",
        ),
        (
            "cookie eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "jwt",
        ),
        (
            "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA==' https://x",
            "authorization",
        ),
        (
            "Proxy-Authorization: Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnagMDAuBgkq",
            "authorization",
        ),
        (
            "requests.get(url, headers={\"authorization\": \"token abc123def456ghi789\"})",
            "authorization",
        ),
        (
            "the client sent bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "bearer",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7Zq\n-----END RSA PRIVATE KEY-----",
            "private_key",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "private_key",
        ),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAAS (cut)",
            "private_key",
        ),
        (
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----",
            "private_key",
        ),
        (
            "psql postgres://admin:hunter2pass@db.internal:5432/app",
            "url_password",
        ),
        ("redis://:s3cr3tpw@cache:6379", "url_password"),
        (
            "pip install --index-url https://deploy:AbC123xyz@pypi.example.com/simple pkg",
            "url_password",
        ),
        (
            "MY_SERVICE_TOKEN=q9w8e7r6t5y4u3i2 ./deploy",
            "MY_SERVICE_TOKEN",
        ),
        ("echo q9w8e7r6t5y4u3i2 | login", "MY_SERVICE_TOKEN"),
        ("echo $SHORT_PIN; SHORT_PIN=4711 ./open", "SHORT_PIN"),
    ];

    /// Look-alikes that must come through unchanged.
    const ORDINARY: &[&str] = &[
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "request id 123e4567-e89b-12d3-a456-426614174000",
        "aGVsbG8gd29ybGQsIHRoaXMgaXMgYW4gb3JkaW5hcnkgc2VudGVuY2U=",
        "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw==",
        "the skeleton of the task-list is in risk-assessment.md",
        "run sk-learn tests and the disk-usage-report-generator",
        "cargo test -p cadre-audit --all-targets -- --nocapture",
        "git log --oneline | head -5 && ls ~/.cadre/audit",
        "https://github.com/cadre-dev/cadre/blob/main/README.md",
        "http://localhost:8080/api/v1/items?page=2",
        "ssh git@github.com: Permission denied (publickey)",
        "the bearer of bad news",
        "Authorization is checked by the policy crate",
        "a JWT has three parts: header.payload.signature",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
        "AKIA is the prefix of AWS access key ids",
        "ghp_ tokens are GitHub personal access tokens",
        "xoxb is a Slack bot token prefix",
        "Alice's notebook, alicerocks, malice",
        "/home/alicex/project stays",
        "[REDACTED:openai] is already redacted",
        "pk_live_51H8b2cKz9yXwVuTsRqPoNmLk publishable keys are public",
        "SHORT_PINS are counted separately",
    ];

    #[test]
    fn every_match_of_a_builtin_pattern_contains_one_of_its_needles() {
        let texts: Vec<String> = SECRETS
            .iter()
            .map(|(sample, _)| sample.to_string())
            .chain(SECRETS.iter().map(|(sample, _)| sample.to_uppercase()))
            .collect();
        let patterns = builtin_patterns();
        let index = NeedleIndex::new(&patterns);
        for (at, pattern) in patterns.iter().enumerate() {
            let mut matched = 0;
            for text in &texts {
                for found in pattern.regex.get().find_iter(text) {
                    matched += 1;
                    let candidates = index.candidates(found.as_str()).unwrap_or_default();
                    assert!(
                        candidates.get(at) == Some(&true),
                        "{} matches {:?} without any of {:?}",
                        pattern.kind,
                        found.as_str(),
                        pattern.needles
                    );
                }
            }
            assert!(matched > 0, "no sample exercises {}", pattern.kind);
        }
    }

    #[test]
    fn secret_corpus_is_redacted_with_the_right_kind() {
        let redactor = redactor();
        assert!(SECRETS.len() >= 30, "corpus has {} samples", SECRETS.len());
        for (sample, kind) in SECRETS {
            let out = redactor.redact(sample);
            let marker = format!("[REDACTED:{kind}]");
            assert!(
                out.contains(&marker),
                "{sample:?} -> {out:?}, expected {marker}"
            );
        }
    }

    #[test]
    fn secret_values_do_not_survive_anywhere_in_the_output() {
        let redactor = redactor();
        let leaks = [
            "sk-abc123DEF456ghi789JKL012mno345PQR678stu",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
            "hunter2pass",
            "s3cr3tpw",
            "dXNlcjpwYXNzd29yZA==",
            "MIIEowIBAAKCAQEA7Zq",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAAS",
            "q9w8e7r6t5y4u3i2",
            "4711",
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ];
        let all: String = SECRETS
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>()
            .join("\n");
        let out = redactor.redact(&all);
        for leak in leaks {
            assert!(!out.contains(leak), "{leak} survived in {out}");
        }
    }

    #[test]
    fn ordinary_text_survives_unchanged() {
        let redactor = redactor();
        assert!(ORDINARY.len() >= 20);
        for sample in ORDINARY {
            assert_eq!(
                redactor.redact(sample),
                *sample,
                "ordinary text was changed"
            );
        }
    }

    #[test]
    fn home_and_user_are_replaced() {
        let redactor = redactor();
        assert_eq!(redactor.redact("/home/alice/src/app"), "~/src/app");
        assert_eq!(redactor.redact("cd /home/alice && ls"), "cd ~ && ls");
        assert_eq!(redactor.redact("/home/alice"), "~");
        assert_eq!(
            redactor.redact("owner alice, group staff"),
            "owner [USER], group staff"
        );
        assert_eq!(redactor.redact("/srv/alice/data"), "/srv/[USER]/data");
    }

    #[test]
    fn every_string_of_a_json_value_is_redacted() {
        let redactor = redactor();
        let mut value = serde_json::json!({
            "argv": ["curl", "-H", "Authorization: Bearer abc"],
            "cwd": "/home/alice/w",
            "nested": {"url": "https://u:p4ssw0rd@h"},
            "count": 3
        });
        redactor.redact_json(&mut value);
        assert_eq!(value["argv"][2], "Authorization: [REDACTED:authorization]");
        assert_eq!(value["cwd"], "~/w");
        assert_eq!(
            value["nested"]["url"],
            "https://u:[REDACTED:url_password]@h"
        );
        assert_eq!(value["count"], 3);
    }

    #[test]
    fn generic_user_names_are_not_replaced_as_words() {
        let redactor = Redactor::new(&RedactionConfig {
            home_dir: Some("/root".into()),
            user_name: Some("root".into()),
            secrets: vec![],
        });
        assert_eq!(
            redactor.redact("/root/.cadre and the root cause"),
            "~/.cadre and the root cause"
        );
    }
}
