//! Source quality from signals that the report states: https, length, a date and its age, an
//! author, and the user's allow/deny lists and reputation table.

use crate::canonical_url::site_key;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use url::Url;

/// The user's view of domains. Entries match a host or any of its subdomains.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityConfig {
    /// Domains to prefer (a bonus).
    #[serde(default)]
    pub allow_domains: Vec<String>,
    /// Domains never fetched nor cited.
    #[serde(default)]
    pub deny_domains: Vec<String>,
    /// Domain → reputation in 0..=1, blended into the score.
    #[serde(default)]
    pub reputation: BTreeMap<String, f64>,
}

/// A source's quality and the signals it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// 0..=1.
    pub score: f64,
    pub signals: Vec<String>,
}

/// What quality is judged from.
pub struct QualityInput<'a> {
    pub url: &'a Url,
    pub words: usize,
    pub published: Option<&'a str>,
    pub author: Option<&'a str>,
    /// Unix seconds, for the age of the date.
    pub now: i64,
}

fn domain_matches(url: &Url, entry: &str) -> bool {
    let entry = entry.trim().trim_start_matches("www.").to_ascii_lowercase();
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let with_port = url.port().map(|p| format!("{host}:{p}"));
    host == entry
        || host.ends_with(&format!(".{entry}"))
        || with_port.as_deref() == Some(entry.as_str())
        || site_key(url) == entry
}

/// Parses the common date spellings pages use (RFC 3339, plain dates).
pub fn parse_date(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = text.trim();
    if let Ok(date) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&chrono::Utc));
    }
    let day = text.get(..10)?;
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

impl QualityConfig {
    pub fn is_denied(&self, url: &Url) -> bool {
        self.deny_domains.iter().any(|d| domain_matches(url, d))
    }

    pub fn assess(&self, input: &QualityInput<'_>) -> Quality {
        let mut score: f64 = 0.4;
        let mut signals = Vec::new();
        let mut add = |delta: f64, signal: String| {
            score += delta;
            signals.push(signal);
        };
        match input.url.scheme() {
            "https" => add(0.1, "https (+0.10)".into()),
            "file" => add(0.1, "local file (+0.10)".into()),
            _ => add(0.0, "plain http (+0)".into()),
        }
        match input.words {
            w if w >= 300 => add(0.15, format!("{w} words (+0.15)")),
            w if w >= 100 => add(0.08, format!("{w} words (+0.08)")),
            w => add(-0.1, format!("only {w} words (-0.10)")),
        }
        match input.published.and_then(parse_date) {
            Some(date) => {
                let age_days = (input.now - date.timestamp()) / 86_400;
                if age_days <= 2 * 365 {
                    add(
                        0.15,
                        format!("dated {} (recent, +0.15)", date.format("%Y-%m-%d")),
                    );
                } else {
                    add(0.05, format!("dated {} (+0.05)", date.format("%Y-%m-%d")));
                }
            }
            None => add(0.0, "no date (+0)".into()),
        }
        match input.author {
            Some(author) => add(0.1, format!("author {author} (+0.10)")),
            None => add(0.0, "no author (+0)".into()),
        }
        if self
            .allow_domains
            .iter()
            .any(|d| domain_matches(input.url, d))
        {
            add(0.2, "allow-listed domain (+0.20)".into());
        }
        if let Some((domain, reputation)) = self
            .reputation
            .iter()
            .find(|(d, _)| domain_matches(input.url, d))
        {
            let reputation = reputation.clamp(0.0, 1.0);
            let before = score;
            score = 0.5 * score + 0.5 * reputation;
            signals.push(format!(
                "reputation of {domain} {reputation:.2} ({:+.2})",
                score - before
            ));
        }
        Quality {
            score: score.clamp(0.0, 1.0),
            signals,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_add_up_and_are_stated() {
        let config = QualityConfig {
            allow_domains: vec!["rust-lang.org".into()],
            deny_domains: vec!["spam.example".into()],
            reputation: BTreeMap::from([("lowrep.example".to_string(), 0.0)]),
        };
        let now = parse_date("2025-01-01").unwrap().timestamp();
        let good_url = Url::parse("https://doc.rust-lang.org/book").unwrap();
        let good = config.assess(&QualityInput {
            url: &good_url,
            words: 500,
            published: Some("2024-06-01"),
            author: Some("Ferris"),
            now,
        });
        let bare_url = Url::parse("http://lowrep.example/x").unwrap();
        let bare = config.assess(&QualityInput {
            url: &bare_url,
            words: 50,
            published: None,
            author: None,
            now,
        });
        assert!(good.score > 0.9, "{good:?}");
        assert!(bare.score < 0.2, "{bare:?}");
        assert!(good.signals.iter().any(|s| s.contains("allow-listed")));
        assert!(bare.signals.iter().any(|s| s.contains("reputation")));
        assert!(config.is_denied(&Url::parse("https://www.spam.example/a").unwrap()));
        assert!(!config.is_denied(&good_url));
    }
}
