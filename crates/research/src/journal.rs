//! The run journal: every finished step of a research run (level plans, searches, fetched pages
//! by cache key, selections, model answers) appended to `<root>/<id>/journal.jsonl` and flushed
//! as it happens, plus `meta.json` with the run's question, settings, status and cost. A resumed
//! run replays the pipeline with the journal answering every step it already holds, so no page
//! is fetched and no model call is made twice. A torn last line (a crash mid-write) is ignored.

use crate::error::ResearchError;
use crate::fetch::ContentKind;
use crate::provider::SearchHit;
use cadre_protocol::TokenUsage;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A fetched page as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalPage {
    pub final_url: String,
    pub status: u16,
    pub content_type: String,
    pub kind: ContentKind,
    pub body: String,
    pub truncated: bool,
    pub redirects: u32,
    pub attempts: u32,
    pub fetched_at: i64,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JournalEntry {
    /// A level was planned with these queries.
    Level { level: u8, queries: Vec<String> },
    /// A search and what it returned.
    Search { query: String, hits: Vec<SearchHit> },
    /// A fetch by cache key: the page, or why there was none.
    Page {
        key: String,
        url: String,
        page: Result<JournalPage, String>,
    },
    /// A level's fetches are all done.
    LevelDone { level: u8, pages: usize },
    /// The sources and passages chosen for the synthesis.
    Selection {
        sources: Vec<String>,
        passages: Vec<String>,
    },
    /// A model call's answer: the offered tool's JSON arguments (none when the model did not
    /// call it) and the tokens it cost.
    Model {
        key: String,
        arguments: Option<String>,
        usage: TokenUsage,
    },
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not (yet) finished: running now, or crashed or interrupted.
    Running,
    Finished,
    /// Finished early because a budget stopped it; the report is partial.
    Partial,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
        }
    }
}

/// `meta.json`: what `deep-research list` shows and what `--resume` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub id: String,
    pub question: String,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
    pub status: RunStatus,
    #[serde(default)]
    pub tokens: u64,
    #[serde(default)]
    pub cost_usd: Option<f64>,
    #[serde(default)]
    pub pages: usize,
    #[serde(default)]
    pub model_calls: usize,
    /// How many times the run was resumed.
    #[serde(default)]
    pub resumes: u32,
    /// The front end's settings, so a resumed run is the same run.
    #[serde(default)]
    pub settings: serde_json::Value,
}

impl RunMeta {
    /// A run that starts now, with nothing spent yet.
    pub fn starting(id: String, question: String, settings: serde_json::Value) -> RunMeta {
        let now = chrono::Utc::now().to_rfc3339();
        RunMeta {
            id,
            question,
            created_at: now.clone(),
            updated_at: now,
            status: RunStatus::Running,
            tokens: 0,
            cost_usd: None,
            pages: 0,
            model_calls: 0,
            resumes: 0,
            settings,
        }
    }
}

/// An open journal: appends new entries and answers replayed ones.
pub struct Journal {
    dir: PathBuf,
    file: Mutex<File>,
    searches: HashMap<String, Vec<SearchHit>>,
    pages: HashMap<String, Result<JournalPage, String>>,
    models: HashMap<String, (Option<String>, TokenUsage)>,
    replayed_entries: usize,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            .field("replayed_entries", &self.replayed_entries)
            .finish_non_exhaustive()
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ResearchError {
    ResearchError::Journal {
        path: path.to_path_buf(),
        reason: source.to_string(),
    }
}

/// A fresh run id: the UTC time and a short hash, sortable by creation.
pub fn new_run_id() -> String {
    use sha2::Digest;
    let now = chrono::Utc::now();
    let mut hasher = sha2::Sha256::new();
    hasher.update(now.timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    let hash = hex::encode(hasher.finalize());
    format!("{}-{}", now.format("%Y%m%d-%H%M%S"), &hash[..6])
}

impl Journal {
    /// Creates `<root>/<meta.id>/` with its `meta.json` and an empty journal.
    pub fn create(root: &Path, meta: &RunMeta) -> Result<Journal, ResearchError> {
        let dir = root.join(&meta.id);
        std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        write_meta(&dir, meta)?;
        Self::open_dir(dir)
    }

    /// Opens an existing run's journal for resuming: its entries become replayable.
    pub fn open(root: &Path, id: &str) -> Result<(Journal, RunMeta), ResearchError> {
        let dir = root.join(id);
        let meta = read_meta(&dir)?;
        Ok((Self::open_dir(dir)?, meta))
    }

    fn open_dir(dir: PathBuf) -> Result<Journal, ResearchError> {
        let path = dir.join("journal.jsonl");
        let mut journal = Journal {
            file: Mutex::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| io_error(&path, e))?,
            ),
            dir,
            searches: HashMap::new(),
            pages: HashMap::new(),
            models: HashMap::new(),
            replayed_entries: 0,
        };
        let existing = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
        if existing.last().is_some_and(|b| *b != b'\n') {
            // Close a torn line so the next entry starts on a line of its own.
            journal
                .file
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .write_all(b"\n")
                .map_err(|e| io_error(&path, e))?;
        }
        let reader = std::io::BufReader::new(existing.as_slice());
        for line in reader.lines() {
            let Ok(line) = line else { break };
            // A line cut short by a crash does not parse; everything before it still counts.
            let Ok(entry) = serde_json::from_str::<JournalEntry>(&line) else {
                continue;
            };
            journal.replayed_entries += 1;
            match entry {
                JournalEntry::Search { query, hits } => {
                    journal.searches.insert(query, hits);
                }
                JournalEntry::Page { key, page, .. } => {
                    journal.pages.insert(key, page);
                }
                JournalEntry::Model {
                    key,
                    arguments,
                    usage,
                } => {
                    journal.models.insert(key, (arguments, usage));
                }
                _ => {}
            }
        }
        Ok(journal)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }

