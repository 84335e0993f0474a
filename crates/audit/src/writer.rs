//! [`AuditLog`]: the handle callers hold, and the writer thread behind it.
//!
//! Callers never touch the disk: [`AuditLog::record`] puts the event on a bounded queue and
//! returns. One thread per log drains the queue in batches, redacts and serialises outside the
//! lock, then under the directory's `flock` reads where the chain stands (any process may have
//! appended since), appends the batch in one `write`, and when a caller waits for durability
//! fsyncs once and moves the head (`head.json`) to the batch's last record. A thread rather than
//! a tokio task, because every step is blocking file I/O.

use crate::config::{AuditConfig, SessionIds};
use crate::error::AuditError;
use crate::event::{AuditEvent, RecordsLost, RetentionApplied, TailRepaired};
use crate::file_lock::DirLock;
use crate::hash_chain::GENESIS_HASH;
use crate::head::{ChainHead, HEAD_FILE_NAME, write_head};
use crate::log_files::{
    list_log_files, log_file_name, parse_log_file_name, read_file_tail, read_first_line,
};
use crate::record::{AuditRecord, PreparedRecord};
use crate::redaction::{RedactionConfig, Redactor};
use chrono::{DateTime, NaiveDate, Utc};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel,
};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Most records written in one batch (one lock, one `write`).
const MAX_BATCH: usize = 1024;

type Reply = oneshot::Sender<Result<(), AuditError>>;

struct QueuedEvent {
    ts: DateTime<Utc>,
    ids: Arc<SessionIds>,
    event: AuditEvent,
}

enum Message {
    Record(QueuedEvent),
    Durable(QueuedEvent, Reply),
    Flush(Reply),
    Close(Reply),
}

/// The audit log of one process. Cheap to clone; clones share one writer thread.
///
/// ```no_run
/// # async fn demo() -> Result<(), cadre_audit::AuditError> {
/// use cadre_audit::*;
/// let log = AuditLog::open(AuditConfig::default(), SessionIds::new("session-1", "agent-0"))?;
/// log.record(AuditEvent::ConfigLoaded(FilesLoaded { files: vec!["~/.cadre/config.toml".into()] }));
/// // Before acting: wait until the decision is on disk.
/// log.record_durable(AuditEvent::FileChange(FileChange::new(FileChangeKind::Modify, ["src/lib.rs"], Some(120))))
///     .await?;
/// log.close().await
/// # }
/// ```
#[derive(Clone)]
pub struct AuditLog {
    shared: Option<Arc<Shared>>,
    ids: Arc<SessionIds>,
    dir: Arc<Path>,
}

