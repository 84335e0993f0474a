//! Picking and combining results: concatenation in plan order, majority voting over normalised
//! answers, and the highest score from a judge model call (`submit_score`).

use crate::report::{Score, TaskResult, TaskStatus, Usage, Vote};
use cadre_model::{ModelClient, Prompt};
use cadre_protocol::{ResponseItem, ToolSpec};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MergeStrategy {
    #[default]
    Concatenate,
    Voting,
    HighestScore,
}

impl MergeStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeStrategy::Concatenate => "concatenate",
            MergeStrategy::Voting => "voting",
            MergeStrategy::HighestScore => "highest-score",
        }
    }
}

impl fmt::Display for MergeStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MergeStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "concatenate" => Ok(MergeStrategy::Concatenate),
            "voting" => Ok(MergeStrategy::Voting),
            "highest-score" | "highest_score" => Ok(MergeStrategy::HighestScore),
            other => Err(format!(
                "unknown merge `{other}`; valid merges: concatenate, voting, highest-score"
            )),
        }
    }
}

/// An answer reduced for comparison: JSON compared as values, text without case, extra
/// whitespace or final punctuation.
pub fn normalise(answer: &str) -> String {
    let trimmed = answer.trim();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed)
        && (value.is_object() || value.is_array())
    {
        return value.to_string();
    }
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let joined = words.join(" ").to_lowercase();
    joined
        .trim_end_matches(['.', '!', '?', ';', ':', ','])
        .to_string()
}

/// The majority answer among completed candidates: the winner's index, the tally (most votes
/// first) and whether the top was tied (the earliest answer among the tied wins).
pub fn vote(task_id: &str, candidates: &[TaskResult]) -> (Option<usize>, Vec<Vote>, bool) {
    let mut votes: Vec<(Vote, usize)> = Vec::new();
    for (index, candidate) in candidates.iter().enumerate() {
        if candidate.status != TaskStatus::Completed {
            continue;
        }
        let answer = normalise(candidate.final_message.as_deref().unwrap_or(""));
        match votes.iter_mut().find(|(v, _)| v.answer == answer) {
            Some((vote, _)) => {
                vote.count += 1;
                vote.agents.push(candidate.agent_id.clone());
            }
            None => votes.push((
                Vote {
                    task_id: task_id.to_string(),
                    answer,
                    count: 1,
                    agents: vec![candidate.agent_id.clone()],
                },
                index,
            )),
        }
    }
    // Stable: equal counts keep first-seen order.
    votes.sort_by_key(|v| std::cmp::Reverse(v.0.count));
    let tie = votes.len() > 1 && votes[0].0.count == votes[1].0.count;
    let winner = votes.first().map(|(_, index)| *index);
    (winner, votes.into_iter().map(|(v, _)| v).collect(), tie)
}

/// The `submit_score` tool offered to the judge.
pub fn submit_score_spec() -> ToolSpec {
    ToolSpec {
        name: "submit_score".into(),
        description: "Submit your score for the candidate result.".into(),
        parameters: json!({
            "type": "object",
            "properties": {
                "score": {"type": "number", "description": "0 (useless) to 10 (fully meets the criteria)"},
                "reason": {"type": "string", "description": "Why, in one or two sentences"}
            },
            "required": ["score", "reason"]
        }),
    }
}

#[derive(Deserialize)]
struct ScoreArgs {
    score: f64,
    #[serde(default)]
    reason: String,
}

