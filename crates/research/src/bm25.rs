//! Okapi BM25 over passages: the relevance score used both by the local index and for ranking
//! fetched passages against the question and its sub-queries.

use std::collections::HashMap;

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// An in-memory BM25 index over documents given as term lists.
#[derive(Debug, Default, Clone)]
pub struct Bm25Index {
    doc_terms: Vec<HashMap<String, u32>>,
    doc_lengths: Vec<u32>,
    document_frequency: HashMap<String, u32>,
    average_length: f64,
}

impl Bm25Index {
    pub fn new<I, D>(documents: I) -> Self
    where
        I: IntoIterator<Item = D>,
        D: AsRef<[String]>,
    {
        let mut index = Bm25Index::default();
        let mut total = 0u64;
        for doc in documents {
            let doc = doc.as_ref();
            let mut counts: HashMap<String, u32> = HashMap::new();
            for term in doc {
                *counts.entry(term.clone()).or_default() += 1;
            }
            for term in counts.keys() {
                *index.document_frequency.entry(term.clone()).or_default() += 1;
            }
            total += doc.len() as u64;
            index.doc_lengths.push(doc.len() as u32);
            index.doc_terms.push(counts);
        }
        index.average_length = if index.doc_lengths.is_empty() {
            0.0
        } else {
            total as f64 / index.doc_lengths.len() as f64
        };
        index
    }

    pub fn len(&self) -> usize {
        self.doc_terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.doc_terms.is_empty()
    }

    /// The inverse document frequency of `term` in this index.
    pub fn idf(&self, term: &str) -> f64 {
        let n = self.doc_terms.len() as f64;
        let df = f64::from(self.document_frequency.get(term).copied().unwrap_or(0));
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// The score of document `doc` for weighted query terms.
    pub fn score(&self, doc: usize, query: &[(String, f64)]) -> f64 {
        let counts = &self.doc_terms[doc];
        let length = f64::from(self.doc_lengths[doc]);
        let norm = K1 * (1.0 - B + B * length / self.average_length.max(1.0));
        query
            .iter()
            .map(|(term, weight)| {
                let tf = f64::from(counts.get(term).copied().unwrap_or(0));
                if tf == 0.0 {
                    0.0
                } else {
                    weight * self.idf(term) * tf * (K1 + 1.0) / (tf + norm)
                }
            })
            .sum()
    }

    /// Whether document `doc` contains `term` at all.
    pub fn contains(&self, doc: usize, term: &str) -> bool {
        self.doc_terms[doc].contains_key(term)
    }

    /// Scores of every document, in document order.
    pub fn scores(&self, query: &[(String, f64)]) -> Vec<f64> {
        (0..self.len()).map(|doc| self.score(doc, query)).collect()
    }
}

/// Turns query text into weighted terms (repeated terms count once).
pub fn weighted_terms(text: &str, weight: f64) -> Vec<(String, f64)> {
    let mut seen = std::collections::HashSet::new();
    crate::text::terms(text)
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .map(|t| (t, weight))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::terms;

    #[test]
    fn the_matching_document_ranks_first() {
        let docs = [
            terms("Ownership rules in Rust: each value has one owner."),
            terms("Cooking pasta needs salted water."),
            terms("The borrow checker enforces ownership and borrowing rules."),
        ];
        let index = Bm25Index::new(docs.iter());
        let scores = index.scores(&weighted_terms("borrow checker", 1.0));
        assert!(scores[2] > scores[0] && scores[0] == 0.0 && scores[1] == 0.0);
    }
}
