//! Checking a log: every record sealed, every link in place, `seq` counting up by one.
//!
//! Verification streams the files in chain order and stops at the first record that breaks,
//! naming it by file, line and `seq`. An incomplete last line of the last file is what a writer
//! killed mid-append leaves: the log is reported intact up to the record before it. A log whose
//! chain is whole is then held against its head (`head.json`, see [`crate::ChainHead`]) and, when
//! given one, an anchor kept elsewhere: a log that ends before either was cut at the end.

use crate::event::AuditEvent;
use crate::hash_chain::{GENESIS_HASH, claimed_hash, computed_hash};
use crate::head::{ChainHead, StoredHead, read_head};
use crate::log_files::list_log_files;
use crate::record::AuditRecord;
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// A line of a log file (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLocation {
    pub file: PathBuf,
    pub line: u64,
}

impl fmt::Display for RecordLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// What is wrong with the first record that breaks the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// Not a complete sealed record: cut short, corrupted, or not JSON.
    Malformed,
    /// Its content does not match its own hash: it was edited.
    Edited,
    /// Its `prev` is not the hash of the record before it: records before it were deleted,
    /// inserted or reordered, or it was.
    BrokenLink,
    /// Its `seq` does not follow the previous record's.
    SeqGap,
    /// The first record does not link to genesis, and no `retention_applied` record explains
    /// why: the beginning of the log is missing.
    MissingStart,
}

impl BreakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakKind::Malformed => "malformed",
            BreakKind::Edited => "edited",
            BreakKind::BrokenLink => "broken link",
            BreakKind::SeqGap => "seq gap",
            BreakKind::MissingStart => "missing start",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub location: RecordLocation,
    /// The record's `seq`, when it could be read.
    pub seq: Option<u64>,
    pub kind: BreakKind,
    /// What is wrong, in words.
    pub detail: String,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seq {
            Some(seq) => write!(
                f,
                "{} (seq {seq}): {}: {}",
                self.location,
                self.kind.as_str(),
                self.detail
            ),
            None => write!(
                f,
                "{}: {}: {}",
                self.location,
                self.kind.as_str(),
                self.detail
            ),
        }
    }
}

/// How the verified chain begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStart {
    /// At the genesis value: the log is complete from its first record.
    Genesis,
    /// After files deleted by retention, as a `retention_applied` record in the chain attests.
    AfterRetention,
    /// Part-way through a chain whose beginning was not among the files checked.
    Unchecked { prev: String },
}

/// A last line without its newline: a write that was interrupted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteTail {
    pub location: RecordLocation,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    pub files: Vec<PathBuf>,
    /// Complete records checked and found intact (those before `problem`, if any).
    pub records: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// The hash of the last intact record: note it elsewhere to detect later truncation.
    pub last_hash: Option<String>,
    pub start: Option<ChainStart>,
    pub incomplete_tail: Option<IncompleteTail>,
    pub problem: Option<ChainBreak>,
    /// The log's end held against the directory's head file; `None` when not checked (files
    /// checked on their own, or a break before the end).
    pub head: Option<HeadCheck>,
    /// The log's end held against the anchor given; `None` when none was given or not checked.
    pub anchor: Option<HeadCheck>,
}

impl VerifyReport {
    /// No record breaks the chain (an incomplete last line is not a break), and the log reaches
    /// its head and the anchor given.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
            && self.head.as_ref().is_none_or(HeadCheck::is_ok)
            && self.anchor.as_ref().is_none_or(HeadCheck::is_ok)
    }
}

/// How the end of an unbroken chain compares with a head: the head file, or an anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadCheck {
    /// The log reaches the head, and its record at the head's `seq` has the head's hash.
    Reached(ChainHead),
    /// The log ends before the head: the records `first_missing..=last_missing` were cut off.
    CutTail {
        head: ChainHead,
        first_missing: u64,
        last_missing: u64,
    },
    /// The log's record at the head's `seq` has another hash: the log was rewritten at or before
    /// that record.
    Diverged { head: ChainHead, found: String },
    /// The head's record is older than the oldest record kept (deleted by retention): there is
    /// nothing left to hold it against.
    BeforeStart { head: ChainHead, first_seq: u64 },
    /// There is no head file: a log written before heads were kept, or the file was deleted.
    Missing,
    /// The head file is not a head.
    Unreadable { detail: String },
}

