//! Quoting a word so that the shell (and this parser) reads it back unchanged.

/// Returns `word` as it must be written in a script to be read back as exactly `word`: unchanged
/// when it holds only characters the shell treats literally, else in single quotes.
pub fn quote_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:,+@%=".contains(c))
        && !word.contains('=');
    if plain {
        return word.to_string();
    }
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for c in word.chars() {
        if c == '\'' {
            quoted.push_str("'\\''");
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    quoted
}

#[cfg(test)]
mod tests {
    use super::quote_word;

    #[test]
    fn plain_words_stay_plain_and_others_are_single_quoted() {
        assert_eq!(quote_word("src/main.rs"), "src/main.rs");
        assert_eq!(quote_word("a b"), "'a b'");
        assert_eq!(quote_word("it's"), "'it'\\''s'");
        assert_eq!(quote_word(""), "''");
        assert_eq!(quote_word("A=1"), "'A=1'");
    }
}
