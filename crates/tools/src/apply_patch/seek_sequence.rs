//! Finding a hunk's old lines in a file, tolerating the whitespace and punctuation drift that
//! models introduce when they copy code: each pass is looser than the one before, and the first
//! pass that finds the lines wins.

/// How strictly two lines must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    Exact,
    IgnoreTrailingWhitespace,
    IgnoreSurroundingWhitespace,
    NormalisePunctuation,
}

const PASSES: [Strictness; 4] = [
    Strictness::Exact,
    Strictness::IgnoreTrailingWhitespace,
    Strictness::IgnoreSurroundingWhitespace,
    Strictness::NormalisePunctuation,
];

/// The index at or after `start` where `pattern` occurs in `lines`. With `end_of_file`, a match
/// that ends the file is preferred.
pub(crate) fn seek_sequence(
    lines: &[String],
    pattern: &[&str],
    start: usize,
    end_of_file: bool,
) -> Option<usize> {
    if pattern.len() > lines.len() {
        return None;
    }
    let last_start = lines.len() - pattern.len();
    if start > last_start {
        return None;
    }
    for strictness in PASSES {
        if end_of_file && matches_at(lines, pattern, last_start, strictness) {
            return Some(last_start);
        }
        if let Some(found) =
            (start..=last_start).find(|&at| matches_at(lines, pattern, at, strictness))
        {
            return Some(found);
        }
    }
    None
}

/// The first line at or after `start` that contains `header`, compared as loosely as the
/// loosest pass.
pub(crate) fn seek_header(lines: &[String], header: &str, start: usize) -> Option<usize> {
    let exact = (start..lines.len()).find(|&at| lines[at].contains(header));
    exact.or_else(|| {
        let wanted = normalise(header.trim());
        (start..lines.len()).find(|&at| normalise(&lines[at]).contains(&wanted))
    })
}

fn matches_at(lines: &[String], pattern: &[&str], at: usize, strictness: Strictness) -> bool {
    pattern
        .iter()
        .zip(&lines[at..])
        .all(|(want, have)| lines_agree(have, want, strictness))
}

fn lines_agree(have: &str, want: &str, strictness: Strictness) -> bool {
    match strictness {
        Strictness::Exact => have == want,
        Strictness::IgnoreTrailingWhitespace => have.trim_end() == want.trim_end(),
        Strictness::IgnoreSurroundingWhitespace => have.trim() == want.trim(),
        Strictness::NormalisePunctuation => normalise(have) == normalise(want),
    }
}

/// Trims and maps typographic punctuation and unusual spaces to their ASCII counterparts.
fn normalise(line: &str) -> String {
    line.trim()
        .chars()
        .map(|c| match c {
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
            | '\u{2212}' => '-',
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' => '"',
            '\u{00A0}' | '\u{2002}' | '\u{2003}' | '\u{2004}' | '\u{2005}' | '\u{2006}'
            | '\u{2007}' | '\u{2008}' | '\u{2009}' | '\u{200A}' | '\u{202F}' | '\u{205F}'
            | '\u{3000}' => ' ',
            '\u{2026}' => '.',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn exact_match_wins_over_a_looser_earlier_one() {
        let file = lines("  a\nb\na\nb");
        assert_eq!(seek_sequence(&file, &["a", "b"], 0, false), Some(2));
    }

    #[test]
    fn whitespace_differences_are_tolerated() {
        let file = lines("fn x() {   \n    let y = 1;\n}");
        assert_eq!(
            seek_sequence(&file, &["fn x() {", "let y = 1;"], 0, false),
            Some(0)
        );
    }

    #[test]
    fn typographic_punctuation_matches_ascii() {
        let file = lines("let s = \u{201C}hi\u{201D}; // a \u{2014} b\u{00A0}c");
        assert_eq!(
            seek_sequence(&file, &["let s = \"hi\"; // a - b c"], 0, false),
            Some(0)
        );
    }

    #[test]
    fn search_starts_at_the_given_line_and_prefers_the_end_for_eof_hunks() {
        let file = lines("x\ny\nx\ny");
        assert_eq!(seek_sequence(&file, &["x"], 1, false), Some(2));
        assert_eq!(seek_sequence(&file, &["x", "y"], 0, true), Some(2));
        assert_eq!(seek_sequence(&file, &["z"], 0, false), None);
        assert_eq!(
            seek_sequence(&file, &["x", "y", "x", "y", "x"], 0, false),
            None
        );
        assert_eq!(seek_sequence(&file, &["y"], 4, false), None);
    }

    #[test]
    fn headers_are_found_after_start() {
        let file = lines("fn a() {}\nfn b() {}\nfn a() {}");
        assert_eq!(seek_header(&file, "fn a", 1), Some(2));
        assert_eq!(seek_header(&file, "fn c", 0), None);
    }
}
