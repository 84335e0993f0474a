//! The files of a log directory: their names, their order, and reading the chain's tail.
//!
//! Files are named `audit-YYYY-MM-DD-NNNN.jsonl` (UTC date, then a counter for size rotation), and
//! the chain runs through them in (date, counter) order.

use crate::hash_chain::{claimed_hash, sha256_hex};
use chrono::NaiveDate;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The name of the `index`th file of `date`.
pub fn log_file_name(date: NaiveDate, index: u32) -> String {
    format!("audit-{}-{index:04}.jsonl", date.format("%Y-%m-%d"))
}

/// The (date, index) of a log file name, or `None` for files that are not part of the log.
pub fn parse_log_file_name(name: &str) -> Option<(NaiveDate, u32)> {
    let stem = name.strip_prefix("audit-")?.strip_suffix(".jsonl")?;
    let (date, index) = stem.rsplit_once('-')?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some((date, index.parse().ok()?))
}

/// The log files of `dir`, oldest first. A missing directory has none.
pub fn list_log_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(key) = name.to_str().and_then(parse_log_file_name) {
            files.push((key, entry.path()));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, path)| path).collect())
}

/// Where the chain stands at the end of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileTail {
    /// The hash of the last complete record (or of the raw line, if it is not a record).
    pub last_hash: Option<String>,
    pub last_seq: u64,
    /// Bytes up to and including the last newline.
    pub complete_len: u64,
    /// Bytes after the last newline: an interrupted write.
    pub incomplete_len: u64,
}

const CHUNK: u64 = 64 * 1024;

/// Reads the last complete line of `file` and how many bytes trail it without a newline.
pub(crate) fn read_file_tail(file: &File) -> io::Result<FileTail> {
    let len = file.metadata()?.len();
    let complete_len = line_start_before(file, len)?;
    let mut tail = FileTail {
        last_hash: None,
        last_seq: 0,
        complete_len,
        incomplete_len: len - complete_len,
    };
    if complete_len == 0 {
        return Ok(tail);
    }
    let line_end = complete_len - 1;
    let line_start = line_start_before(file, line_end)?;
    let mut line = vec![0; (line_end - line_start) as usize];
    file.read_exact_at(&mut line, line_start)?;
    let text = String::from_utf8_lossy(&line);
    tail.last_hash = Some(
        claimed_hash(&text)
            .map(str::to_string)
            .unwrap_or_else(|| sha256_hex(&line)),
    );
    tail.last_seq = record_seq(&text).unwrap_or(0);
    Ok(tail)
}

/// The `seq` member of a record line.
pub(crate) fn record_seq(line: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: u64,
    }
    serde_json::from_str::<Seq>(line).ok().map(|s| s.seq)
}

/// The position just after the last `\n` before `end` (0 when there is none).
fn line_start_before(file: &File, end: u64) -> io::Result<u64> {
    let mut chunk_end = end;
    let mut buf = vec![0u8; CHUNK as usize];
    while chunk_end > 0 {
        let chunk_start = chunk_end.saturating_sub(CHUNK);
        let chunk = &mut buf[..(chunk_end - chunk_start) as usize];
        file.read_exact_at(chunk, chunk_start)?;
        if let Some(pos) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(chunk_start + pos as u64 + 1);
        }
        chunk_end = chunk_start;
    }
    Ok(0)
}

/// The first line of a file, if it has a complete one.
pub(crate) fn read_first_line(path: &Path) -> io::Result<Option<String>> {
    use std::io::BufRead;
    let mut reader = io::BufReader::new(File::open(path)?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    Ok(line.strip_suffix('\n').map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn names_round_trip_and_sort_by_date_then_index() {
        let d1 = NaiveDate::from_ymd_opt(2025, 1, 31).unwrap();
        let d2 = NaiveDate::from_ymd_opt(2025, 2, 1).unwrap();
        assert_eq!(parse_log_file_name(&log_file_name(d1, 12)), Some((d1, 12)));
        assert_eq!(parse_log_file_name("notes.txt"), None);
        let dir = tempfile::tempdir().unwrap();
        for name in [
            log_file_name(d2, 0),
            log_file_name(d1, 10),
            log_file_name(d1, 2),
        ] {
            File::create(dir.path().join(name)).unwrap();
        }
        File::create(dir.path().join(".lock")).unwrap();
        let names: Vec<_> = list_log_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "audit-2025-01-31-0002.jsonl",
                "audit-2025-01-31-0010.jsonl",
                "audit-2025-02-01-0000.jsonl"
            ]
        );
    }

    #[test]
    fn tail_finds_the_last_complete_line_and_the_incomplete_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut f = File::create(&path).unwrap();
        f.write_all(b"{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3")
            .unwrap();
        let tail = read_file_tail(&File::open(&path).unwrap()).unwrap();
        assert_eq!(tail.last_seq, 2);
        assert_eq!(tail.complete_len, 20);
        assert_eq!(tail.incomplete_len, 8);
        assert_eq!(
            tail.last_hash.as_deref(),
            Some(sha256_hex(b"{\"seq\":2}").as_str())
        );
    }

    #[test]
    fn tail_of_an_empty_file_has_no_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        File::create(&path).unwrap();
        let tail = read_file_tail(&File::open(&path).unwrap()).unwrap();
        assert_eq!(
            tail,
            FileTail {
                last_hash: None,
                last_seq: 0,
                complete_len: 0,
                incomplete_len: 0
            }
        );
    }
}
