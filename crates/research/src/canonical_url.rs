//! URL canonicalisation, so one page reached by several spellings is fetched and counted once,
//! and the "site" a URL belongs to (its registrable domain) for grouping sources into families.

use url::Url;

/// Query parameters that track a click rather than name a resource.
fn is_tracking_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_")
        || matches!(
            name.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "mc_cid"
                | "mc_eid"
                | "yclid"
                | "igshid"
                | "ref_src"
                | "_ga"
        )
}

/// The canonical spelling of a URL: lower-case scheme and host, no `www.`, no fragment, no
/// default port, no tracking parameters, sorted query, no trailing slash (except the root).
/// `http` and `https` are kept apart only in the scheme they were given; callers compare
/// [`canonical_key`] to treat them as one page.
pub fn canonicalize(url: &Url) -> Url {
    let mut out = url.clone();
    out.set_fragment(None);
    if let Some(host) = out.host_str().map(str::to_ascii_lowercase)
        && let Some(stripped) = host.strip_prefix("www.")
    {
        let _ = out.set_host(Some(stripped));
    }
    let mut pairs: Vec<(String, String)> = out
        .query_pairs()
        .filter(|(k, _)| !is_tracking_parameter(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        out.set_query(None);
    } else {
        out.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let path = out.path().to_string();
    if path.len() > 1 && path.ends_with('/') {
        out.set_path(path.trim_end_matches('/'));
    }
    out
}

/// A string that is equal for two URLs naming the same page (scheme folded too).
pub fn canonical_key(url: &Url) -> String {
    let canonical = canonicalize(url);
    let text = canonical.as_str();
    match canonical.scheme() {
        "http" | "https" => text
            .split_once("://")
            .map_or(text.to_string(), |(_, rest)| rest.to_string()),
        _ => text.to_string(),
    }
}

/// Second-level labels under which registrations happen one level down (`example.co.uk`).
const SHARED_SECOND_LEVELS: &[&str] = &[
    "ac", "co", "com", "edu", "gov", "net", "org", "ne", "or", "go",
];

/// The site a URL belongs to: its registrable domain (`blog.example.com` → `example.com`,
/// `news.bbc.co.uk` → `bbc.co.uk`). An IP address has no registrable domain, so the address and
/// port together stand for the site; a `file:` URL's site is `local`.
pub fn site_key(url: &Url) -> String {
    if url.scheme() == "file" {
        return "local".to_string();
    }
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_start_matches("www.").to_ascii_lowercase();
            let labels: Vec<&str> = domain.split('.').collect();
            let n = labels.len();
            if n <= 2 {
                return domain;
            }
            let keep = if labels[n - 1].len() == 2 && SHARED_SECOND_LEVELS.contains(&labels[n - 2])
            {
                3
            } else {
                2
            };
            labels[n.saturating_sub(keep)..].join(".")
        }
        Some(host) => match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        },
        None => url.as_str().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonicalize(&Url::parse(s).unwrap()).to_string()
    }

    #[test]
    fn canonicalisation_removes_noise() {
        assert_eq!(
            canon("HTTPS://WWW.Example.com:443/a/b/?utm_source=x&z=1&a=2&fbclid=9#frag"),
            "https://example.com/a/b?a=2&z=1"
        );
        assert_eq!(canon("http://example.com/"), "http://example.com/");
        assert_eq!(
            canon("http://example.com/p?gclid=1"),
            "http://example.com/p"
        );
    }

    #[test]
    fn canonical_key_folds_scheme() {
        let a = canonical_key(&Url::parse("http://www.example.com/x/").unwrap());
        let b = canonical_key(&Url::parse("https://example.com/x#top").unwrap());
        assert_eq!(a, b);
    }

    #[test]
    fn site_keys() {
        let site = |s: &str| site_key(&Url::parse(s).unwrap());
        assert_eq!(site("https://blog.example.com/x"), "example.com");
        assert_eq!(site("https://news.bbc.co.uk/x"), "bbc.co.uk");
        assert_eq!(site("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(site("file:///tmp/a.md"), "local");
    }
}
