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

/// Splits a passage into sentences, each a verbatim slice of the input.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let ends = matches!(c, '.' | '!' | '?')
            && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace());
        if ends || c == '\n' {
            let end = if c == '\n' { i } else { i + 1 };
            let piece = text[start..end].trim();
            if !piece.is_empty() {
                out.push(piece);
            }
            start = end;
        }
    }
    let tail = text[start..].trim();
    if !tail.is_empty() {
        out.push(tail);
    }
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
            [
                "Rust has ownership.",
                "Values move!",
                "Is it v1.2 now?",
                "yes"
            ]
        );
        assert!(got.iter().all(|s| text.contains(s)));
    }
}
