//! The network allowlist: one definition of which hosts cadre's traffic may reach.

use std::net::IpAddr;

/// Which destinations cadre's network traffic may reach: the sandbox's proxy for commands, and
/// every fetch cadre makes itself (research pages), from `[network] allow`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainAllowlist {
    patterns: Vec<String>,
}

impl DomainAllowlist {
    /// `patterns` are exact host names (or IP literals) and `*.example.com` wildcards (which
    /// match sub-domains, not `example.com` itself). Empty allows every public destination.
    pub fn new(patterns: &[String]) -> Self {
        DomainAllowlist {
            patterns: patterns.iter().map(|p| normalize_host(p)).collect(),
        }
    }

    /// Whether `host` is named by a pattern.
    pub fn names(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.patterns
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(suffix) => {
                    host.len() > suffix.len() + 1
                        && host.ends_with(suffix)
                        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
                }
                None => *pattern == host,
            })
    }

    /// Whether a connection to `host` may be attempted at all.
    pub fn allows(&self, host: &str) -> bool {
        self.patterns.is_empty() || self.names(host)
    }

    /// With an empty allowlist, loopback and private addresses stay closed unless named
    /// explicitly: "every domain" means the internet, not services on this machine or LAN.
    pub fn allows_address(&self, host: &str, ip: IpAddr) -> bool {
        if self.names(host) {
            return true;
        }
        !is_local(ip)
    }
}

fn normalize_host(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_local(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_subdomains_only() {
        let list = DomainAllowlist::new(&["*.example.com".into(), "Docs.RS".into()]);
        assert!(list.allows("api.example.com"));
        assert!(list.allows("a.b.example.com"));
        assert!(!list.allows("example.com"));
        assert!(!list.allows("badexample.com"));
        assert!(list.allows("docs.rs."));
        assert!(!list.allows("crates.io"));
        assert!(DomainAllowlist::new(&[]).allows("anything.org"));
    }

    #[test]
    fn empty_allowlist_keeps_local_addresses_closed() {
        let all = DomainAllowlist::new(&[]);
        assert!(!all.allows_address("localhost", "127.0.0.1".parse().unwrap()));
        assert!(!all.allows_address("x", "10.1.2.3".parse().unwrap()));
        assert!(!all.allows_address("x", "::1".parse().unwrap()));
        assert!(all.allows_address("x", "93.184.216.34".parse().unwrap()));
        let named = DomainAllowlist::new(&["localhost".into()]);
        assert!(named.allows_address("localhost", "127.0.0.1".parse().unwrap()));
    }
}
