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
    #[error(
        "no session of yours was started in {cwd}; `cadre sessions --all` lists those of every directory, `cadre exec resume --last --all` continues the latest of them"
    )]
    NoSessionsHere { cwd: PathBuf },
    #[error("no session with id `{id}` in {dir}; `cadre sessions --all` lists them")]
    NotFound { id: String, dir: PathBuf },
    #[error("the session id `{id}` is ambiguous; it matches {}:\n{}\ngive more of the id", candidates.len(), candidates.join("\n"))]
    Ambiguous { id: String, candidates: Vec<String> },
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
        /// The reason in words.
        reason: String,
        /// The reason as a type (absent in transcripts of older versions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<cadre_protocol::AbortReason>,
        #[serde(default)]
        usage: TokenUsage,
    },
    TurnFailed {
        turn_id: String,
        ts: String,
        error: String,
        #[serde(default)]
        usage: TokenUsage,
    },
    /// A resume moved the session to another directory or profile; the model was told.
    EnvironmentChanged {
        ts: String,
        cwd: PathBuf,
        profile: SecurityProfile,
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
    /// Where the session works now: its start directory unless a resume moved it.
    pub cwd: PathBuf,
    /// The profile it runs under now: its start profile unless a resume changed it.
    pub profile: SecurityProfile,
}

/// Reads a transcript; a torn last line (a crash mid-write) is ignored.
pub fn load(path: &Path) -> Result<LoadedTranscript, TranscriptError> {
    let (meta, lines) = read_lines(path)?;
    let mut loaded = LoadedTranscript {
        path: path.to_path_buf(),
        cwd: meta.cwd.clone(),
        profile: meta.profile,
        meta,
        items: Vec::new(),
    };
    for line in lines {
        match line {
            TranscriptLine::Item { item } => loaded.items.push(item),
            TranscriptLine::EnvironmentChanged { cwd, profile, .. } => {
                loaded.cwd = cwd;
                loaded.profile = profile;
            }
            _ => {}
        }
    }
    Ok(loaded)
}

/// The session's first line and every line after it, in order; lines that do not parse (a torn
/// last line) are skipped.
pub fn read_lines(path: &Path) -> Result<(SessionMeta, Vec<TranscriptLine>), TranscriptError> {
    let file = File::open(path).map_err(|source| TranscriptError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut meta = None;
    let mut lines = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|source| TranscriptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<TranscriptLine>(&line) {
            Ok(TranscriptLine::SessionMeta(m)) => meta = meta.or(Some(m)),
            Ok(parsed) => lines.push(parsed),
            Err(_) => {}
        }
    }
    let meta = meta.ok_or_else(|| TranscriptError::Corrupt {
        path: path.to_path_buf(),
        reason: "it has no session_meta line".into(),
    })?;
    Ok((meta, lines))
}

/// The calls of `items` that have no output (cadre stopped before they finished), in order.
pub fn dangling_calls(items: &[ResponseItem]) -> Vec<String> {
    let answered: std::collections::HashSet<&str> = items
        .iter()
        .filter_map(|item| match item {
            ResponseItem::FunctionCallOutput { call_id, .. } => Some(call_id.as_str()),
            _ => None,
        })
        .collect();
    items
        .iter()
        .filter_map(|item| match item {
            ResponseItem::FunctionCall { call_id, .. } if !answered.contains(call_id.as_str()) => {
                Some(call_id.clone())
            }
            _ => None,
        })
        .collect()
}

/// The id cadre shows in tables: the last, random group of the UUID (its first groups are a
/// timestamp, shared by sessions started within a minute). Resume accepts it.
pub fn short_id(id: &str) -> &str {
    id.rsplit('-').next().unwrap_or(id)
}

/// What a session listing shows of one transcript.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub path: PathBuf,
    pub meta: SessionMeta,
    /// Where the session works now (see [`LoadedTranscript::cwd`]).
    pub cwd: PathBuf,
    /// The task of its first turn.
    pub first_prompt: Option<String>,
    pub turns: usize,
    pub usage: TokenUsage,
    pub modified: std::time::SystemTime,
}

impl SessionSummary {
    fn read(path: &Path, modified: std::time::SystemTime) -> Result<Self, TranscriptError> {
        let (meta, lines) = read_lines(path)?;
        let mut summary = SessionSummary {
            path: path.to_path_buf(),
            cwd: meta.cwd.clone(),
            meta,
            first_prompt: None,
            turns: 0,
            usage: TokenUsage::default(),
            modified,
        };
        // The user message right after a turn starts is its task (earlier user messages are
        // the AGENTS.md and environment context).
        let mut after_turn_start = false;
        for line in lines {
            match line {
                TranscriptLine::TurnStarted { .. } => {
                    summary.turns += 1;
                    after_turn_start = true;
                    continue;
                }
                TranscriptLine::Item {
                    item:
                        ResponseItem::Message {
                            role: cadre_protocol::Role::User,
                            content,
                        },
                } if after_turn_start && summary.first_prompt.is_none() => {
                    summary.first_prompt = Some(content);
                }
                TranscriptLine::TurnCompleted { usage, .. }
                | TranscriptLine::TurnAborted { usage, .. }
                | TranscriptLine::TurnFailed { usage, .. } => summary.usage.add(&usage),
                TranscriptLine::EnvironmentChanged { cwd, .. } => summary.cwd = cwd,
                _ => {}
            }
            after_turn_start = false;
        }
        Ok(summary)
    }

    /// Whether a person started it (not a supervisor for one of its agents).
    pub fn is_top_level(&self) -> bool {
        self.meta.parent_session_id.is_none()
    }

