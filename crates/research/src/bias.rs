//! One-sidedness: how concentrated the cited evidence is, by site and by family
//! (Herfindahl–Hirschman index: the sum of squared shares, 1.0 when one voice says everything).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasReport {
    /// Distinct families among cited sources.
    pub families: usize,
    /// Distinct sites (registrable domains) among cited sources.
    pub domains: usize,
    /// HHI of citations over sites, 0..=1.
    pub domain_hhi: f64,
    /// HHI of citations over families, 0..=1.
    pub family_hhi: f64,
    /// The family holding the largest share of citations, and that share.
    pub dominant_family: Option<String>,
    pub dominant_share: f64,
    pub warnings: Vec<String>,
}

/// An HHI at or above this reads as "highly concentrated" (the antitrust threshold of 2500/10000).
pub const CONCENTRATED_HHI: f64 = 0.25;

fn hhi(counts: &BTreeMap<String, usize>) -> f64 {
    let total: usize = counts.values().sum();
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&c| (c as f64 / total as f64).powi(2))
        .sum()
}

/// Measures concentration over the (site, family) of every citation.
pub fn assess(citations: &[(String, String)]) -> BiasReport {
    let mut sites: BTreeMap<String, usize> = BTreeMap::new();
    let mut families: BTreeMap<String, usize> = BTreeMap::new();
    for (site, family) in citations {
        *sites.entry(site.clone()).or_default() += 1;
        *families.entry(family.clone()).or_default() += 1;
    }
    let total = citations.len();
    let dominant = families
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
    let dominant_share = dominant.map_or(0.0, |(_, &c)| c as f64 / total as f64);
    let mut warnings = Vec::new();
    let (domain_hhi, family_hhi) = (hhi(&sites), hhi(&families));
    if families.len() == 1 && total > 0 {
        warnings.push(format!(
            "all evidence comes from one source family ({}); look for independent sources before relying on it",
            dominant.map_or("", |d| d.0.as_str())
        ));
    } else if family_hhi >= CONCENTRATED_HHI && total > 0 {
        warnings.push(format!(
            "evidence is concentrated: family {} holds {:.0}% of citations (HHI {family_hhi:.2})",
            dominant.map_or("", |d| d.0.as_str()),
            dominant_share * 100.0
        ));
    }
    if sites.len() == 1 && families.len() > 1 {
        warnings.push("all cited sources are on one site".into());
    }
    BiasReport {
        families: families.len(),
        domains: sites.len(),
        domain_hhi,
        family_hhi,
        dominant_family: dominant.map(|d| d.0.clone()),
        dominant_share,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn one_family_warns() {
        let report = assess(&pairs(&[("a.com", "F1"), ("b.com", "F1")]));
        assert_eq!(report.family_hhi, 1.0);
        assert_eq!(report.domain_hhi, 0.5);
        assert!(report.warnings[0].contains("one source family"));
    }

    #[test]
    fn spread_evidence_does_not_warn() {
        let items: Vec<(String, String)> = (0..5)
            .map(|i| (format!("s{i}.com"), format!("F{i}")))
            .collect();
        let report = assess(&items);
        assert!((report.family_hhi - 0.2).abs() < 1e-9);
        assert!(report.warnings.is_empty());
    }
}
