//! Containment at passage level: a page whose passages already appear in other pages (an
//! all-in-one print page, a syndicated copy, a mirror) is recognised by its content alone.
//! Each block of a passage is cut into overlapping word shingles; a passage is held by another
//! page when most of its shingles are in that page, and a page that holds two or more other
//! pages whole is a compilation. Names and URLs play no part.

use crate::text::words;
use std::collections::{HashMap, HashSet};

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 8;
/// Share of a passage's (or page's) shingles another page must hold for it to count as held.
pub const HELD_SHARE: f64 = 0.8;

/// The shingle hashes of a passage, block by block (blocks are separated by blank lines, so no
/// shingle spans two blocks). A block shorter than a shingle is one hash of all its words.
pub fn shingles(passage: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for block in passage.split("\n\n") {
        let words: Vec<String> = words(block).collect();
        if words.is_empty() {
            continue;
        }
        if words.len() <= SHINGLE_WORDS {
            out.push(hash_words(&words));
        } else {
            out.extend(words.windows(SHINGLE_WORDS).map(hash_words));
        }
    }
    out
}

/// FNV-1a over the words, a separator between them.
fn hash_words(words: &[String]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for word in words {
        for byte in word.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// What the containment pass decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folding {
    /// Pages folded whole: `(page, the pages it holds)`. A compilation holds two or more
    /// other pages; a copy holds one page that holds it back.
    pub pages: Vec<(usize, Vec<usize>)>,
    /// Passages folded into a more specific page: `(page, passage, holder)`.
    pub passages: Vec<(usize, usize, usize)>,
}

/// For each page other than `except`, how many of `shingles` it holds, through the index
/// of which pages hold each shingle: the cost follows the shingles, not the pairs of pages.
fn held_by(
    shingles: &[u64],
    holders: &HashMap<u64, Vec<usize>>,
    except: usize,
) -> HashMap<usize, usize> {
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for shingle in shingles {
        for &page in holders.get(shingle).into_iter().flatten() {
            if page != except {
                *counts.entry(page).or_default() += 1;
            }
        }
    }
    counts
}

/// Decides, for pages given as their passages' shingles, which pages are folded whole and
/// which passages are folded into a more specific page that also holds them. Of two pages that
/// hold each other, the smaller (then the earlier) is the more specific and is kept.
pub fn fold(pages: &[Vec<Vec<u64>>]) -> Folding {
    let sets: Vec<Vec<u64>> = pages
        .iter()
        .map(|p| {
            let set: HashSet<u64> = p.iter().flatten().copied().collect();
            set.into_iter().collect()
        })
        .collect();
    let mut holders: HashMap<u64, Vec<usize>> = HashMap::new();
    for (page, set) in sets.iter().enumerate() {
        for &shingle in set {
            holders.entry(shingle).or_default().push(page);
        }
    }
    // `a` is more specific than `b`: fewer distinct shingles, then earlier.
    let more_specific = |a: usize, b: usize| (sets[a].len(), a) < (sets[b].len(), b);
    let share = |count: Option<&usize>, of: usize| {
        of > 0 && count.copied().unwrap_or(0) as f64 >= HELD_SHARE * of as f64
    };
    // held[b][a]: how many of page b's distinct shingles page a holds.
    let held: Vec<HashMap<usize, usize>> = sets
        .iter()
        .enumerate()
        .map(|(b, set)| held_by(set, &holders, b))
        .collect();
    let n = pages.len();
    let mut folding = Folding::default();
    let mut folded = vec![false; n];
    for a in 0..n {
        if sets[a].is_empty() {
            continue;
        }
        let inside: Vec<usize> = (0..n)
            .filter(|&b| b != a && !folded[b] && more_specific(b, a))
            .filter(|&b| share(held[b].get(&a), sets[b].len()))
            .collect();
        let copy_of_one = inside.len() == 1 && share(held[a].get(&inside[0]), sets[a].len());
        if inside.len() >= 2 || copy_of_one {
            folded[a] = true;
            folding.pages.push((a, inside));
        }
    }
    for a in (0..n).filter(|&a| !folded[a]) {
        for (p, passage) in pages[a].iter().enumerate() {
            let counts = held_by(passage, &holders, a);
            let holder = (0..n).find(|&b| {
                !folded[b] && more_specific(b, a) && share(counts.get(&b), passage.len())
            });
            if let Some(holder) = holder {
                folding.passages.push((a, p, holder));
            }
        }
    }
    folding
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNERSHIP: &str = "Each value in Rust has a single owner at any one time.\n\n\
        When the owner goes out of scope the value is dropped and its memory is freed.";
    const BORROWING: &str = "A reference borrows a value without taking ownership of it.\n\n\
        Many shared references or one mutable reference may exist at the same time.";
    const COOKING: &str = "Pasta needs plenty of salted boiling water and a large pot.";

    fn page(passages: &[&str]) -> Vec<Vec<u64>> {
        passages.iter().map(|p| shingles(p)).collect()
    }

    #[test]
    fn a_page_made_of_two_others_is_folded_into_them() {
        let compilation = page(&[
            "Contents of the whole book, chapter by chapter.",
            OWNERSHIP,
            BORROWING,
        ]);
        let pages = [
            page(&[OWNERSHIP]),
            compilation,
            page(&[BORROWING]),
            page(&[COOKING]),
        ];
        let folding = fold(&pages);
        assert_eq!(folding.pages, [(1, vec![0, 2])]);
        assert!(folding.passages.is_empty(), "{folding:?}");
    }

    #[test]
    fn shared_passages_fold_into_the_specific_page() {
        // A page that repeats one other page's passage: only that passage is folded.
        let pages = [
            page(&[OWNERSHIP]),
            page(&[
                OWNERSHIP,
                COOKING,
                "Boil the water first and then add the salt to it.",
            ]),
        ];
        let folding = fold(&pages);
        assert!(folding.pages.is_empty(), "{folding:?}");
        assert_eq!(folding.passages, [(1, 0, 0)]);
    }

    #[test]
    fn a_copy_is_folded_into_the_first_and_distinct_pages_stay() {
        let pages = [page(&[OWNERSHIP]), page(&[COOKING]), page(&[OWNERSHIP])];
        let folding = fold(&pages);
        assert_eq!(folding.pages, [(2, vec![0])]);
        assert!(fold(&[page(&[OWNERSHIP]), page(&[BORROWING])]) == Folding::default());
    }

    #[test]
    fn shingles_ignore_case_and_spacing_but_not_words() {
        assert_eq!(
            shingles("Each  value in RUST has a single owner at any one time."),
            shingles(OWNERSHIP.split("\n\n").next().unwrap())
        );
        assert_ne!(shingles(OWNERSHIP), shingles(BORROWING));
    }
}