impl HeadCheck {
    /// Whether the head gives no reason to doubt the log's end.
    pub fn is_ok(&self) -> bool {
        matches!(
            self,
            HeadCheck::Reached(_) | HeadCheck::BeforeStart { .. } | HeadCheck::Missing
        )
    }
}

/// Verifies every log file of `dir`, in order, from the chain's start, and holds its end against
/// the head file.
pub fn verify_dir(dir: &Path) -> std::io::Result<VerifyReport> {
    verify_dir_with_anchor(dir, None)
}

/// As [`verify_dir`], and holds the log's end against `anchor` too (a head kept elsewhere).
pub fn verify_dir_with_anchor(
    dir: &Path,
    anchor: Option<&ChainHead>,
) -> std::io::Result<VerifyReport> {
    // The head first, then the files: a writer appending meanwhile only makes the files longer
    // than the head read, never shorter.
    let head = read_head(dir)?;
    let files = list_log_files(dir)?;
    verify_chain(&files, true, Some(head), anchor)
}

/// Verifies the given files as one chain, in the order given. Their first record may link to a
/// file not given (reported as [`ChainStart::Unchecked`]).
pub fn verify_files(files: &[PathBuf]) -> std::io::Result<VerifyReport> {
    verify_files_with_anchor(files, None)
}

/// As [`verify_files`], and holds the chain's end against `anchor`.
pub fn verify_files_with_anchor(
    files: &[PathBuf],
    anchor: Option<&ChainHead>,
) -> std::io::Result<VerifyReport> {
    verify_chain(files, false, None, anchor)
}

struct ChainState {
    last_hash: Option<String>,
    last_seq: u64,
    start_prev: Option<String>,
    first_location: Option<RecordLocation>,
    retention_vouches: HashSet<String>,
}

fn verify_chain(
    files: &[PathBuf],
    require_start: bool,
    stored_head: Option<StoredHead>,
    anchor: Option<&ChainHead>,
) -> std::io::Result<VerifyReport> {
    let head = match &stored_head {
        Some(StoredHead::Found(head)) => Some(head),
        _ => None,
    };
    // The hashes the chain has at the head's and the anchor's seq, caught on the way through.
    let mut at_head: Option<String> = None;
    let mut at_anchor: Option<String> = None;
    let mut report = VerifyReport {
        files: files.to_vec(),
        ..VerifyReport::default()
    };
    let mut state = ChainState {
        last_hash: None,
        last_seq: 0,
        start_prev: None,
        first_location: None,
        retention_vouches: HashSet::new(),
    };
    'files: for (file_index, path) in files.iter().enumerate() {
        let is_last_file = file_index + 1 == files.len();
        let mut reader = BufReader::new(File::open(path)?);
        let mut raw = Vec::new();
        let mut line_number = 0u64;
        loop {
            raw.clear();
            if reader.read_until(b'\n', &mut raw)? == 0 {
                break;
            }
            line_number += 1;
            let location = RecordLocation {
                file: path.clone(),
                line: line_number,
            };
            if raw.last() != Some(&b'\n') {
                if is_last_file {
                    report.incomplete_tail = Some(IncompleteTail {
                        location,
                        bytes: raw.len() as u64,
                    });
                } else {
                    report.problem = Some(ChainBreak {
                        location,
                        seq: None,
                        kind: BreakKind::Malformed,
                        detail: "the last line of this file is cut short, yet later files continue the log".into(),
                    });
                }
                break 'files;
            }
            raw.pop();
            match check_line(&raw, location, &mut state) {
                Ok(seq) => {
                    if head.is_some_and(|h| h.seq == seq) {
                        at_head.clone_from(&state.last_hash);
                    }
                    if anchor.is_some_and(|a| a.seq == seq) {
                        at_anchor.clone_from(&state.last_hash);
                    }
                    report.records += 1;
                    report.first_seq.get_or_insert(seq);
                    report.last_seq = Some(seq);
                    report.last_hash = state.last_hash.clone();
                }
                Err(problem) => {
                    report.problem = Some(problem);
                    break 'files;
                }
            }
        }
    }
    report.start = state.start_prev.as_ref().map(|prev| {
        if prev == GENESIS_HASH {
            ChainStart::Genesis
        } else if state.retention_vouches.contains(prev) {
            ChainStart::AfterRetention
        } else {
            ChainStart::Unchecked { prev: prev.clone() }
        }
    });
    if require_start
        && report.problem.is_none()
        && let Some(ChainStart::Unchecked { prev }) = &report.start
    {
        report.problem = Some(ChainBreak {
            location: state
                .first_location
                .clone()
                .expect("a start implies a first record"),
            seq: report.first_seq,
            kind: BreakKind::MissingStart,
            detail: format!(
                "the first record links to {prev}, not to genesis, and no retention_applied record accounts for the records before it: earlier records or files were deleted"
            ),
        });
        report.records = 0;
        report.last_hash = None;
        report.last_seq = None;
    }
    if report.problem.is_none() {
        report.head = stored_head.map(|stored| match stored {
            StoredHead::Missing => HeadCheck::Missing,
            StoredHead::Unreadable(detail) => HeadCheck::Unreadable { detail },
            StoredHead::Found(head) => check_head(&report, head, at_head),
        });
        report.anchor = anchor.map(|anchor| check_head(&report, anchor.clone(), at_anchor));
    }
    Ok(report)
}

