//! Synthesis: the seam where a model may later write the findings. The default synthesizer is
//! extractive: each finding is a sentence of a selected passage, quoted verbatim. Whatever a
//! synthesizer returns, the engine keeps only citations whose quote it finds in the cited
//! source's extracted text.

use crate::error::ResearchError;
use crate::text::{sentences, terms};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// A source as the synthesizer sees it.
#[derive(Debug, Clone)]
pub struct SynthesisSource {
    pub id: String,
    pub title: String,
    pub url: String,
    pub family: String,
    /// The full extracted text: quotes must be slices of it.
    pub text: String,
}

/// A passage chosen for the report, best first.
#[derive(Debug, Clone)]
pub struct SynthesisPassage {
    pub source_id: String,
    pub passage_id: String,
    pub heading: Option<String>,
    pub text: String,
    pub score: f64,
}

#[derive(Debug, Clone)]
pub struct SynthesisRequest {
    pub question: String,
    pub sub_queries: Vec<String>,
    pub sources: Vec<SynthesisSource>,
    pub passages: Vec<SynthesisPassage>,
    pub max_findings: usize,
}

/// A citation: a source and a verbatim quote from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub source_id: String,
    pub quote: String,
}

/// What a verifier call judged of one sentence given only its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supported,
    Partial,
    Unsupported,
}

/// One verifier vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictVote {
    pub verdict: Verdict,
    pub reason: String,
}

/// One claim of the report, backed by citations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub text: String,
    pub citations: Vec<Citation>,
    /// The verifier's votes, when a model checked the sentence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<VerdictVote>,
    /// Set when the sentence is kept although no citation supports it (`--on-unsupported
    /// flag`): says why it is marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

impl Finding {
    pub fn new(text: impl Into<String>, citations: Vec<Citation>) -> Self {
        Finding {
            text: text.into(),
            citations,
            verdicts: Vec::new(),
            flag: None,
        }
    }
}

/// A heading and its sentences, as the model wrote them and verification kept them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub heading: String,
    pub sentences: Vec<Finding>,
}

/// A citation taken off a sentence, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedCitation {
    pub source_id: String,
    pub quote: String,
    pub reason: String,
}

/// A proposed sentence that did not reach the report (or was kept marked), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedSentence {
    pub section: String,
    pub text: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_citations: Vec<RemovedCitation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<VerdictVote>,
    /// True when `--on-unsupported flag` kept it in the report with a mark.
    #[serde(default)]
    pub flagged: bool,
}

/// The verification pass in numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub sentences_proposed: usize,
    pub sentences_kept: usize,
    pub sentences_flagged: usize,
    pub sentences_removed: usize,
    pub citations_proposed: usize,
    /// Citations whose quote was found in their source (then judged by the verifier).
    pub citations_checked: usize,
    /// Citations left on supported sentences.
    pub citations_kept: usize,
    pub citations_removed: usize,
    /// `citations_kept / citations_proposed` (1.0 when none were proposed).
    pub citation_precision: f64,
    pub verifier_calls: usize,
    pub votes_per_sentence: usize,
    /// `removal reason → count`, the reasons in short form.
    pub removed_because: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Synthesis {
    /// A short overall answer, if the synthesizer writes one.
    pub summary: Option<String>,
    pub findings: Vec<Finding>,
    /// The report's title, when a model wrote one.
    pub title: Option<String>,
    pub sections: Vec<Section>,
    pub open_questions: Vec<String>,
    pub verification: Option<Verification>,
    pub removed: Vec<RemovedSentence>,
}

/// Writes findings from selected passages.
#[async_trait::async_trait]
pub trait Synthesizer: Send + Sync {
    async fn synthesize(&self, request: &SynthesisRequest) -> Result<Synthesis, ResearchError>;
}

/// Picks the most query-relevant sentence of each passage; no model involved.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExtractiveSynthesizer;

/// Other sources a quote also appears in, for corroboration.
const MAX_CITATIONS: usize = 3;
const MIN_SENTENCE_WORDS: usize = 5;
const MAX_SENTENCE_WORDS: usize = 80;
/// Share of plain words below which a "sentence" is code or markup, not a claim.
const MIN_PLAIN_WORDS: f64 = 0.75;

