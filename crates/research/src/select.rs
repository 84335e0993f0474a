//! Passage selection by maximal marginal relevance: each pick trades relevance against
//! similarity to what is already chosen, with an extra charge for repeating a family.

use std::collections::HashSet;

/// A passage offered for selection.
pub struct Candidate {
    pub score: f64,
    pub family: usize,
    pub terms: HashSet<String>,
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let shared = a.intersection(b).count() as f64;
    shared / ((a.len() + b.len()) as f64 - shared).max(1.0)
}

/// Picks up to `count` candidates (indices, in pick order). Candidates with no relevance are
/// never picked.
pub fn mmr(candidates: &[Candidate], count: usize, lambda: f64, family_penalty: f64) -> Vec<usize> {
    let max_score = candidates.iter().map(|c| c.score).fold(0.0, f64::max);
    if max_score <= 0.0 {
        return Vec::new();
    }
    let mut chosen: Vec<usize> = Vec::new();
    let mut open: Vec<usize> = (0..candidates.len())
        .filter(|&i| candidates[i].score > 0.0)
        .collect();
    while chosen.len() < count && !open.is_empty() {
        let value = |i: usize| {
            let c = &candidates[i];
            let similarity = chosen
                .iter()
                .map(|&j| {
                    let s = jaccard(&c.terms, &candidates[j].terms);
                    if candidates[j].family == c.family {
                        (s + family_penalty).min(1.0)
                    } else {
                        s
                    }
                })
                .fold(0.0, f64::max);
            lambda * c.score / max_score - (1.0 - lambda) * similarity
        };
        let (position, _) = open
            .iter()
            .enumerate()
            .map(|(p, &i)| (p, value(i)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .unwrap_or((0, 0.0));
        chosen.push(open.remove(position));
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(score: f64, family: usize, text: &str) -> Candidate {
        Candidate {
            score,
            family,
            terms: crate::text::terms(text).into_iter().collect(),
        }
    }

    #[test]
    fn duplicates_give_way_to_diverse_passages() {
        let candidates = [
            candidate(1.0, 0, "ownership moves values between owners"),
            candidate(0.99, 1, "ownership moves values between owners"),
            candidate(0.6, 2, "borrowing lends references without moving"),
            candidate(0.0, 3, "irrelevant"),
        ];
        assert_eq!(mmr(&candidates, 3, 0.7, 0.2), [0, 2, 1]);
        assert_eq!(mmr(&candidates, 10, 1.0, 0.0), [0, 1, 2]);
    }
}