/// Scores one candidate against the task's acceptance criteria with one model call.
pub async fn judge(
    client: &ModelClient,
    model: &str,
    task_prompt: &str,
    acceptance: Option<&str>,
    candidate: &TaskResult,
) -> (Score, Usage) {
    let facts = json!({
        "status": candidate.status,
        "verified": candidate.verified,
        "verification": candidate.verification,
        "files_changed": candidate.files_changed,
        "commands": candidate.commands,
    });
    let input = format!(
        "<task>\n{task_prompt}\n</task>\n<acceptance>\n{}\n</acceptance>\n<candidate_answer>\n{}\n</candidate_answer>\n<facts_from_the_session>\n{facts}\n</facts_from_the_session>\nScore the candidate from 0 to 10 against the acceptance criteria and call submit_score.",
        acceptance.unwrap_or("The answer does what the task asks, correctly and completely."),
        candidate.final_message.as_deref().unwrap_or("(no answer)"),
    );
    let prompt = Prompt {
        model: model.to_string(),
        instructions: "You are a strict judge of work done by coding agents. Trust the facts taken from the session over the agent's words. Answer only by calling submit_score.".into(),
        input: vec![ResponseItem::user(input)],
        tools: vec![submit_score_spec()],
        parallel_tool_calls: false,
        max_output_tokens: Some(client.provider().default_max_output_tokens()),
    };
    let mut score = Score {
        task_id: candidate.task_id.clone(),
        agent_id: candidate.agent_id.clone(),
        score: 0.0,
        reason: String::new(),
    };
    match client.complete(&prompt).await {
        Ok(completion) => {
            let usage = completion.usage.map(Usage::from).unwrap_or_default();
            let call = completion.items.iter().find_map(|item| match item {
                ResponseItem::FunctionCall {
                    name, arguments, ..
                } if name == "submit_score" => Some(arguments.clone()),
                _ => None,
            });
            match call.map(|a| serde_json::from_str::<ScoreArgs>(&a)) {
                Some(Ok(args)) => {
                    score.score = args.score.clamp(0.0, 10.0);
                    score.reason = args.reason;
                }
                Some(Err(error)) => {
                    score.reason =
                        format!("the judge's submit_score arguments were invalid: {error}")
                }
                None => score.reason = "the judge did not call submit_score".into(),
            }
            (score, usage)
        }
        Err(error) => {
            score.reason = format!("the judge call failed: {error}");
            (score, Usage::default())
        }
    }
}

/// The index of the best score (verified candidates first among equals, then the earliest).
pub fn highest(scores: &[(usize, Score, bool)]) -> Option<usize> {
    let mut best: Option<&(usize, Score, bool)> = None;
    for entry in scores {
        best = match best {
            None => Some(entry),
            Some(current) => {
                let better = entry.1.score > current.1.score
                    || (entry.1.score == current.1.score && entry.2 && !current.2);
                Some(if better { entry } else { current })
            }
        };
    }
    best.map(|(index, _, _)| *index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(agent: &str, text: &str, status: TaskStatus) -> TaskResult {
        let mut r = TaskResult::not_run("t1", "Tester", status, "");
        r.agent_id = agent.into();
        r.final_message = Some(text.into());
        r.error = None;
        r
    }

    #[test]
    fn normalising_ignores_case_space_punctuation_and_json_layout() {
        assert_eq!(
            normalise("  The answer is 42. "),
            normalise("the answer  is 42")
        );
        assert_eq!(
            normalise("{\"a\": 1, \"b\": [2]}"),
            normalise("{\"a\":1,\"b\":[2]}")
        );
        assert_ne!(normalise("yes"), normalise("no"));
    }

    #[test]
    fn majority_wins_and_ties_are_flagged() {
        let candidates = vec![
            answer("a", "Blue.", TaskStatus::Completed),
            answer("b", "red", TaskStatus::Completed),
            answer("c", "RED!", TaskStatus::Completed),
            answer("d", "red", TaskStatus::Failed),
        ];
        let (winner, votes, tie) = vote("t1", &candidates);
        assert_eq!(winner, Some(1));
        assert!(!tie);
        assert_eq!(votes[0].answer, "red");
        assert_eq!(votes[0].count, 2);
        assert_eq!(votes[0].agents, vec!["b", "c"]);
        let (winner, _, tie) = vote("t1", &candidates[..2]);
        assert_eq!(winner, Some(0));
        assert!(tie);
    }

    #[test]
    fn highest_score_prefers_verified_on_equal_scores() {
        let s = |score: f64| Score {
            task_id: "t".into(),
            agent_id: "x".into(),
            score,
            reason: String::new(),
        };
        assert_eq!(highest(&[(0, s(3.0), true), (1, s(8.0), true)]), Some(1));
        assert_eq!(highest(&[(0, s(8.0), false), (1, s(8.0), true)]), Some(1));
        assert_eq!(highest(&[]), None);
    }
}