#[async_trait::async_trait]
impl Synthesizer for ExtractiveSynthesizer {
    async fn synthesize(&self, request: &SynthesisRequest) -> Result<Synthesis, ResearchError> {
        let query_terms: HashSet<String> = terms(&request.question)
            .into_iter()
            .chain(request.sub_queries.iter().flat_map(|q| terms(q)))
            .collect();
        let question_terms: HashSet<String> = terms(&request.question).into_iter().collect();
        let mut findings: Vec<Finding> = Vec::new();
        let mut chosen_terms: Vec<HashSet<String>> = Vec::new();
        for passage in &request.passages {
            if findings.len() >= request.max_findings {
                break;
            }
            let heading_matches = passage
                .heading
                .as_deref()
                .is_some_and(|h| terms(h).iter().any(|t| question_terms.contains(t)));
            let first_after_heading = sentences(&passage.text)
                .into_iter()
                .find(|s| Some(*s) != passage.heading.as_deref());
            let best = sentences(&passage.text)
                .into_iter()
                .filter(|s| {
                    (MIN_SENTENCE_WORDS..=MAX_SENTENCE_WORDS)
                        .contains(&s.split_whitespace().count())
                })
                .filter(|s| Some(*s) != passage.heading.as_deref())
                .filter(|s| is_quotable(s) || leads_list(&passage.text, s).is_some())
                .filter(|s| !is_transitional(s))
                .map(|s| {
                    let sentence_terms: HashSet<String> = terms(s).into_iter().collect();
                    let hits = sentence_terms.intersection(&query_terms).count() as f64;
                    let question_hits = sentence_terms.intersection(&question_terms).count() as f64;
                    // Prose beats code lines: a sentence of plain words reads as a claim.
                    let total = s.split_whitespace().count().max(1) as f64;
                    let plain = s
                        .split_whitespace()
                        .filter(|w| {
                            w.trim_end_matches([',', '.', ':', ';', '?', '!'])
                                .trim_matches('`')
                                .chars()
                                .all(char::is_alphabetic)
                        })
                        .count() as f64;
                    let score = (hits + question_hits)
                        / (sentence_terms.len() as f64).sqrt().max(1.0)
                        * (plain / total).powi(2);
                    let score = if plain / total < MIN_PLAIN_WORDS {
                        0.0
                    } else {
                        score
                    };
                    // Answers first: definitions and rules, and what a matching heading opens with.
                    let score = if question_hits > 0.0 && is_definitional(s) {
                        score * DEFINITION_BONUS
                    } else {
                        score
                    };
                    let score = if heading_matches && first_after_heading == Some(s) {
                        score * OPENING_BONUS
                    } else {
                        score
                    };
                    (s, sentence_terms, score)
                })
                .filter(|(_, _, score)| *score > 0.0)
                .max_by(|a, b| a.2.total_cmp(&b.2));
            let Some((sentence, sentence_terms, _)) = best else {
                continue;
            };
            // A sentence that leads a list is quoted with its list.
            let (sentence, text) = match leads_list(&passage.text, sentence) {
                Some((quote, items)) => (quote, format!("{sentence} {}", items.join("; "))),
                None => (sentence, String::new()),
            };
            let repeats = chosen_terms.iter().any(|seen| {
                let shared = seen.intersection(&sentence_terms).count() as f64;
                shared / (seen.union(&sentence_terms).count() as f64).max(1.0) > 0.6
            });
            if repeats {
                continue;
            }
            let mut citations = vec![Citation {
                source_id: passage.source_id.clone(),
                quote: sentence.to_string(),
            }];
            for other in &request.sources {
                if citations.len() >= MAX_CITATIONS {
                    break;
                }
                if other.id != passage.source_id && other.text.contains(sentence) {
                    citations.push(Citation {
                        source_id: other.id.clone(),
                        quote: sentence.to_string(),
                    });
                }
            }
            chosen_terms.push(sentence_terms);
            // The finding reads without comment markers; the quote stays verbatim.
            let text = if text.is_empty() {
                sentence.trim_start_matches(['/', '!', '#', '*', '-', ' '])
            } else {
                text.as_str()
            };
            findings.push(Finding::new(text, citations));
        }
        Ok(Synthesis {
            findings,
            ..Synthesis::default()
        })
    }
}

/// The most list lines a lead-in sentence is quoted with.
const MAX_LIST_ITEMS: usize = 12;
/// List lines longer than this are paragraphs, not items.
const MAX_ITEM_WORDS: usize = 16;

/// When `sentence` (a slice of `passage`) ends with a colon and is followed by at least two
/// short lines (a list's items), the verbatim quote from the sentence to the last item, and
/// the items.
pub fn leads_list<'a>(passage: &'a str, sentence: &'a str) -> Option<(&'a str, Vec<&'a str>)> {
    if !sentence.ends_with(':') || !sentence.chars().next().is_some_and(char::is_uppercase) {
        return None;
    }
    let start = passage.find(sentence)?;
    let after = start + sentence.len();
    let mut items = Vec::new();
    let mut end = after;
    let mut offset = after;
    for line in passage[after..].split('\n') {
        let line_start = offset;
        offset += line.len() + 1;
        let item = line.trim();
        if item.is_empty() {
            continue;
        }
        let words = item.split_whitespace().count();
        if words > MAX_ITEM_WORDS || items.len() >= MAX_LIST_ITEMS || item.ends_with(':') {
            break;
        }
        items.push(item);
        end = line_start + line.len();
    }
    (items.len() >= 2).then(|| (&passage[start..end], items))
}

