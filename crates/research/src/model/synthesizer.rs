//! Synthesis with the model, in a shape that can be checked. The model writes the report from
//! the selected passages only, calling `submit_report` with sections of sentences, each sentence
//! citing `{"source_id", "quote"}`. Then every sentence is checked: a citation whose source is
//! not in the run or whose quote is not in that source is removed; a verifier call
//! (`submit_verdict`), shown only the sentence and its quotes, judges the rest (the majority of
//! `votes` calls); a sentence left without a supported citation is removed or kept marked.

use super::caller::{CallFailure, ModelCaller};
use crate::error::ResearchError;
use crate::quote_match::verbatim;
use crate::synth::{
    Citation, ExtractiveSynthesizer, Finding, RemovedCitation, RemovedSentence, Section, Synthesis,
    SynthesisRequest, Synthesizer, Verdict, VerdictVote, Verification,
};
use cadre_protocol::ToolSpec;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

pub const SUBMIT_REPORT: &str = "submit_report";
pub const SUBMIT_VERDICT: &str = "submit_verdict";

/// Verifier calls in flight at once.
const VERIFY_CONCURRENCY: usize = 4;

const REPORT_INSTRUCTIONS: &str = "You write a research report from the passages given, and from \
nothing else. Call submit_report once. Every sentence must carry at least one citation: the id of \
the source (S1, S2...) and a quote copied exactly, word for word, from that source's passage that \
supports the sentence. Do not cite any source that is not listed. Put what the passages do not \
answer in open_questions.";

const VERIFY_INSTRUCTIONS: &str = "You check one sentence of a report against the quotes cited \
for it. Judge only from the quotes, not from what you know. Call submit_verdict once: supported \
when the quotes state what the sentence says, partial when they back only part of it, \
unsupported otherwise.";

/// What happens to a sentence left without a supported citation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnUnsupported {
    /// Remove it (the default).
    #[default]
    Drop,
    /// Keep it with a visible mark.
    Flag,
}

#[derive(Debug, Deserialize)]
struct ProposedReport {
    #[serde(default)]
    title: String,
    sections: Vec<ProposedSection>,
    #[serde(default)]
    open_questions: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ProposedSection {
    #[serde(default)]
    heading: String,
    #[serde(default)]
    sentences: Vec<ProposedSentence>,
}

#[derive(Debug, Deserialize)]
struct ProposedSentence {
    text: String,
    #[serde(default)]
    citations: Vec<Citation>,
}

#[derive(Debug, Deserialize)]
struct SubmittedVerdict {
    verdict: Verdict,
    #[serde(default)]
    reason: String,
}

/// Writes and checks the synthesis with the model.
pub struct ModelSynthesizer {
    caller: Arc<ModelCaller>,
    votes: usize,
    on_unsupported: OnUnsupported,
}

/// A sentence after the quote check, waiting for its verdicts.
struct Checked {
    section: usize,
    text: String,
    citations: Vec<Citation>,
    removed: Vec<RemovedCitation>,
}

impl ModelSynthesizer {
    pub fn new(caller: Arc<ModelCaller>, votes: usize, on_unsupported: OnUnsupported) -> Self {
        ModelSynthesizer {
            caller,
            votes: votes.max(1),
            on_unsupported,
        }
    }

    fn report_tool() -> ToolSpec {
        let citation = json!({
            "type": "object",
            "properties": {
                "source_id": {"type": "string", "description": "A source id from the list, e.g. S3."},
                "quote": {"type": "string", "description": "Words copied exactly from that source."}
            },
            "required": ["source_id", "quote"],
            "additionalProperties": false
        });
        ToolSpec {
            name: SUBMIT_REPORT.into(),
            description: "Submit the research report, every sentence with its citations.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "sections": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "heading": {"type": "string"},
                            "sentences": {"type": "array", "items": {
                                "type": "object",
                                "properties": {
                                    "text": {"type": "string"},
                                    "citations": {"type": "array", "items": citation}
                                },
                                "required": ["text", "citations"],
                                "additionalProperties": false
                            }}
                        },
                        "required": ["heading", "sentences"],
                        "additionalProperties": false
                    }},
                    "open_questions": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["title", "sections", "open_questions"],
                "additionalProperties": false
            }),
        }
    }

    fn verdict_tool() -> ToolSpec {
        ToolSpec {
            name: SUBMIT_VERDICT.into(),
            description: "Submit whether the quotes support the sentence.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "verdict": {"type": "string", "enum": ["supported", "partial", "unsupported"]},
                    "reason": {"type": "string"}
                },
                "required": ["verdict", "reason"],
                "additionalProperties": false
            }),
        }
    }

    fn report_prompt(request: &SynthesisRequest) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "Question: {}\n\nSources:", request.question);
        for s in &request.sources {
            let _ = writeln!(
                text,
                "- {}: {} <{}> (family {})",
                s.id, s.title, s.url, s.family
            );
        }
        let _ = writeln!(text, "\nPassages (quote only from these):");
        for p in &request.passages {
            let _ = writeln!(text, "\n[{} {}]\n{}", p.source_id, p.passage_id, p.text);
        }
        text
    }

    fn verify_prompt(sentence: &str, citations: &[Citation]) -> String {
        let mut text = format!("Sentence: {sentence}\n\nQuotes:\n");
        for c in citations {
            let _ = writeln!(text, "- \"{}\"", c.quote);
        }
        text
    }

    /// The model wrote nothing usable (or could not be asked): the extractive synthesis stands in.
    async fn extractive(
        &self,
        request: &SynthesisRequest,
        why: String,
    ) -> Result<Synthesis, ResearchError> {
        self.caller.ledger().note(format!(
            "the synthesis is extractive (quoted sentences): {why}"
        ));
        ExtractiveSynthesizer.synthesize(request).await
    }

    /// The majority verdict of `votes` calls; a tie goes to the more cautious verdict, and an
    /// unusable answer counts as `unsupported`.
    async fn judge(
        &self,
        index: usize,
        checked: &Checked,
    ) -> Result<Vec<VerdictVote>, CallFailure> {
        let mut votes = Vec::new();
        for vote in 0..self.votes {
            let answer = self
                .caller
                .call(
                    &format!("verify:{index}:{vote}"),
                    VERIFY_INSTRUCTIONS,
                    Self::verify_prompt(&checked.text, &checked.citations),
                    Self::verdict_tool(),
                )
                .await?;
            votes.push(
                match answer.and_then(|a| serde_json::from_value::<SubmittedVerdict>(a).ok()) {
                    Some(v) => VerdictVote {
                        verdict: v.verdict,
                        reason: v.reason,
                    },
                    None => VerdictVote {
                        verdict: Verdict::Unsupported,
                        reason: "the verifier's answer was unusable".into(),
                    },
                },
            );
        }
        Ok(votes)
    }
}

