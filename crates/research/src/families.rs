//! Source families: sources on one site, or carrying the same text (copies, syndication), are
//! one voice. Union-find over site keys and SimHash near-duplicate pairs.

use crate::simhash::near_duplicate_pairs;

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            // The earlier member stays the root so family numbering follows input order.
            self.0[a.max(b)] = a.min(b);
        }
    }
}

/// Assigns each source a family number (0, 1, ... in order of first appearance).
/// `sites[i]` is source i's site key and `fingerprints[i]` its SimHash.
pub fn assign_families(sites: &[String], fingerprints: &[u64]) -> Vec<usize> {
    let n = sites.len();
    let mut sets = UnionFind((0..n).collect());
    let mut first_of_site = std::collections::HashMap::new();
    for (i, site) in sites.iter().enumerate() {
        if let Some(&first) = first_of_site.get(site) {
            sets.union(first, i);
        } else {
            first_of_site.insert(site.clone(), i);
        }
    }
    for (a, b) in near_duplicate_pairs(fingerprints) {
        sets.union(a, b);
    }
    let mut numbers = std::collections::HashMap::new();
    (0..n)
        .map(|i| {
            let root = sets.find(i);
            let next = numbers.len();
            *numbers.entry(root).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_and_copies_join() {
        let sites: Vec<String> = ["a.com", "b.com", "a.com", "c.com", "d.com"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let fingerprints = [1u64, 0xFFFF_0000, 2, 0xFFFF_0001, 0x0F0F_0F0F_0F0F_0F0F];
        assert_eq!(assign_families(&sites, &fingerprints), [0, 1, 0, 1, 2]);
    }
}
