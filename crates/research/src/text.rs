//! Tokenising for ranking and similarity: lower-cased words, stop words removed, a light
//! plural folding so "borrows" meets "borrow".

/// Words too common to say anything about what a passage is about.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "between", "both", "but", "by", "can", "could",
    "did", "do", "does", "doing", "done", "down", "during", "each", "either", "else", "etc",
    "ever", "every", "few", "for", "from", "further", "get", "gets", "got", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "however", "if", "in", "into",
    "is", "it", "its", "itself", "just", "let", "like", "may", "me", "might", "more", "most",
    "much", "must", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "one", "only",
    "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some", "such",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "us", "use", "used", "uses", "using", "very",
    "via", "was", "we", "well", "were", "what", "when", "where", "whether", "which", "while",
    "who", "whom", "why", "will", "with", "within", "without", "would", "yes", "yet", "you",
    "your", "yours",
];

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Splits text into normalised terms for ranking: no stop words, no one-letter words.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .filter(|w| w.chars().count() > 1 && !is_stop_word(w))
        .map(|w| fold_plural(&w))
        .collect()
}

/// Every lower-cased word, stop words included (used for shingles, where order matters).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn fold_plural(word: &str) -> String {
    let n = word.len();
    if n > 4 && word.ends_with("ies") {
        return format!("{}y", &word[..n - 3]);
    }
    if n > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        return word[..n - 1].to_string();
    }
    word.to_string()
}

/// Collapses runs of whitespace into single spaces and trims the ends.
pub fn squash_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Words that end in a full stop without ending the sentence.
const ABBREVIATIONS: &[&str] = &[
    "approx", "cf", "dr", "e.g", "eg", "etc", "fig", "i.e", "ie", "mr", "mrs", "ms", "no", "resp",
    "vs",
];

/// Splits a passage into sentences, each a verbatim slice of the input. A line break always
/// ends one; `.`, `!` and `?` end one only when followed by white space (or the end) and then
/// not by a lower-case letter, never inside an inline code span (`` `x?` ``) and never after an
/// abbreviation (`e.g.`). Version numbers (`1.65.0`) and paths (`src/main.rs`) have no space
/// after their dots, so they never end a sentence.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_code = false;
    fn push<'a>(text: &'a str, from: usize, to: usize, out: &mut Vec<&'a str>) {
        let piece = text[from..to].trim();
        if !piece.is_empty() {
            out.push(piece);
        }
    }
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' {
            push(text, start, i, &mut out);
            start = i;
            in_code = false;
            continue;
        }
        if c == '`' {
            in_code = !in_code;
            continue;
        }
        if in_code || !matches!(c, '.' | '!' | '?') {
            continue;
        }
        // Closing quotes and brackets belong to the sentence they close.
        let mut end = i + c.len_utf8();
        while let Some(&(j, next)) = chars.peek() {
            if matches!(next, '"' | '\'' | ')' | ']' | '\u{201d}' | '\u{2019}') {
                end = j + next.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let rest = &text[end..];
        if !rest.chars().next().is_some_and(char::is_whitespace) {
            continue;
        }
        let following = rest.trim_start_matches([' ', '\t']).chars().next();
        if following.is_some_and(char::is_lowercase) {
            continue;
        }
        if c == '.' {
            let word = text[start..i]
                .rsplit(|ch: char| ch.is_whitespace() || ch == '(')
                .next()
                .unwrap_or("")
                .to_lowercase();
            let initial = word.chars().count() == 1 && word.chars().all(char::is_alphabetic);
            if initial || ABBREVIATIONS.contains(&word.as_str()) {
                continue;
            }
        }
        push(text, start, end, &mut out);
        start = end;
    }
    push(text, start, text.len(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS);
    }

    #[test]
    fn terms_drop_stop_words_and_fold_plurals() {
        assert_eq!(
            terms("The borrows of the Checker, libraries"),
            ["borrow", "checker", "library"]
        );
    }

    #[test]
    fn sentences_are_verbatim_slices() {
        let text = "Rust has ownership. Values move! Is it v1.2 now? yes";
        let got = sentences(text);
        assert_eq!(
            got,
            ["Rust has ownership.", "Values move!", "Is it v1.2 now? yes"]
        );
        assert!(got.iter().all(|s| text.contains(s)));
    }

    #[test]
    fn sentences_know_code_abbreviations_versions_and_paths() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Use the `?` operator in a function that returns `Result`. It returns early.",
                &[
                    "Use the `?` operator in a function that returns `Result`.",
                    "It returns early.",
                ],
            ),
            (
                "If x is an Option, then evaluating x? will return the value. Otherwise None.",
                &[
                    "If x is an Option, then evaluating x? will return the value.",
                    "Otherwise None.",
                ],
            ),
            (
                "Diverge, e.g. Break or return. Done.",
                &["Diverge, e.g. Break or return.", "Done."],
            ),
            (
                "Stable since Rust 1.65.0 and edition 2021. Build src/main.rs with rustc. Then run.",
                &[
                    "Stable since Rust 1.65.0 and edition 2021.",
                    "Build src/main.rs with rustc.",
                    "Then run.",
                ],
            ),
            (
                "He said \"stop.\" Then it stopped.",
                &["He said \"stop.\"", "Then it stopped."],
            ),
            (
                "Heading\n\nA body line. Another.",
                &["Heading", "A body line.", "Another."],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&sentences(text), want, "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn sentences_are_ordered_disjoint_verbatim_and_complete(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("Word".to_string()),
                    proptest::strategy::Just("word".to_string()),
                    proptest::strategy::Just("`x? y`".to_string()),
                    proptest::strategy::Just("e.g.".to_string()),
                    proptest::strategy::Just("1.2.3".to_string()),
                    proptest::strategy::Just("src/a.rs".to_string()),
                    proptest::strategy::Just("end.".to_string()),
                    proptest::strategy::Just("Why?".to_string()),
                    proptest::strategy::Just("\n\n".to_string()),
                    "[a-zA-Z.?! ]{0,6}",
                ],
                0..30,
            )
        ) {
            let text = parts.join(" ");
            let got = sentences(&text);
            let mut at = 0;
            for sentence in &got {
                proptest::prop_assert!(!sentence.is_empty());
                proptest::prop_assert_eq!(sentence.trim(), *sentence);
                let found = text[at..].find(sentence);
                proptest::prop_assert!(found.is_some(), "{:?} not in order in {:?}", sentence, text);
                let found = at + found.unwrap_or_default();
                proptest::prop_assert!(text[at..found].trim().is_empty(), "text lost before {:?}", sentence);
                at = found + sentence.len();
                // The code span `x? y` is never cut at its `?`.
                proptest::prop_assert!(!sentence.ends_with("`x?"), "{:?}", sentence);
            }
            proptest::prop_assert!(text[at..].trim().is_empty());
        }
    }
}
