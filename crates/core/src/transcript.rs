//! Session transcripts: one JSONL file per session under `$CADRE_HOME/sessions/`, appended line
//! by line and flushed as it goes so a crash loses nothing already done.

use cadre_protocol::{ResponseItem, SecurityProfile, TokenUsage};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("cannot write the transcript {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the transcript {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no session to resume in {0}; start one with `cadre exec \"...\"`")]
    NoSessions(PathBuf),
    #[error("no session with id `{id}` in {dir}; list them with `ls {dir}`")]
    NotFound { id: String, dir: PathBuf },
    #[error("{path} is not a cadre transcript: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// The first line of every transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    pub id: String,
    pub created_at: String,
    pub cwd: PathBuf,
    pub model: String,
    pub provider: String,
    pub profile: SecurityProfile,
    pub cadre_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_session_id: Option<String>,
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TranscriptLine {
    SessionMeta(SessionMeta),
    /// A conversation item, in the order the model saw it.
    Item {
        item: ResponseItem,
    },
    TurnStarted {
        turn_id: String,
        ts: String,
    },
    TurnCompleted {
        turn_id: String,
        ts: String,
        usage: TokenUsage,
    },
    /// The turn was interrupted (Ctrl-C) or stopped by a limit.
    TurnAborted {
        turn_id: String,
        ts: String,
        reason: String,
    },
    TurnFailed {
        turn_id: String,
        ts: String,
        error: String,
    },
}

pub struct TranscriptWriter {
    path: PathBuf,
    file: File,
}

impl TranscriptWriter {
    /// A new transcript for a new session.
    pub fn create(sessions_dir: &Path, meta: &SessionMeta) -> Result<Self, TranscriptError> {
        let day = chrono::Utc::now().format("%Y-%m-%dT%H-%M-%S");
        let path = sessions_dir.join(format!("{day}-{}.jsonl", meta.id));
        let write_err = |source| TranscriptError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(sessions_dir).map_err(write_err)?;
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(write_err)?;
        let mut writer = TranscriptWriter { path, file };
        writer.append(&TranscriptLine::SessionMeta(meta.clone()))?;
        Ok(writer)
    }

    /// Reopens an existing transcript to append to it.
    pub fn reopen(path: &Path) -> Result<Self, TranscriptError> {
        let mut file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| TranscriptError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        // A crash may have left half a line; start ours on a fresh one.
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > 0 && !ends_with_newline(path) {
            let _ = file.write_all(b"\n");
        }
        Ok(TranscriptWriter {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and flushes it to the OS in one write.
    pub fn append(&mut self, line: &TranscriptLine) -> Result<(), TranscriptError> {
        let mut bytes = serde_json::to_vec(line).expect("transcript lines serialise");
        bytes.push(b'\n');
        self.file
            .write_all(&bytes)
            .and_then(|_| self.file.flush())
            .map_err(|source| TranscriptError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

fn ends_with_newline(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = File::open(path) else {
        return true;
    };
    if f.seek(SeekFrom::End(-1)).is_err() {
        return true;
    }
    let mut last = [0u8; 1];
    f.read_exact(&mut last).is_ok() && last[0] == b'\n'
}

/// A transcript read back for resuming.
#[derive(Debug, Clone)]
pub struct LoadedTranscript {
    pub path: PathBuf,
    pub meta: SessionMeta,
    pub items: Vec<ResponseItem>,
}

/// Reads a transcript; a torn last line (a crash mid-write) is ignored.
pub fn load(path: &Path) -> Result<LoadedTranscript, TranscriptError> {
    let file = File::open(path).map_err(|source| TranscriptError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut meta = None;
    let mut items = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|source| TranscriptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(parsed) = serde_json::from_str::<TranscriptLine>(&line) else {
            continue;
        };
        match parsed {
            TranscriptLine::SessionMeta(m) => meta = meta.or(Some(m)),
            TranscriptLine::Item { item } => items.push(item),
            _ => {}
        }
    }
    let meta = meta.ok_or_else(|| TranscriptError::Corrupt {
        path: path.to_path_buf(),
        reason: "it has no session_meta line".into(),
    })?;
    Ok(LoadedTranscript {
        path: path.to_path_buf(),
        meta,
        items,
    })
}

/// The most recently modified transcript.
pub fn find_last(sessions_dir: &Path) -> Result<PathBuf, TranscriptError> {
    list(sessions_dir)
        .into_iter()
        .max_by_key(|(_, modified)| *modified)
        .map(|(path, _)| path)
        .ok_or_else(|| TranscriptError::NoSessions(sessions_dir.to_path_buf()))
}

/// The transcript of session `id` (a full id or a unique prefix).
pub fn find_by_id(sessions_dir: &Path, id: &str) -> Result<PathBuf, TranscriptError> {
    let mut matches: Vec<PathBuf> = list(sessions_dir)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.get(20..))
                .is_some_and(|session| session.starts_with(id))
        })
        .collect();
    if matches.len() == 1 {
        return Ok(matches.remove(0));
    }
    Err(TranscriptError::NotFound {
        id: id.to_string(),
        dir: sessions_dir.to_path_buf(),
    })
}

fn list(sessions_dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let Ok(entries) = std::fs::read_dir(sessions_dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .filter_map(|p| {
            let modified = p.metadata().and_then(|m| m.modified()).ok()?;
            Some((p, modified))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> SessionMeta {
        SessionMeta {
            id: id.into(),
            created_at: "now".into(),
            cwd: "/w".into(),
            model: "m".into(),
            provider: "p".into(),
            profile: SecurityProfile::Offline,
            cadre_version: "0".into(),
            parent_session_id: None,
        }
    }

    #[test]
    fn write_then_resume_ignoring_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let id = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
        let mut w = TranscriptWriter::create(dir.path(), &meta(id)).unwrap();
        w.append(&TranscriptLine::Item {
            item: ResponseItem::user("hello"),
        })
        .unwrap();
        let path = w.path().to_path_buf();
        drop(w);
        // Simulate a crash mid-line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"type\":\"item\",\"item\":{\"ty").unwrap();
        drop(f);

        let loaded = load(&path).unwrap();
        assert_eq!(loaded.meta.id, id);
        assert_eq!(loaded.items, vec![ResponseItem::user("hello")]);
        assert_eq!(find_last(dir.path()).unwrap(), path);
        assert_eq!(find_by_id(dir.path(), "0190aaaa").unwrap(), path);
        assert!(find_by_id(dir.path(), "ffff").is_err());

        let mut w = TranscriptWriter::reopen(&path).unwrap();
        w.append(&TranscriptLine::Item {
            item: ResponseItem::assistant("again"),
        })
        .unwrap();
        assert_eq!(load(&path).unwrap().items.len(), 2);
    }
}