    /// Entries read back when the journal was opened (0 for a new run).
    pub fn replayed_entries(&self) -> usize {
        self.replayed_entries
    }

    /// Appends one entry as a single write, flushed before returning.
    pub fn append(&self, entry: &JournalEntry) -> Result<(), ResearchError> {
        let mut line = serde_json::to_string(entry).map_err(|e| ResearchError::Journal {
            path: self.path(),
            reason: e.to_string(),
        })?;
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(line.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| io_error(&self.path(), e))
    }

    pub fn search(&self, query: &str) -> Option<&Vec<SearchHit>> {
        self.searches.get(query)
    }

    pub fn page(&self, key: &str) -> Option<&Result<JournalPage, String>> {
        self.pages.get(key)
    }

    pub fn model_answer(&self, key: &str) -> Option<&(Option<String>, TokenUsage)> {
        self.models.get(key)
    }

    pub fn read_meta(&self) -> Result<RunMeta, ResearchError> {
        read_meta(&self.dir)
    }

    pub fn write_meta(&self, meta: &RunMeta) -> Result<(), ResearchError> {
        write_meta(&self.dir, meta)
    }
}

fn read_meta(dir: &Path) -> Result<RunMeta, ResearchError> {
    let path = dir.join("meta.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
    serde_json::from_str(&text).map_err(|e| ResearchError::Journal {
        path,
        reason: e.to_string(),
    })
}

fn write_meta(dir: &Path, meta: &RunMeta) -> Result<(), ResearchError> {
    let path = dir.join("meta.json");
    let temporary = dir.join("meta.json.tmp");
    let text = serde_json::to_string_pretty(meta).map_err(|e| ResearchError::Journal {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&temporary, text).map_err(|e| io_error(&temporary, e))?;
    std::fs::rename(&temporary, &path).map_err(|e| io_error(&path, e))
}

/// Every run under `root`, oldest first.
pub fn list_runs(root: &Path) -> Vec<RunMeta> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut runs: Vec<RunMeta> = entries
        .flatten()
        .filter_map(|e| read_meta(&e.path()).ok())
        .collect();
    runs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    runs
}

/// A run id from what the user typed: an id, or `last` for the most recent run.
pub fn resolve_run_id(root: &Path, wanted: &str) -> Result<String, ResearchError> {
    if wanted == "last" {
        return list_runs(root)
            .pop()
            .map(|m| m.id)
            .ok_or_else(|| ResearchError::NoSuchRun {
                id: wanted.into(),
                root: root.to_path_buf(),
            });
    }
    if root.join(wanted).join("meta.json").is_file() {
        Ok(wanted.to_string())
    } else {
        Err(ResearchError::NoSuchRun {
            id: wanted.into(),
            root: root.to_path_buf(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_meta(id: &str) -> RunMeta {
        RunMeta {
            created_at: format!("2025-01-01T00:00:0{}Z", id.len()),
            updated_at: String::new(),
            ..RunMeta::starting(id.into(), "q".into(), serde_json::Value::Null)
        }
    }

    #[test]
    fn entries_replay_and_a_torn_line_is_ignored() {
        let root = tempfile::tempdir().unwrap();
        let journal = Journal::create(root.path(), &run_meta("a")).unwrap();
        journal
            .append(&JournalEntry::Model {
                key: "plan:1".into(),
                arguments: Some("{}".into()),
                usage: TokenUsage::default(),
            })
            .unwrap();
        journal
            .append(&JournalEntry::Search {
                query: "q".into(),
                hits: vec![],
            })
            .unwrap();
        drop(journal);
        let mut file = OpenOptions::new()
            .append(true)
            .open(root.path().join("a/journal.jsonl"))
            .unwrap();
        file.write_all(b"{\"kind\":\"model\",\"key\":\"rep")
            .unwrap();
        let (journal, meta) = Journal::open(root.path(), "a").unwrap();
        assert_eq!(meta.id, "a");
        assert_eq!(journal.replayed_entries(), 2);
        assert!(journal.model_answer("plan:1").is_some());
        assert!(journal.search("q").is_some());
        Journal::create(root.path(), &run_meta("bb")).unwrap();
        assert_eq!(resolve_run_id(root.path(), "last").unwrap(), "bb");
        assert!(resolve_run_id(root.path(), "zz").is_err());
        let (journal, _) = Journal::open(root.path(), "a").unwrap();
        journal
            .append(&JournalEntry::LevelDone { level: 1, pages: 0 })
            .unwrap();
        let (journal, _) = Journal::open(root.path(), "a").unwrap();
        assert_eq!(
            journal.replayed_entries(),
            3,
            "the entry after a torn line survives"
        );
    }
}
