//! The head: where the chain stood after the last durable batch, kept apart from the log files.
//!
//! The chain itself proves that no record was edited, removed, inserted or moved *before* its
//! last record, but nothing inside the files can tell that records were cut off the end. The
//! head can: `head.json` in the log directory holds the `seq` and `hash` of the last record of
//! the last durable batch, and `verify` reports a log that ends before it. The writer replaces
//! it (write a temporary file, then `rename`) under the directory lock, after the batch is
//! written and flushed, so the head may lag the log but never lead it: a writer that dies
//! between its append and the head update leaves the previous head, which the log still
//! reaches. The same [`ChainHead`] printed by `cadre audit anchor` and kept elsewhere is an
//! anchor: a head that someone who can rewrite the directory cannot rewrite.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;

/// The name of the head file in the log directory.
pub const HEAD_FILE_NAME: &str = "head.json";
const HEAD_TMP_NAME: &str = "head.json.tmp";

/// The version of the head file's format (its `v` member), documented in `docs/audit-log.md`.
pub const HEAD_VERSION: u32 = 1;

/// A position in the chain: the `seq` of a record and its `hash`.
///
/// Stored in `head.json` as `{"v":1,"seq":42,"hash":"…"}`; printed as an anchor either as that
/// JSON or as `42:<hash>`, and parsed back from both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainHead {
    /// [`HEAD_VERSION`] when written by this crate.
    pub v: u32,
    pub seq: u64,
    pub hash: String,
}

impl ChainHead {
    pub fn new(seq: u64, hash: impl Into<String>) -> Self {
        ChainHead {
            v: HEAD_VERSION,
            seq,
            hash: hash.into(),
        }
    }
}

/// `seq:hash`, the short form of an anchor.
impl fmt::Display for ChainHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// Why a text is not a head.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadParseError {
    #[error("not a head: expected `SEQ:HASH` (as `cadre audit anchor` prints it) or its JSON form")]
    Shape,
    #[error("the head's hash is not 64 lower-case hex digits")]
    Hash,
    #[error("head format version {0} is not known to this cadre (it knows version {HEAD_VERSION})")]
    Version(u32),
}

impl FromStr for ChainHead {
    type Err = HeadParseError;

    fn from_str(text: &str) -> Result<ChainHead, HeadParseError> {
        let text = text.trim();
        let head = if text.starts_with('{') {
            serde_json::from_str::<ChainHead>(text).map_err(|_| HeadParseError::Shape)?
        } else {
            let (seq, hash) = text.split_once(':').ok_or(HeadParseError::Shape)?;
            ChainHead::new(
                seq.parse().map_err(|_| HeadParseError::Shape)?,
                hash.to_string(),
            )
        };
        if head.v != HEAD_VERSION {
            return Err(HeadParseError::Version(head.v));
        }
        let hex = head.hash.len() == 64
            && head
                .hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(HeadParseError::Hash);
        }
        Ok(head)
    }
}

/// What reading the head file of a directory found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredHead {
    /// No head file: a log written before heads were kept, or the file was deleted.
    Missing,
    Found(ChainHead),
    /// The file exists but is not a head.
    Unreadable(String),
}

/// Reads `dir/head.json`.
pub(crate) fn read_head(dir: &Path) -> io::Result<StoredHead> {
    let text = match std::fs::read_to_string(dir.join(HEAD_FILE_NAME)) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(StoredHead::Missing),
        Err(err) if err.kind() == io::ErrorKind::InvalidData => {
            return Ok(StoredHead::Unreadable("the file is not UTF-8".into()));
        }
        Err(err) => return Err(err),
    };
    Ok(match text.parse::<ChainHead>() {
        Ok(head) => StoredHead::Found(head),
        Err(err) => StoredHead::Unreadable(err.to_string()),
    })
}

/// Replaces `dir/head.json` with `head`, atomically: readers see the old head or the new one.
/// Not flushed to the device: after a power cut the head may be the previous one (it lags, which
/// `verify` accepts), never one ahead of the records flushed before it.
pub(crate) fn write_head(dir: &Path, head: &ChainHead) -> io::Result<()> {
    let mut line = serde_json::to_string(head).expect("a head serialises");
    line.push('\n');
    let tmp = dir.join(HEAD_TMP_NAME);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(line.as_bytes())?;
    drop(file);
    std::fs::rename(&tmp, dir.join(HEAD_FILE_NAME))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "9c1e000000000000000000000000000000000000000000000000000000000abc";

    #[test]
    fn both_printed_forms_parse_back() {
        let head = ChainHead::new(42, HASH);
        assert_eq!(head.to_string().parse::<ChainHead>(), Ok(head.clone()));
        let json = serde_json::to_string(&head).unwrap();
        assert_eq!(json, format!("{{\"v\":1,\"seq\":42,\"hash\":\"{HASH}\"}}"));
        assert_eq!(format!(" {json}\n").parse::<ChainHead>(), Ok(head));
    }

    #[test]
    fn malformed_heads_are_refused_with_the_reason() {
        assert_eq!("42".parse::<ChainHead>(), Err(HeadParseError::Shape));
        assert_eq!("x:abc".parse::<ChainHead>(), Err(HeadParseError::Shape));
        assert_eq!("42:abc".parse::<ChainHead>(), Err(HeadParseError::Hash));
        let future = format!("{{\"v\":2,\"seq\":1,\"hash\":\"{HASH}\"}}");
        assert_eq!(future.parse::<ChainHead>(), Err(HeadParseError::Version(2)));
    }

    #[test]
    fn a_written_head_reads_back_and_replaces_the_last() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_head(dir.path()).unwrap(), StoredHead::Missing);
        write_head(dir.path(), &ChainHead::new(1, HASH)).unwrap();
        write_head(dir.path(), &ChainHead::new(2, HASH)).unwrap();
        assert_eq!(
            read_head(dir.path()).unwrap(),
            StoredHead::Found(ChainHead::new(2, HASH))
        );
        assert!(!dir.path().join(HEAD_TMP_NAME).exists());
        std::fs::write(dir.path().join(HEAD_FILE_NAME), "garbage").unwrap();
        assert!(matches!(
            read_head(dir.path()).unwrap(),
            StoredHead::Unreadable(_)
        ));
    }
}