    /// Whether it works in `dir`.
    pub fn works_in(&self, dir: &Path) -> bool {
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        self.cwd == dir || canonical(&self.cwd) == canonical(dir)
    }

    /// One line naming the session, for lists of candidates.
    pub fn describe(&self) -> String {
        let prompt = self.first_prompt.as_deref().unwrap_or("").trim();
        let prompt: String = prompt.chars().take(60).collect();
        format!(
            "  {}  {}  {}  {}",
            short_id(&self.meta.id),
            self.meta.id,
            self.cwd.display(),
            prompt.replace('\n', " ")
        )
    }
}

/// Every readable transcript in `sessions_dir`, the most recently active first.
pub fn list_sessions(sessions_dir: &Path) -> Vec<SessionSummary> {
    let mut sessions: Vec<SessionSummary> = list(sessions_dir)
        .into_iter()
        .filter_map(|(path, modified)| SessionSummary::read(&path, modified).ok())
        .collect();
    sessions.sort_by_key(|s| std::cmp::Reverse(s.modified));
    sessions
}

/// The most recently active session a person started in `cwd` (in any directory when `cwd` is
/// `None`); sub-agents' sessions are skipped.
pub fn find_last(sessions_dir: &Path, cwd: Option<&Path>) -> Result<PathBuf, TranscriptError> {
    let sessions = list_sessions(sessions_dir);
    let found = sessions
        .iter()
        .filter(|s| s.is_top_level())
        .find(|s| cwd.is_none_or(|dir| s.works_in(dir)));
    match (found, cwd) {
        (Some(session), _) => Ok(session.path.clone()),
        (None, Some(dir)) if sessions.iter().any(SessionSummary::is_top_level) => {
            Err(TranscriptError::NoSessionsHere {
                cwd: dir.to_path_buf(),
            })
        }
        (None, _) => Err(TranscriptError::NoSessions(sessions_dir.to_path_buf())),
    }
}

/// The transcript of session `id`: a full id, a prefix of one, or the short id cadre shows (or
/// a prefix of it). More than one match is an error that lists them.
pub fn find_by_id(sessions_dir: &Path, id: &str) -> Result<PathBuf, TranscriptError> {
    let query = id.trim().to_ascii_lowercase();
    let mut matches: Vec<SessionSummary> = if query.is_empty() {
        Vec::new()
    } else {
        list_sessions(sessions_dir)
            .into_iter()
            .filter(|s| s.meta.id.starts_with(&query) || short_id(&s.meta.id).starts_with(&query))
            .collect()
    };
    // A full id is never ambiguous.
    if let Some(exact) = matches.iter().position(|s| s.meta.id == query) {
        return Ok(matches.swap_remove(exact).path);
    }
    match matches.len() {
        0 => Err(TranscriptError::NotFound {
            id: id.to_string(),
            dir: sessions_dir.to_path_buf(),
        }),
        1 => Ok(matches.remove(0).path),
        _ => Err(TranscriptError::Ambiguous {
            id: id.to_string(),
            candidates: matches.iter().map(SessionSummary::describe).collect(),
        }),
    }
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
        assert_eq!(find_last(dir.path(), None).unwrap(), path);
        assert_eq!(find_last(dir.path(), Some(Path::new("/w"))).unwrap(), path);
        assert!(matches!(
            find_last(dir.path(), Some(Path::new("/elsewhere"))),
            Err(TranscriptError::NoSessionsHere { .. })
        ));
        assert_eq!(find_by_id(dir.path(), "0190aaaa").unwrap(), path);
        assert_eq!(find_by_id(dir.path(), "eeeeeeeeeeee").unwrap(), path);
        assert!(find_by_id(dir.path(), "ffff").is_err());

        let mut w = TranscriptWriter::reopen(&path).unwrap();
        w.append(&TranscriptLine::Item {
            item: ResponseItem::assistant("again"),
        })
        .unwrap();
        assert_eq!(load(&path).unwrap().items.len(), 2);
    }

    #[test]
    fn prefixes_that_match_two_sessions_are_ambiguous_and_sub_agents_are_not_last() {
        let dir = tempfile::tempdir().unwrap();
        let first = "0190aaaa-bbbb-7ccc-8ddd-111111111111";
        let second = "0190aaaa-bbbb-7ccc-8ddd-222222222222";
        let own = TranscriptWriter::create(dir.path(), &meta(first)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let sub_agent = SessionMeta {
            parent_session_id: Some(first.into()),
            ..meta(second)
        };
        TranscriptWriter::create(dir.path(), &sub_agent).unwrap();
        assert_eq!(
            find_last(dir.path(), Some(Path::new("/w"))).unwrap(),
            own.path()
        );
        let err = find_by_id(dir.path(), "0190aaaa").unwrap_err();
        let TranscriptError::Ambiguous { candidates, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(candidates.len(), 2);
        let message = err.to_string();
        assert!(message.contains("ambiguous"), "{message}");
        assert!(message.contains("111111111111") && message.contains("222222222222"));
        assert_eq!(find_by_id(dir.path(), first).unwrap(), own.path());
        assert_eq!(find_by_id(dir.path(), "1111").unwrap(), own.path());
    }

    #[test]
    fn dangling_calls_are_those_without_an_output() {
        let call = |id: &str| ResponseItem::FunctionCall {
            id: None,
            call_id: id.into(),
            name: "shell".into(),
            arguments: "{}".into(),
        };
        let output = |id: &str| ResponseItem::FunctionCallOutput {
            call_id: id.into(),
            output: "ok".into(),
        };
        let items = vec![call("a"), output("a"), call("b"), call("c"), output("c")];
        assert_eq!(dangling_calls(&items), ["b"]);
    }
}
