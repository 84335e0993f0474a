//! How a record line is sealed and checked.
//!
//! A line is a JSON object whose last member is `"hash"`. The hash is the SHA-256 (lower-case
//! hex) of the line's bytes with that last member removed: everything before `,"hash":"…"`
//! followed by the closing `}`. Hashing the exact bytes (rather than a re-serialisation) means no
//! canonical JSON form is needed to check a record, in any language. Each record's `prev` is the
//! `hash` of the record before it in the one chain that runs through all files in order; the first
//! record ever written links to [`GENESIS_HASH`].

use sha2::{Digest, Sha256};

/// The `prev` of the first record of a log.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const HASH_MEMBER_PREFIX: &str = ",\"hash\":\"";
/// `,"hash":"` + 64 hex digits + `"}`.
const HASH_SUFFIX_LEN: usize = HASH_MEMBER_PREFIX.len() + 64 + 2;

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Seals an unsealed record object (`{…,"prev":"…"}`, no trailing newline) by appending its hash
/// member. Returns the sealed line and the hash.
pub fn seal(unsealed: &str) -> (String, String) {
    debug_assert!(unsealed.ends_with('}'));
    let hash = sha256_hex(unsealed.as_bytes());
    let mut line = String::with_capacity(unsealed.len() + HASH_SUFFIX_LEN);
    line.push_str(&unsealed[..unsealed.len() - 1]);
    line.push_str(HASH_MEMBER_PREFIX);
    line.push_str(&hash);
    line.push_str("\"}");
    (line, hash)
}

/// The hash a sealed line claims, if the line ends with a well-formed hash member.
pub fn claimed_hash(line: &str) -> Option<&str> {
    if line.len() < HASH_SUFFIX_LEN || !line.ends_with("\"}") {
        return None;
    }
    let suffix_start = line.len() - HASH_SUFFIX_LEN;
    if !line.is_char_boundary(suffix_start) || !line[suffix_start..].starts_with(HASH_MEMBER_PREFIX)
    {
        return None;
    }
    let hash = &line[suffix_start + HASH_MEMBER_PREFIX.len()..line.len() - 2];
    hash.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        .then_some(hash)
}

/// The hash the line's content actually has (recomputed), if it has a hash member to strip.
pub fn computed_hash(line: &str) -> Option<String> {
    claimed_hash(line)?;
    let body = &line[..line.len() - HASH_SUFFIX_LEN];
    let mut hasher = Sha256::new();
    hasher.update(body.as_bytes());
    hasher.update(b"}");
    Some(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_check_round_trips() {
        let (line, hash) = seal(r#"{"v":1,"seq":1,"prev":"00"}"#);
        assert_eq!(claimed_hash(&line), Some(hash.as_str()));
        assert_eq!(computed_hash(&line).as_deref(), Some(hash.as_str()));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["hash"], hash.as_str());
    }

    #[test]
    fn an_edit_changes_the_computed_hash() {
        let (line, hash) = seal(r#"{"v":1,"seq":1,"prev":"00"}"#);
        let edited = line.replace("\"seq\":1", "\"seq\":2");
        assert_eq!(claimed_hash(&edited), Some(hash.as_str()));
        assert_ne!(computed_hash(&edited).as_deref(), Some(hash.as_str()));
    }

    #[test]
    fn a_line_without_hash_member_has_no_claim() {
        assert_eq!(claimed_hash(r#"{"v":1}"#), None);
        assert_eq!(claimed_hash(""), None);
    }
}
