//! The head: where the chain stood after the last durable batch, kept apart from the log files.
//!
//! The chain itself proves that no record was edited, removed, inserted or moved *before* its
//! last record, but nothing inside the files can tell that records were cut off the end. The
//! head can: `head.json` in the log directory holds the `seq` and `hash` of the last record of
//! the last durable batch, and `verify` reports a log that ends before it. The writer overwrites
//! it in place (one `pwrite` of a fixed-size line: no rename, no new directory entry) under the
//! directory lock, after the batch is written and flushed, so the head may lag the log but never
//! lead it: a writer that dies between its append and the head update leaves the previous head,
//! which the log still reaches. Readers take the lock shared, so they never see half a head. The
//! same [`ChainHead`] printed by `cadre audit anchor` and kept elsewhere is an anchor: a head
//! that someone who can rewrite the directory cannot rewrite.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::str::FromStr;

/// The name of the head file in the log directory.
pub const HEAD_FILE_NAME: &str = "head.json";

/// The head file's size: the JSON padded with spaces, then a newline. Fixed, so that one write
/// at offset 0 replaces the whole head and nothing has to be truncated.
const HEAD_FILE_LEN: usize = 128;

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

/// Reads `dir/head.json`, under the directory lock held shared (see [`crate::file_lock`]) so
/// that a writer's update is seen whole or not at all.
pub(crate) fn read_head(dir: &Path) -> io::Result<StoredHead> {
    let _shared = crate::file_lock::lock_shared_if_present(dir)?;
    let text = match std::fs::read_to_string(dir.join(HEAD_FILE_NAME)) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(StoredHead::Missing),
        Err(err) if err.kind() == io::ErrorKind::InvalidData => {
            return Ok(StoredHead::Unreadable("the file is not UTF-8".into()));
        }
        Err(err) => return Err(err),
    };
    if text.trim().is_empty() {
        // A writer that died between creating the file and its first write: no head yet.
        return Ok(StoredHead::Missing);
    }
    Ok(match text.parse::<ChainHead>() {
        Ok(head) => StoredHead::Found(head),
        Err(err) => StoredHead::Unreadable(err.to_string()),
    })
}

/// Overwrites `dir/head.json` with `head`; the caller holds the directory lock. Not flushed to
/// the device: after a power cut the head may be the previous one (it lags, which `verify`
/// accepts), never one ahead of the records flushed before it.
pub(crate) fn write_head(dir: &Path, head: &ChainHead) -> io::Result<()> {
    let json = serde_json::to_string(head).expect("a head serialises");
    let mut line = format!("{json:<width$}", width = HEAD_FILE_LEN - 1).into_bytes();
    line.push(b'\n');
    debug_assert_eq!(line.len(), HEAD_FILE_LEN, "a head fits its fixed size");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(dir.join(HEAD_FILE_NAME))?;
    file.write_all_at(&line, 0)?;
    if file.metadata()?.len() != line.len() as u64 {
        // Longer than a head (written by something else): drop the rest.
        file.set_len(line.len() as u64)?;
    }
    Ok(())
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
        write_head(dir.path(), &ChainHead::new(123_456, HASH)).unwrap();
        write_head(dir.path(), &ChainHead::new(2, HASH)).unwrap();
        assert_eq!(
            read_head(dir.path()).unwrap(),
            StoredHead::Found(ChainHead::new(2, HASH))
        );
        let path = dir.path().join(HEAD_FILE_NAME);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            HEAD_FILE_LEN as u64
        );
        // The largest head there can be still fits.
        write_head(dir.path(), &ChainHead::new(u64::MAX, HASH)).unwrap();
        assert_eq!(
            read_head(dir.path()).unwrap(),
            StoredHead::Found(ChainHead::new(u64::MAX, HASH))
        );
        std::fs::write(&path, format!("{}\n", "x".repeat(500))).unwrap();
        write_head(dir.path(), &ChainHead::new(3, HASH)).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            HEAD_FILE_LEN as u64
        );
        std::fs::write(&path, "").unwrap();
        assert_eq!(read_head(dir.path()).unwrap(), StoredHead::Missing);
        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(
            read_head(dir.path()).unwrap(),
            StoredHead::Unreadable(_)
        ));
    }
}
