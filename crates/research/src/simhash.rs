//! Near-duplicate detection: 64-bit SimHash over word shingles, and an index that finds every
//! pair within a Hamming distance without comparing all pairs.

use std::collections::HashMap;

/// Words per shingle: three keeps word order significant without being brittle.
const SHINGLE_WORDS: usize = 3;

/// Hamming distance at or under which two documents count as near-duplicates.
pub const NEAR_DUPLICATE_DISTANCE: u32 = 6;

/// The SimHash fingerprint of a text.
pub fn simhash(text: &str) -> u64 {
    let words: Vec<String> = crate::text::words(text).collect();
    let mut weights = [0i32; 64];
    let mut add = |hash: u64| {
        for (bit, weight) in weights.iter_mut().enumerate() {
            if hash >> bit & 1 == 1 {
                *weight += 1;
            } else {
                *weight -= 1;
            }
        }
    };
    if words.len() < SHINGLE_WORDS {
        for word in &words {
            add(fnv1a(word.as_bytes()));
        }
    } else {
        for window in words.windows(SHINGLE_WORDS) {
            let mut hash = FNV_OFFSET;
            for word in window {
                hash = fnv1a_continue(hash, word.as_bytes());
                hash = fnv1a_continue(hash, b" ");
            }
            add(mix(hash));
        }
    }
    weights
        .iter()
        .enumerate()
        .filter(|(_, w)| **w > 0)
        .fold(0u64, |acc, (bit, _)| acc | 1 << bit)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a(bytes: &[u8]) -> u64 {
    mix(fnv1a_continue(FNV_OFFSET, bytes))
}

fn fnv1a_continue(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// FNV's low bits are weak; a finaliser spreads every input bit over the output.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Every pair `(i, j)`, `i < j`, whose fingerprints are within [`NEAR_DUPLICATE_DISTANCE`].
///
/// By the pigeonhole principle two fingerprints differing in at most 6 bits agree exactly on at
/// least one of seven bands, so only documents sharing a band are compared.
pub fn near_duplicate_pairs(fingerprints: &[u64]) -> Vec<(usize, usize)> {
    let bands = NEAR_DUPLICATE_DISTANCE as usize + 1;
    let width = 64 / bands;
    let mut buckets: HashMap<(usize, u64), Vec<usize>> = HashMap::new();
    for (i, fp) in fingerprints.iter().enumerate() {
        for band in 0..bands {
            // The last band takes the bits left over by the division.
            let bits = if band == bands - 1 {
                64 - width * (bands - 1)
            } else {
                width
            };
            let key = (fp >> (band * width)) & ((1u64 << bits) - 1);
            buckets.entry((band, key)).or_default().push(i);
        }
    }
    let mut pairs = Vec::new();
    for members in buckets.values() {
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                if hamming(fingerprints[i], fingerprints[j]) <= NEAR_DUPLICATE_DISTANCE {
                    pairs.push((i.min(j), i.max(j)));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Rust's ownership model gives memory safety without a garbage collector. \
        Each value has a single owner, and when the owner goes out of scope the value is dropped. \
        References borrow values without taking ownership, and the borrow checker makes sure \
        that references never outlive the data they point to or alias mutable state. \
        Moving a value transfers ownership to the new binding, and the old binding can no longer \
        be used; types that implement Copy are duplicated instead of moved. Shared references \
        allow many readers at once, while a mutable reference grants exclusive access to a \
        single writer. Lifetimes name the regions of code in which a reference is valid, and the \
        compiler infers most of them, so annotations are needed only where the relationships \
        between inputs and outputs of a function are ambiguous. Smart pointers such as Box, Rc \
        and Arc extend the model to heap allocation and shared ownership, and interior \
        mutability types move some borrow checks to run time.";

    #[test]
    fn near_copies_are_close_and_other_texts_far() {
        let copy = TEXT.replace("single owner", "sole owner");
        let other = "Pasta should be cooked in plenty of salted boiling water until al dente, \
            then drained and tossed with the sauce while still hot so it absorbs the flavour.";
        assert!(
            hamming(simhash(TEXT), simhash(&copy)) <= NEAR_DUPLICATE_DISTANCE,
            "{}",
            hamming(simhash(TEXT), simhash(&copy))
        );
        assert!(hamming(simhash(TEXT), simhash(other)) > 16);
        assert_eq!(simhash(TEXT), simhash(&TEXT.to_uppercase()));
    }

    #[test]
    fn banded_pairs_match_brute_force() {
        let fps: Vec<u64> = (0..300u64)
            .map(|i| {
                mix(i / 3)
                    ^ if i % 3 == 1 {
                        (1 << (i % 64)) | (1 << ((i * 7) % 64))
                    } else {
                        0
                    }
            })
            .collect();
        let mut brute = Vec::new();
        for i in 0..fps.len() {
            for j in i + 1..fps.len() {
                if hamming(fps[i], fps[j]) <= NEAR_DUPLICATE_DISTANCE {
                    brute.push((i, j));
                }
            }
        }
        assert!(!brute.is_empty());
        assert_eq!(near_duplicate_pairs(&fps), brute);
    }
}
