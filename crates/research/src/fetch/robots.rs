//! `robots.txt`: parsing and matching (RFC 9309). The group for cadre's product token wins over
//! the `*` group; within a group the longest matching rule decides, `Allow` winning ties.

/// The product token cadre matches `User-agent` lines against.
pub const PRODUCT_TOKEN: &str = "cadre";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    pattern: String,
}

/// The rules that apply to cadre on one host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Robots {
    rules: Vec<Rule>,
    disallow_all: bool,
}

impl Robots {
    /// No `robots.txt` (or a 4xx answer): everything is allowed.
    pub fn allow_all() -> Self {
        Robots::default()
    }

    /// The host could not say (5xx, network failure): nothing is allowed, as RFC 9309 asks.
    pub fn disallow_all() -> Self {
        Robots {
            rules: Vec::new(),
            disallow_all: true,
        }
    }

    pub fn parse(text: &str) -> Self {
        // Groups: (agents, rules). Consecutive user-agent lines share one group.
        let mut groups: Vec<(Vec<String>, Vec<Rule>)> = Vec::new();
        let mut last_was_agent = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if !last_was_agent || groups.is_empty() {
                        groups.push((Vec::new(), Vec::new()));
                    }
                    if let Some(group) = groups.last_mut() {
                        group.0.push(value.to_ascii_lowercase());
                    }
                    last_was_agent = true;
                }
                "allow" | "disallow" => {
                    last_was_agent = false;
                    if let Some(group) = groups.last_mut()
                        && !value.is_empty()
                    {
                        group.1.push(Rule {
                            allow: key == "allow",
                            pattern: value.to_string(),
                        });
                    }
                }
                _ => last_was_agent = false,
            }
        }
        let ours: Vec<Rule> = groups
            .iter()
            .filter(|(agents, _)| {
                agents
                    .iter()
                    .any(|a| a != "*" && PRODUCT_TOKEN.starts_with(a.as_str()))
            })
            .flat_map(|(_, rules)| rules.clone())
            .collect();
        let any_ours = groups.iter().any(|(agents, _)| {
            agents
                .iter()
                .any(|a| a != "*" && PRODUCT_TOKEN.starts_with(a.as_str()))
        });
        let rules = if any_ours {
            ours
        } else {
            groups
                .iter()
                .filter(|(agents, _)| agents.iter().any(|a| a == "*"))
                .flat_map(|(_, rules)| rules.clone())
                .collect()
        };
        Robots {
            rules,
            disallow_all: false,
        }
    }

    /// Whether cadre may fetch `path` (path plus query, as sent in the request line).
    pub fn allows(&self, path: &str) -> bool {
        if self.disallow_all {
            return false;
        }
        if path == "/robots.txt" {
            return true;
        }
        let mut best: Option<(usize, bool)> = None;
        for rule in &self.rules {
            if pattern_matches(&rule.pattern, path) {
                let len = rule.pattern.len();
                best = match best {
                    Some((best_len, best_allow))
                        if best_len > len || (best_len == len && best_allow) =>
                    {
                        Some((best_len, best_allow))
                    }
                    _ => Some((len, rule.allow)),
                };
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Matches a robots pattern (`*` any run, trailing `$` end of path) against a path prefix.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let pieces: Vec<&str> = pattern.split('*').collect();
    let mut position = 0;
    for (i, piece) in pieces.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(piece) {
                return false;
            }
            position = piece.len();
        } else if i == pieces.len() - 1 && anchored {
            return path.len() >= position + piece.len() && path.ends_with(piece);
        } else {
            match path[position..].find(piece) {
                Some(at) => position += at + piece.len(),
                None => return false,
            }
        }
    }
    !anchored || position == path.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_group_applies_without_a_cadre_group() {
        let robots = Robots::parse("User-agent: *\nDisallow: /private/\nAllow: /private/ok\n");
        assert!(robots.allows("/public"));
        assert!(!robots.allows("/private/x"));
        assert!(robots.allows("/private/ok.html"));
    }

    #[test]
    fn cadre_group_replaces_star_group() {
        let robots = Robots::parse(
            "User-agent: *\nDisallow: /\n\nUser-agent: googlebot\nUser-agent: Cadre\nDisallow: /drafts/\n",
        );
        assert!(robots.allows("/articles/a"));
        assert!(!robots.allows("/drafts/a"));
    }

    #[test]
    fn wildcards_and_anchors() {
        let robots = Robots::parse("User-agent: *\nDisallow: /*.pdf$\nDisallow: /tmp*/x\n");
        assert!(!robots.allows("/docs/a.pdf"));
        assert!(robots.allows("/docs/a.pdf?x=1"));
        assert!(!robots.allows("/tmp123/x/y"));
        assert!(robots.allows("/tmp/y"));
    }

    #[test]
    fn failure_modes() {
        assert!(Robots::allow_all().allows("/anything"));
        assert!(!Robots::disallow_all().allows("/anything"));
        assert!(Robots::parse("garbage\n\n").allows("/x"));
    }
}
