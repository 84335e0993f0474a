//! Finding a quote in a source's text the way a reader would: whitespace runs, letter case,
//! curly versus straight quotes and the various dashes do not matter; nothing else is forgiven.
//! The match is returned as a byte range of the original text, so a report can show the source's
//! own words.

/// One character of the normalised text and the byte range of the original it came from.
fn normalised(text: &str) -> (Vec<char>, Vec<(usize, usize)>) {
    let mut chars = Vec::with_capacity(text.len());
    let mut spans = Vec::with_capacity(text.len());
    let mut in_space = false;
    for (start, c) in text.char_indices() {
        let end = start + c.len_utf8();
        if c.is_whitespace() {
            if !in_space && !chars.is_empty() {
                chars.push(' ');
                spans.push((start, end));
            }
            in_space = true;
            continue;
        }
        in_space = false;
        let folded = match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '`' | '\u{00B4}' => {
                '\''
            }
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' => '"',
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
            | '\u{2212}' => '-',
            other => other,
        };
        for lower in folded.to_lowercase() {
            chars.push(lower);
            spans.push((start, end));
        }
    }
    if chars.last() == Some(&' ') {
        chars.pop();
        spans.pop();
    }
    (chars, spans)
}

/// The byte range of `text` that `quote` names, if any (first occurrence).
pub fn find_quote(text: &str, quote: &str) -> Option<std::ops::Range<usize>> {
    let (needle, _) = normalised(quote);
    if needle.is_empty() {
        return None;
    }
    let (haystack, spans) = normalised(text);
    if needle.len() > haystack.len() {
        return None;
    }
    let start = haystack
        .windows(needle.len())
        .position(|window| window == needle.as_slice())?;
    let end = start + needle.len() - 1;
    Some(spans[start].0..spans[end].1)
}

/// The source's own words for `quote`, if the quote is in `text`.
pub fn verbatim<'a>(text: &'a str, quote: &str) -> Option<&'a str> {
    find_quote(text, quote).map(|range| &text[range])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgives_space_case_quotes_and_dashes_only() {
        let text = "The borrow checker \u{2014} “strict”  but\nfair — rejects aliasing.";
        assert_eq!(
            verbatim(text, "the BORROW checker - \"strict\" but fair"),
            Some("The borrow checker \u{2014} “strict”  but\nfair")
        );
        assert_eq!(verbatim(text, "rejects aliasing"), Some("rejects aliasing"));
        assert_eq!(
            verbatim(text, "rejects  aliasing."),
            Some("rejects aliasing.")
        );
        assert!(verbatim(text, "rejects all aliasing").is_none());
        assert!(verbatim(text, "borrow-checker").is_none());
        assert!(verbatim(text, "   ").is_none());
    }
}