/// The verdict most votes agree on; ties go to the more cautious one.
pub fn majority(votes: &[VerdictVote]) -> Verdict {
    let count = |v: Verdict| votes.iter().filter(|x| x.verdict == v).count();
    let cautious_first = [Verdict::Unsupported, Verdict::Partial, Verdict::Supported];
    let most = cautious_first.iter().map(|v| count(*v)).max().unwrap_or(0);
    cautious_first
        .into_iter()
        .find(|v| most > 0 && count(*v) == most)
        .unwrap_or(Verdict::Unsupported)
}

#[async_trait::async_trait]
impl Synthesizer for ModelSynthesizer {
    async fn synthesize(&self, request: &SynthesisRequest) -> Result<Synthesis, ResearchError> {
        if request.passages.is_empty() {
            return Ok(Synthesis::default());
        }
        let answer = self
            .caller
            .call(
                "report",
                REPORT_INSTRUCTIONS,
                Self::report_prompt(request),
                Self::report_tool(),
            )
            .await;
        let proposed = match answer {
            Ok(Some(arguments)) => match serde_json::from_value::<ProposedReport>(arguments) {
                Ok(report) => report,
                Err(err) => {
                    return self
                        .extractive(request, format!("the model's report was malformed ({err})"))
                        .await;
                }
            },
            Ok(None) => {
                return self
                    .extractive(request, "the model did not call submit_report".into())
                    .await;
            }
            Err(failure) => {
                if let CallFailure::Budget(reason) = &failure {
                    self.caller.ledger().note_stop(reason.clone());
                }
                return self.extractive(request, failure.to_string()).await;
            }
        };

        self.caller.ledger().record_written_by_model();
        let texts: HashMap<&str, &str> = request
            .sources
            .iter()
            .map(|s| (s.id.as_str(), s.text.as_str()))
            .collect();
        let mut verification = Verification {
            votes_per_sentence: self.votes,
            ..Verification::default()
        };
        let mut checked = Vec::new();
        for (section, proposed_section) in proposed.sections.iter().enumerate() {
            for sentence in &proposed_section.sentences {
                if sentence.text.trim().is_empty() {
                    continue;
                }
                verification.sentences_proposed += 1;
                verification.citations_proposed += sentence.citations.len();
                let mut kept = Vec::new();
                let mut removed = Vec::new();
                for citation in &sentence.citations {
                    let reason = match texts.get(citation.source_id.as_str()) {
                        None => format!("source `{}` is not in this run", citation.source_id),
                        Some(text) => match verbatim(text, &citation.quote) {
                            Some(words) => {
                                kept.push(Citation {
                                    source_id: citation.source_id.clone(),
                                    quote: words.to_string(),
                                });
                                continue;
                            }
                            None => format!("quote not found in {}", citation.source_id),
                        },
                    };
                    removed.push(RemovedCitation {
                        source_id: citation.source_id.clone(),
                        quote: citation.quote.clone(),
                        reason,
                    });
                }
                verification.citations_checked += kept.len();
                checked.push(Checked {
                    section,
                    text: sentence.text.trim().to_string(),
                    citations: kept,
                    removed,
                });
            }
        }

        // Only sentences with a citation left are worth a verifier call.
        type Judgement = Option<Result<Vec<VerdictVote>, CallFailure>>;
        let mut pending: Vec<futures::future::BoxFuture<'_, Judgement>> = Vec::new();
        for (i, c) in checked.iter().enumerate() {
            pending.push(if c.citations.is_empty() {
                Box::pin(futures::future::ready(None))
            } else {
                Box::pin(async move { Some(self.judge(i, c).await) })
            });
        }
        let judged: Vec<Judgement> = futures::stream::iter(pending)
            .buffered(VERIFY_CONCURRENCY)
            .collect()
            .await;

        let mut sections: Vec<Section> = proposed
            .sections
            .iter()
            .map(|s| Section {
                heading: s.heading.trim().to_string(),
                sentences: Vec::new(),
            })
            .collect();
        let mut findings = Vec::new();
        let mut removed_sentences = Vec::new();
        for (c, judgement) in checked.into_iter().zip(judged) {
            let (votes, failure) = match judgement {
                None => (Vec::new(), None),
                Some(Ok(votes)) => (votes, None),
                Some(Err(failure)) => (Vec::new(), Some(failure)),
            };
            verification.verifier_calls += votes.len();
            let verdict = (!votes.is_empty()).then(|| majority(&votes));
            let problem = match (&failure, verdict) {
                (Some(CallFailure::Budget(reason)), _) => {
                    self.caller.ledger().note_stop(reason.clone());
                    Some(("not verified", format!("not verified: stopped by {reason}")))
                }
                (Some(CallFailure::Model(reason)), _) => Some((
                    "not verified",
                    format!("not verified: the verifier call failed ({reason})"),
                )),
                (None, None) => Some((
                    "no citation left",
                    "no citation left: every quote was missing or cited an unknown source".into(),
                )),
                (None, Some(Verdict::Unsupported)) => Some((
                    "judged unsupported",
                    format!(
                        "judged unsupported: {}",
                        votes
                            .iter()
                            .find(|v| v.verdict == Verdict::Unsupported)
                            .map_or("", |v| v.reason.as_str())
                    ),
                )),
                (None, Some(_)) => None,
            };
            let heading = sections[c.section].heading.clone();
            match problem {
                None => {
                    verification.sentences_kept += 1;
                    verification.citations_kept += c.citations.len();
                    verification.citations_removed += c.removed.len();
                    if !c.removed.is_empty() {
                        removed_sentences.push(RemovedSentence {
                            section: heading,
                            text: c.text.clone(),
                            reason: "kept; some citations were removed".into(),
                            removed_citations: c.removed,
                            verdicts: Vec::new(),
                            flagged: false,
                        });
                    }
                    let finding = Finding {
                        text: c.text,
                        citations: c.citations,
                        verdicts: votes,
                        flag: None,
                    };
                    sections[c.section].sentences.push(finding.clone());
                    findings.push(finding);
                }
                Some((short, reason)) => {
                    *verification
                        .removed_because
                        .entry(short.to_string())
                        .or_default() += 1;
                    let flagged = self.on_unsupported == OnUnsupported::Flag;
                    let mut removed_citations = c.removed;
                    if verdict == Some(Verdict::Unsupported) {
                        removed_citations.extend(c.citations.iter().map(|citation| {
                            RemovedCitation {
                                source_id: citation.source_id.clone(),
                                quote: citation.quote.clone(),
                                reason: "the verifier judged the sentence unsupported".into(),
                            }
                        }));
                    }
                    verification.citations_removed += removed_citations.len();
                    if flagged {
                        verification.sentences_flagged += 1;
                        let finding = Finding {
                            text: c.text.clone(),
                            citations: Vec::new(),
                            verdicts: votes.clone(),
                            flag: Some(reason.clone()),
                        };
                        sections[c.section].sentences.push(finding.clone());
                        findings.push(finding);
                    } else {
                        verification.sentences_removed += 1;
                    }
                    removed_sentences.push(RemovedSentence {
                        section: heading,
                        text: c.text,
                        reason,
                        removed_citations,
                        verdicts: votes,
                        flagged,
                    });
                }
            }
        }
        verification.citation_precision = if verification.citations_proposed == 0 {
            1.0
        } else {
            verification.citations_kept as f64 / verification.citations_proposed as f64
        };
        sections.retain(|s| !s.sentences.is_empty());
        Ok(Synthesis {
            summary: None,
            findings,
            title: Some(proposed.title.trim().to_string()).filter(|t| !t.is_empty()),
            sections,
            open_questions: proposed
                .open_questions
                .into_iter()
                .map(|q| q.trim().to_string())
                .filter(|q| !q.is_empty())
                .collect(),
            verification: Some(verification),
            removed: removed_sentences,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(verdict: Verdict) -> VerdictVote {
        VerdictVote {
            verdict,
            reason: String::new(),
        }
    }

    #[test]
    fn majority_breaks_ties_towards_caution() {
        use Verdict::*;
        assert_eq!(majority(&[vote(Supported)]), Supported);
        assert_eq!(
            majority(&[vote(Supported), vote(Unsupported), vote(Supported)]),
            Supported
        );
        assert_eq!(majority(&[vote(Supported), vote(Unsupported)]), Unsupported);
        assert_eq!(majority(&[vote(Supported), vote(Partial)]), Partial);
        assert_eq!(majority(&[]), Unsupported);
    }
}