/// Score factor of a sentence that defines or states a rule ("X is a ...", "... means ...").
const DEFINITION_BONUS: f64 = 1.5;
/// Score factor of the sentence that opens a section whose heading matches the question.
const OPENING_BONUS: f64 = 1.3;

/// Closing quotes and brackets that may follow a sentence's last stop.
const CLOSERS: &[char] = &['"', '\'', ')', ']', '\u{201d}', '\u{2019}'];

/// A sentence that can be quoted as a claim: it starts as a sentence starts (not in the middle
/// of one: no lower-case first word) and ends with a full stop. Headings, table cells and
/// list fragments lack the stop; questions and exclamations are not claims.
pub fn is_quotable(sentence: &str) -> bool {
    let Some(first) = sentence.chars().next() else {
        return false;
    };
    let starts = first.is_uppercase()
        || first.is_ascii_digit()
        || matches!(first, '`' | '"' | '(' | '\u{201c}');
    starts && sentence.trim_end_matches(CLOSERS).ends_with('.') && !sentence.ends_with("..")
}

/// Openers of sentences that announce, recap or cheer rather than say something.
const TRANSITIONAL_OPENERS: &[&str] = &[
    "Again,",
    "Also,",
    "As we",
    "As you can see",
    "Below",
    "Consider",
    "Finally,",
    "First,",
    "For example,",
    "For instance,",
    "Here ",
    "Here's",
    "In this",
    "Let us",
    "Let's",
    "Next,",
    "Now,",
    "Now ",
    "Of course",
    "Ok",
    "Remember",
    "Recall",
    "See also",
    "So,",
    "So ",
    "The following",
    "Then,",
    "This example",
    "Try ",
    "Uncomment",
    "Well,",
];

/// Phrases of a sentence that talks about the text instead of the subject.
const TRANSITIONAL_PHRASES: &[&str] = &[
    "let's",
    "let us",
    "we'll",
    "we will",
    "you'll see",
    "as follows",
    "below",
    "shown here",
    "this example",
    "the example",
];

/// A rhetorical or transitional sentence ("First, let's take a look at the rules.").
pub fn is_transitional(sentence: &str) -> bool {
    let lower = sentence.to_lowercase().replace('\u{2019}', "'");
    TRANSITIONAL_OPENERS.iter().any(|o| sentence.starts_with(o))
        || TRANSITIONAL_PHRASES.iter().any(|p| lower.contains(p))
}

/// A sentence that defines something or states a rule.
pub fn is_definitional(sentence: &str) -> bool {
    let lower = format!(" {} ", sentence.to_lowercase());
    [
        " is a ",
        " is an ",
        " is one ",
        " is the ",
        " are ",
        " means ",
        " is used ",
        " can be used ",
        " allows ",
        " lets ",
        " provides ",
        " is called ",
        " refers to ",
        " must ",
        " never ",
        " always ",
        " only ",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_claims_are_quotable() {
        for good in [
            "Each value in Rust has an owner.",
            "`Rc` keeps track of the number of references.",
            "He said \"it works.\"",
        ] {
            assert!(is_quotable(good), "{good:?}");
        }
        for bad in [
            "operator in a function that returns Result, it returns early.",
            "Ownership Rules",
            "Rust's ownership rules have saved us again!",
            "What is the point of that?",
            "Box, Vec, String",
            "The Option<T> enum has two variants:",
        ] {
            assert!(!is_quotable(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_lead_in_is_quoted_with_its_list() {
        let passage = "Designators\n\nArguments are annotated with a designator:\n\n`block`\n\n\
            `expr` is used for expressions\n\n`ident` is used for names\n\nA long closing \
            paragraph that has far too many words in it to be one of the items of that list above.";
        let (quote, items) =
            leads_list(passage, "Arguments are annotated with a designator:").unwrap();
        assert!(passage.contains(quote));
        assert!(quote.starts_with("Arguments") && quote.ends_with("used for names"));
        assert_eq!(
            items,
            [
                "`block`",
                "`expr` is used for expressions",
                "`ident` is used for names"
            ]
        );
        assert!(leads_list(passage, "Designators").is_none());
        assert!(leads_list("One item:\n\nonly", "One item:").is_none());
    }

    #[test]
    fn transitional_sentences_are_told_apart_from_definitions() {
        assert!(is_transitional(
            "First, let's take a look at the ownership rules."
        ));
        assert!(is_transitional(
            "The following code shows a few examples of elision."
        ));
        assert!(!is_transitional("Diverging functions never return."));
        assert!(is_definitional(
            "A phantom type parameter is one that doesn't show up at runtime."
        ));
        assert!(!is_definitional("Rust's ownership rules saved us."));
    }
}