struct Shared {
    tx: SyncSender<Message>,
    lost: Arc<AtomicU64>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl AuditLog {
    /// Creates the directory if needed, checks it can be locked, and starts the writer thread.
    /// Nothing is written until the first record. A disabled config gives a log that discards
    /// everything.
    pub fn open(config: AuditConfig, session: SessionIds) -> Result<AuditLog, AuditError> {
        let dir: Arc<Path> = Arc::from(config.dir.as_path());
        if !config.enabled {
            return Ok(AuditLog {
                shared: None,
                ids: Arc::new(session),
                dir,
            });
        }
        create_private_dir(&config.dir)?;
        check_writable(&config.dir)?;
        let lock = DirLock::open(&config.dir).map_err(|source| AuditError::Lock {
            path: config.dir.clone(),
            source,
        })?;
        let mut redaction = RedactionConfig::from_environment(&config.secret_names);
        redaction
            .secrets
            .extend(config.secret_values.iter().cloned());
        let (tx, rx) = sync_channel(config.queue_capacity.max(1));
        let lost = Arc::new(AtomicU64::new(0));
        let writer_lost = lost.clone();
        let writer_ids = Arc::new(session.clone());
        let thread = std::thread::Builder::new()
            .name("cadre-audit-writer".into())
            .spawn(move || {
                // Built on the writer's thread: whatever the redactor costs to set up, the
                // caller does not wait for it (records queue meanwhile).
                let writer = Writer {
                    dir: config.dir,
                    lock: Arc::new(lock),
                    redactor: Redactor::new(&redaction),
                    batch_window: Duration::from_millis(config.batch_window_ms),
                    max_file_bytes: config.max_file_bytes.max(1),
                    retention_days: config.retention_days,
                    retention_checked_on: None,
                    lost: writer_lost,
                    current: None,
                    head_seq: None,
                    writer_ids,
                    fsync: config.fsync,
                };
                writer.run(rx)
            })
            .map_err(AuditError::SpawnWriter)?;
        let shared = Shared {
            tx,
            lost,
            thread: Mutex::new(Some(thread)),
        };
        Ok(AuditLog {
            shared: Some(Arc::new(shared)),
            ids: Arc::new(session),
            dir,
        })
    }

    /// A log that writes nothing (auditing turned off).
    pub fn disabled() -> AuditLog {
        AuditLog {
            shared: None,
            ids: Arc::new(SessionIds::new("", "")),
            dir: Arc::from(Path::new("")),
        }
    }

    /// A handle on the same writer whose records carry another agent's ids (for a sub-agent).
    pub fn for_agent(
        &self,
        agent_id: impl Into<String>,
        parent_agent_id: Option<String>,
    ) -> AuditLog {
        let ids = SessionIds {
            session_id: self.ids.session_id.clone(),
            agent_id: agent_id.into(),
            parent_agent_id,
        };
        AuditLog {
            shared: self.shared.clone(),
            ids: Arc::new(ids),
            dir: self.dir.clone(),
        }
    }

    /// A handle on the same writer whose records carry other ids (a session that learns its id
    /// after the log was opened).
    pub fn with_ids(&self, ids: SessionIds) -> AuditLog {
        AuditLog {
            shared: self.shared.clone(),
            ids: Arc::new(ids),
            dir: self.dir.clone(),
        }
    }

    /// The ids stamped on this handle's records.
    pub fn session(&self) -> &SessionIds {
        &self.ids
    }

    /// Queues a record and returns at once. It is written within the batch window. If the queue
    /// is full the record is counted, and a `records_lost` record later says how many were lost.
    pub fn record(&self, event: AuditEvent) {
        let Some(shared) = &self.shared else { return };
        match shared.tx.try_send(Message::Record(self.queued(event))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                shared.lost.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {
                shared.lost.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("audit record dropped: the audit log is closed");
            }
        }
    }

    /// Writes a record and returns once it (and everything queued before it) is on disk and
    /// flushed with `fdatasync`. An error means the record may not have been written.
    pub async fn record_durable(&self, event: AuditEvent) -> Result<(), AuditError> {
        if self.shared.is_none() {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        self.send_waiting(Message::Durable(self.queued(event), reply))
            .await?;
        answer.await.map_err(|_| AuditError::Closed)?
    }

    /// Returns once everything queued so far is on disk and flushed.
    pub async fn flush(&self) -> Result<(), AuditError> {
        if self.shared.is_none() {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        self.send_waiting(Message::Flush(reply)).await?;
        answer.await.map_err(|_| AuditError::Closed)?
    }

    /// Flushes, then stops the writer. Later records on any clone are counted as lost.
    pub async fn close(self) -> Result<(), AuditError> {
        let Some(shared) = self.shared.clone() else {
            return Ok(());
        };
        let (reply, answer) = oneshot::channel();
        self.send_waiting(Message::Close(reply)).await?;
        let result = answer.await.map_err(|_| AuditError::Closed)?;
        let thread = shared
            .thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(thread) = thread {
            // The writer has answered Close and is returning; joining is immediate.
            let _ = thread.join();
        }
        result
    }

    /// The directory the log is written to.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn queued(&self, event: AuditEvent) -> QueuedEvent {
        QueuedEvent {
            ts: Utc::now(),
            ids: self.ids.clone(),
            event,
        }
    }

    /// Sends without losing the message: waits for queue space (off the async thread) if full.
    async fn send_waiting(&self, message: Message) -> Result<(), AuditError> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        match shared.tx.try_send(message) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(_)) => Err(AuditError::Closed),
            Err(TrySendError::Full(message)) => {
                let tx = shared.tx.clone();
                let send = move || tx.send(message).map_err(|_| AuditError::Closed);
                match tokio::runtime::Handle::try_current() {
                    Ok(handle) => handle
                        .spawn_blocking(send)
                        .await
                        .map_err(|_| AuditError::Closed)?,
                    Err(_) => send(),
                }
            }
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let thread = self
            .thread
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(thread) = thread {
            // The last handle is gone without `close`: let the writer drain what is queued.
            let (reply, _answer) = oneshot::channel();
            let _ = self.tx.send(Message::Close(reply));
            let _ = thread.join();
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), AuditError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| AuditError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })
}