/// Holds an unbroken chain's end against `head`; `found` is the chain's hash at the head's seq.
fn check_head(report: &VerifyReport, head: ChainHead, found: Option<String>) -> HeadCheck {
    let last_seq = report.last_seq.unwrap_or(0);
    if head.seq > last_seq {
        return HeadCheck::CutTail {
            first_missing: last_seq + 1,
            last_missing: head.seq,
            head,
        };
    }
    match found {
        Some(found) if found == head.hash => HeadCheck::Reached(head),
        Some(found) => HeadCheck::Diverged { head, found },
        None => HeadCheck::BeforeStart {
            head,
            first_seq: report.first_seq.unwrap_or(0),
        },
    }
}

/// Checks one line (without newline) against the chain so far; returns its `seq`.
fn check_line(
    raw: &[u8],
    location: RecordLocation,
    state: &mut ChainState,
) -> Result<u64, ChainBreak> {
    let malformed = |detail: String, seq: Option<u64>| ChainBreak {
        location: location.clone(),
        seq,
        kind: BreakKind::Malformed,
        detail,
    };
    let Ok(line) = std::str::from_utf8(raw) else {
        return Err(malformed("the line is not UTF-8".into(), None));
    };
    let Some(claimed) = claimed_hash(line) else {
        return Err(malformed(
            "the line does not end with a hash member: cut short or not a record".into(),
            None,
        ));
    };
    #[derive(serde::Deserialize)]
    struct Link {
        seq: u64,
        prev: String,
        hash: String,
    }
    let link: Link = serde_json::from_str(line)
        .map_err(|err| malformed(format!("the line is not a valid record: {err}"), None))?;
    if link.hash != claimed {
        return Err(malformed(
            "the hash member is duplicated".into(),
            Some(link.seq),
        ));
    }
    if computed_hash(line).as_deref() != Some(claimed) {
        return Err(ChainBreak {
            location,
            seq: Some(link.seq),
            kind: BreakKind::Edited,
            detail:
                "the record's content does not match its hash: it was edited after it was written"
                    .into(),
        });
    }
    match &state.last_hash {
        None => {
            state.start_prev = Some(link.prev.clone());
            state.first_location = Some(location.clone());
        }
        Some(expected_prev) if *expected_prev != link.prev => {
            let expected_seq = state.last_seq + 1;
            let detail = if link.seq > expected_seq {
                format!(
                    "its prev is not the hash of the record before it; seq {expected_seq} was expected, so {} record(s) before it are missing",
                    link.seq - expected_seq
                )
            } else if link.seq < expected_seq {
                format!(
                    "its prev is not the hash of the record before it; seq {expected_seq} was expected: the record was moved or inserted here"
                )
            } else {
                "its prev is not the hash of the record before it: the record before it was replaced or inserted, or this one was".into()
            };
            return Err(ChainBreak {
                location,
                seq: Some(link.seq),
                kind: BreakKind::BrokenLink,
                detail,
            });
        }
        Some(_) if link.seq != state.last_seq + 1 => {
            return Err(ChainBreak {
                location,
                seq: Some(link.seq),
                kind: BreakKind::SeqGap,
                detail: format!(
                    "seq {} was expected after seq {}",
                    state.last_seq + 1,
                    state.last_seq
                ),
            });
        }
        Some(_) => {}
    }
    if line.contains("\"event\":\"retention_applied\"")
        && let Ok(record) = AuditRecord::parse(line)
        && let AuditEvent::RetentionApplied(retention) = record.event
    {
        state.retention_vouches.insert(retention.first_kept_prev);
    }
    state.last_hash = Some(link.hash);
    state.last_seq = link.seq;
    Ok(link.seq)
}