/// Fails now, rather than at the first record, when files cannot be created in `dir` (a
/// directory that exists but is read-only, or on a read-only mount).
fn check_writable(dir: &Path) -> Result<(), AuditError> {
    use std::os::unix::ffi::OsStrExt;
    let not_writable = |source| AuditError::NotWritable {
        path: dir.to_path_buf(),
        source,
    };
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| not_writable(io::Error::from(io::ErrorKind::InvalidInput)))?;
    // SAFETY: `path` is a valid NUL-terminated string for the call's duration.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        return Err(not_writable(io::Error::last_os_error()));
    }
    Ok(())
}

/// The file the writer appended to last, and where the chain stood after its append.
struct CurrentFile {
    path: PathBuf,
    file: File,
    date: NaiveDate,
    index: u32,
    len: u64,
    last_hash: String,
    last_seq: u64,
    /// Bytes were written to the file (by anyone) that may not have been flushed yet.
    unsynced: bool,
}

struct Writer {
    dir: PathBuf,
    /// Shared so the guard can be held while the writer mutates itself.
    lock: Arc<DirLock>,
    redactor: Redactor,
    batch_window: Duration,
    max_file_bytes: u64,
    retention_days: u32,
    retention_checked_on: Option<NaiveDate>,
    lost: Arc<AtomicU64>,
    current: Option<CurrentFile>,
    /// The `seq` this writer last wrote to the head file, to skip rewriting an unchanged head.
    head_seq: Option<u64>,
    /// Ids for the records the writer adds itself (`records_lost`, `tail_repaired`, ...).
    writer_ids: Arc<SessionIds>,
    /// `fdatasync` the durable batches (see [`AuditConfig::fsync`]).
    fsync: bool,
}

#[derive(Default)]
struct Batch {
    records: Vec<QueuedEvent>,
    /// Records the caller will not hear about if the write fails: counted lost in that case.
    fire_and_forget: u64,
    replies: Vec<Reply>,
    sync: bool,
    close: bool,
}

impl Batch {
    fn push(&mut self, message: Message) {
        match message {
            Message::Record(event) => {
                self.records.push(event);
                self.fire_and_forget += 1;
            }
            Message::Durable(event, reply) => {
                self.records.push(event);
                self.replies.push(reply);
                self.sync = true;
            }
            Message::Flush(reply) => {
                self.replies.push(reply);
                self.sync = true;
            }
            Message::Close(reply) => {
                self.replies.push(reply);
                self.sync = true;
                self.close = true;
            }
        }
    }

    fn is_full(&self) -> bool {
        self.records.len() >= MAX_BATCH
    }
}

impl Writer {
    fn run(mut self, rx: Receiver<Message>) {
        loop {
            let Ok(first) = rx.recv() else { break };
            let mut batch = Batch::default();
            batch.push(first);
            self.gather(&rx, &mut batch);
            let result = self.write_batch(&batch.records, batch.sync);
            if let Err(err) = &result {
                tracing::warn!("audit log write failed: {err}");
                self.lost
                    .fetch_add(batch.fire_and_forget, Ordering::Relaxed);
                // Forget where the chain stood: the next batch re-reads it from disk.
                self.current = None;
            }
            for reply in batch.replies {
                let _ = reply.send(result.as_ref().map(|_| ()).map_err(AuditError::duplicate));
            }
            if batch.close {
                break;
            }
        }
    }

    /// Adds what else is queued: everything already waiting, and for fire-and-forget batches
    /// whatever arrives within the batch window. A waiting caller ends the gathering at once.
    fn gather(&self, rx: &Receiver<Message>, batch: &mut Batch) {
        let deadline = Instant::now() + self.batch_window;
        while !batch.is_full() && !batch.close {
            match rx.try_recv() {
                Ok(message) => {
                    batch.push(message);
                    continue;
                }
                Err(TryRecvError::Disconnected) => return,
                Err(TryRecvError::Empty) => {}
            }
            if batch.sync {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            match rx.recv_timeout(deadline - now) {
                Ok(message) => batch.push(message),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Writes one batch under the lock. A durable batch (`durable`: a caller waits) is flushed
    /// with one `fdatasync` (when `fsync` is on) and then moves the head.
    fn write_batch(&mut self, events: &[QueuedEvent], durable: bool) -> Result<(), AuditError> {
        // Redaction and serialisation happen before the lock, so other processes wait only for
        // the append itself.
        let prepared: Vec<PreparedRecord> = events
            .iter()
            .map(|e| PreparedRecord::new(e.ts, &e.ids, &e.event, &self.redactor))
            .collect();
        if prepared.is_empty() && !durable {
            return Ok(());
        }
        let lock = self.lock.clone();
        let _guard = lock.lock().map_err(|source| AuditError::Lock {
            path: self.dir.clone(),
            source,
        })?;
        let today = Utc::now().date_naive();
        let mut own_records = Vec::new();
        self.sync_with_disk(&mut own_records)?;
        self.apply_retention(today, &mut own_records)?;
        let lost = self.lost.swap(0, Ordering::Relaxed);
        if lost > 0 {
            own_records.push(AuditEvent::RecordsLost(RecordsLost { count: lost }));
        }
        let now = Utc::now();
        let own_prepared: Vec<PreparedRecord> = own_records
            .iter()
            .map(|e| PreparedRecord::new(now, &self.writer_ids, e, &self.redactor))
            .collect();
        let flush = durable && self.fsync;
        let result = self.append(today, own_prepared.iter().chain(&prepared), flush);
        if result.is_err() {
            self.lost.fetch_add(lost, Ordering::Relaxed);
        } else if durable {
            self.move_head();
        }
        result
    }

    /// Points the head at the chain's end, which this writer has just written (and flushed).
    /// Called under the lock, after the append, so the head never names a record that is not in
    /// the files. A head that cannot be written only weakens the check of the log's end; the
    /// records are written, so the batch does not fail for it.
    fn move_head(&mut self) {
        let Some(current) = &self.current else { return };
        if current.last_seq == 0 || self.head_seq == Some(current.last_seq) {
            return;
        }
        let head = ChainHead::new(current.last_seq, current.last_hash.clone());
        match write_head(&self.dir, &head) {
            Ok(()) => self.head_seq = Some(head.seq),
            Err(err) => tracing::warn!(
                "cannot update the audit log's head {}: {err}",
                self.dir.join(HEAD_FILE_NAME).display()
            ),
        }
    }

    /// Brings `self.current` up to date with the newest file on disk (another process may have
    /// appended or rotated), cutting off an interrupted last line.
    fn sync_with_disk(&mut self, own_records: &mut Vec<AuditEvent>) -> Result<(), AuditError> {
        let read_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| AuditError::Read { path, source }
        };
        let files = list_log_files(&self.dir).map_err(read_err(&self.dir))?;
        let Some(newest) = files.last() else {
            // No file yet, or all were deleted by hand: a chain that does not start at genesis
            // would be reported by `verify`, so keep linking to what this writer last wrote.
            if let Some(current) = &mut self.current {
                current.len = u64::MAX; // forces a new file
            }
            return Ok(());
        };
        if let Some(current) = &self.current
            && current.path == *newest
            && is_same_file_unchanged(current)
        {
            return Ok(());
        }
        let name = newest
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let (date, index) = parse_log_file_name(&name).expect("listed files have log names");
        let file = open_append(newest, false).map_err(read_err(newest))?;
        let tail = read_file_tail(&file).map_err(read_err(newest))?;
        if tail.incomplete_len > 0 {
            file.set_len(tail.complete_len)
                .map_err(|source| AuditError::Write {
                    path: newest.clone(),
                    source,
                })?;
            file.sync_data().map_err(|source| AuditError::Write {
                path: newest.clone(),
                source,
            })?;
            own_records.push(AuditEvent::TailRepaired(TailRepaired {
                file: name,
                discarded_bytes: tail.incomplete_len,
            }));
        }
        let (last_hash, last_seq) = match tail.last_hash {
            Some(hash) => (hash, tail.last_seq),
            // An empty newest file: the chain stands where the file before it ends.
            None => self.tail_before(&files)?,
        };
        self.current = Some(CurrentFile {
            path: newest.clone(),
            file,
            date,
            index,
            len: tail.complete_len,
            last_hash,
            last_seq,
            // Another process may have written it without flushing.
            unsynced: true,
        });
        Ok(())
    }

    /// The chain's end in the last non-empty file, or genesis.
    fn tail_before(&self, files: &[PathBuf]) -> Result<(String, u64), AuditError> {
        for path in files.iter().rev() {
            let file = File::open(path).map_err(|source| AuditError::Read {
                path: path.clone(),
                source,
            })?;
            let tail = read_file_tail(&file).map_err(|source| AuditError::Read {
                path: path.clone(),
                source,
            })?;
            if let Some(hash) = tail.last_hash {
                return Ok((hash, tail.last_seq));
            }
        }
        Ok((GENESIS_HASH.to_string(), 0))
    }

    /// Once per day: deletes files older than the retention period and notes it in the chain.
    fn apply_retention(
        &mut self,
        today: NaiveDate,
        own_records: &mut Vec<AuditEvent>,
    ) -> Result<(), AuditError> {
        if self.retention_days == 0 || self.retention_checked_on == Some(today) {
            return Ok(());
        }
        self.retention_checked_on = Some(today);
        let Some(cutoff) =
            today.checked_sub_days(chrono::Days::new(u64::from(self.retention_days)))
        else {
            return Ok(());
        };
        let files = list_log_files(&self.dir).map_err(|source| AuditError::Read {
            path: self.dir.clone(),
            source,
        })?;
        let mut removed = Vec::new();
        let mut kept = Vec::new();
        for path in files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            match parse_log_file_name(&name) {
                Some((date, _)) if date < cutoff => {
                    std::fs::remove_file(&path).map_err(|source| AuditError::Write {
                        path: path.clone(),
                        source,
                    })?;
                    removed.push(name);
                }
                _ => kept.push(path),
            }
        }
        if removed.is_empty() {
            return Ok(());
        }
        let first_kept_prev = match kept.first() {
            Some(path) => read_first_line(path)
                .map_err(|source| AuditError::Read {
                    path: path.clone(),
                    source,
                })?
                .and_then(|line| AuditRecord::parse(&line).ok())
                .map(|record| record.prev),
            None => None,
        };
        let first_kept_prev = match first_kept_prev {
            Some(prev) => prev,
            // Nothing kept: the next record written (this notice) is the chain's new start.
            None => self
                .current
                .as_ref()
                .map(|c| c.last_hash.clone())
                .unwrap_or_else(|| GENESIS_HASH.to_string()),
        };
        if let Some(current) = &self.current
            && !current.path.exists()
        {
            current_file_removed(&mut self.current);
        }
        own_records.push(AuditEvent::RetentionApplied(RetentionApplied {
            removed_files: removed,
            first_kept_prev,
        }));
        Ok(())
    }

    /// Appends records in order, rotating by date and size, in one `write` per file; with
    /// `flush`, then flushes the file once (the one `fdatasync` of a durable batch).
    fn append<'a>(
        &mut self,
        today: NaiveDate,
        records: impl Iterator<Item = &'a PreparedRecord>,
        flush: bool,
    ) -> Result<(), AuditError> {
        let (mut prev, mut seq) = match &self.current {
            Some(c) => (c.last_hash.clone(), c.last_seq),
            None => (GENESIS_HASH.to_string(), 0),
        };
        let mut buffer = String::new();
        for record in records {
            seq += 1;
            let (line, hash) = record.seal_at(seq, &prev);
            let fits = self.current.as_ref().is_some_and(|c| {
                let pending = c.len.saturating_add(buffer.len() as u64);
                c.date == today
                    && (pending == 0
                        || pending.saturating_add(line.len() as u64 + 1) <= self.max_file_bytes)
            });
            if !fits {
                self.write_out(&mut buffer)?;
                self.rotate(today)?;
            }
            buffer.push_str(&line);
            buffer.push('\n');
            prev = hash;
            if let Some(current) = &mut self.current {
                current.last_hash.clone_from(&prev);
                current.last_seq = seq;
            }
        }
        self.write_out(&mut buffer)?;
        if flush && let Some(current) = &mut self.current {
            sync_file(current)?;
        }
        Ok(())
    }

    fn write_out(&mut self, buffer: &mut String) -> Result<(), AuditError> {
        if buffer.is_empty() {
            return Ok(());
        }
        let current = self
            .current
            .as_mut()
            .expect("a file is open once a record is placed");
        let write_err = |source| AuditError::Write {
            path: current.path.clone(),
            source,
        };
        current
            .file
            .write_all(buffer.as_bytes())
            .map_err(write_err)?;
        current.len += buffer.len() as u64;
        current.unsynced = true;
        buffer.clear();
        Ok(())
    }

    /// Starts the next file: the next counter of today, or today's first. With `fsync` on, the
    /// file left is flushed first, since later durable batches flush only the newest file.
    fn rotate(&mut self, today: NaiveDate) -> Result<(), AuditError> {
        if self.fsync
            && let Some(current) = &mut self.current
            && current.len != u64::MAX
        {
            sync_file(current)?;
        }
        let (last_hash, last_seq) = match &self.current {
            Some(c) => (c.last_hash.clone(), c.last_seq),
            None => (GENESIS_HASH.to_string(), 0),
        };
        let mut index = match &self.current {
            Some(c) if c.date == today => c.index + 1,
            _ => 0,
        };
        // Never reuse a name: files of today may exist that this writer has not seen (a clock
        // that went backwards, or files restored by hand).
        loop {
            let path = self.dir.join(log_file_name(today, index));
            match open_append(&path, true) {
                Ok(file) => {
                    if self.fsync {
                        sync_dir(&self.dir);
                    }
                    self.current = Some(CurrentFile {
                        path,
                        file,
                        date: today,
                        index,
                        len: 0,
                        last_hash,
                        last_seq,
                        unsynced: false,
                    });
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => index += 1,
                Err(source) => return Err(AuditError::Write { path, source }),
            }
        }
    }
}

/// Whether the path still names the file this writer holds open, at the length it left it.
fn is_same_file_unchanged(current: &CurrentFile) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(on_disk), Ok(held)) = (std::fs::metadata(&current.path), current.file.metadata())
    else {
        return false;
    };
    on_disk.dev() == held.dev() && on_disk.ino() == held.ino() && held.len() == current.len
}

/// Flushes what was written to `current` since it was last flushed, if anything.
fn sync_file(current: &mut CurrentFile) -> Result<(), AuditError> {
    if !current.unsynced {
        return Ok(());
    }
    current
        .file
        .sync_data()
        .map_err(|source| AuditError::Write {
            path: current.path.clone(),
            source,
        })?;
    current.unsynced = false;
    Ok(())
}

fn current_file_removed(current: &mut Option<CurrentFile>) {
    if let Some(c) = current {
        // Keep the chain position; make the next append start a new file.
        c.len = u64::MAX;
        c.date = NaiveDate::MIN;
    }
}

fn open_append(path: &Path, create_new: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).read(true).mode(0o600);
    if create_new {
        options.create_new(true);
    }
    options.open(path)
}

/// Makes a new file's directory entry durable. Best effort: some filesystems refuse to sync a
/// directory, and the data itself is synced separately.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
