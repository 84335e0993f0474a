//! `cadre audit`: verify, anchor, show, follow and locate the audit log.

use crate::cli_env::CliEnv;
use anyhow::Context;
use cadre_audit::{
    AuditConfig, AuditRecord, ChainHead, ChainStart, HEAD_FILE_NAME, HeadCheck, VerifyReport,
    list_log_files, verify_dir, verify_dir_with_anchor, verify_files_with_anchor,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The audit log directory [default: $CADRE_AUDIT_DIR, else `audit.dir` from the configuration, else $CADRE_HOME/audit, else
    /// ~/.cadre/audit]
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,

    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Check the hash chain: every record unedited, none deleted, inserted or reordered, and the
    /// log reaching its head (none cut off the end). Exits 1 and names the first broken record,
    /// or the missing ones, if not.
    Verify {
        /// Log files (checked as one chain, in the order given) or log directories [default: the
        /// audit directory]
        paths: Vec<PathBuf>,
        /// A head printed earlier by `cadre audit anchor` (`SEQ:HASH` or its JSON) and kept
        /// elsewhere: the log must still hold that record, unchanged.
        #[arg(long, value_name = "HEAD", value_parser = parse_anchor)]
        anchor: Option<ChainHead>,
    },
    /// Verify the log, then print its head (the seq and hash of its last record) to keep
    /// elsewhere; `cadre audit verify --anchor HEAD` later proves nothing up to it was cut off or
    /// rewritten.
    Anchor {
        #[arg(long, value_enum, default_value_t = AnchorFormat::Text)]
        format: AnchorFormat,
    },
    /// Print records, oldest first.
    Show(ShowArgs),
    /// Print the last records, and with -f keep printing new ones as they are written.
    Tail {
        /// Keep following the log.
        #[arg(short = 'f', long)]
        follow: bool,
        /// How many past records to print first.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Print the audit log directory.
    Path,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// Only records of this session (an id or a prefix of one).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Only records at or after this time: RFC 3339 (`2025-06-01T12:00:00Z`), a date
    /// (`2025-06-01`, UTC), or an age (`30m`, `2h`, `7d`).
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// Only these events (`command`, `file_change`, ...); may be repeated or comma-separated.
    #[arg(long, value_name = "EVENT", value_delimiter = ',')]
    event: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AnchorFormat {
    /// `SEQ:HASH` on one line.
    Text,
    /// `{"v":1,"seq":…,"hash":"…"}`, the format of the head file.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Time, session, agent, event, decision and a summary, one record per line.
    Table,
    /// The records as stored, one JSON object per line.
    Json,
}

pub fn run(args: AuditArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let dir = match args.dir {
        Some(dir) => dir,
        None if std::env::var_os("CADRE_AUDIT_DIR").is_some() => AuditConfig::default_dir(),
        None => env
            .load_config(None, Default::default())
            .map(|config| config.audit_dir())
            .unwrap_or_else(|_| AuditConfig::default_dir()),
    };
    let result = match args.command {
        AuditCommand::Verify { paths, anchor } => verify(&dir, &paths, anchor.as_ref()),
        AuditCommand::Anchor { format } => anchor(&dir, format),
        AuditCommand::Show(show_args) => show(&dir, &show_args),
        AuditCommand::Tail {
            follow,
            lines,
            format,
        } => tail(&dir, follow, lines, format),
        AuditCommand::Path => {
            let mut out = io::stdout().lock();
            writeln!(out, "{}", dir.display())
                .map(|_| 0)
                .map_err(anyhow::Error::from)
        }
    };
    // `cadre audit show | head` closes the pipe early: that is not an error.
    match result {
        Err(err)
            if err
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(0)
        }
        other => other,
    }
}

fn parse_anchor(text: &str) -> Result<ChainHead, String> {
    text.parse().map_err(|err| format!("{err}"))
}

fn verify(dir: &Path, paths: &[PathBuf], anchor: Option<&ChainHead>) -> anyhow::Result<u8> {
    let mut out = io::stdout().lock();
    let mut targets: Vec<(String, VerifyReport)> = Vec::new();
    let read_dir = |d: &Path| {
        verify_dir_with_anchor(d, anchor)
            .with_context(|| format!("cannot read the audit log in {}", d.display()))
    };
    if paths.is_empty() {
        targets.push((dir.display().to_string(), read_dir(dir)?));
    } else {
        let (dirs, files): (Vec<&PathBuf>, Vec<&PathBuf>) = paths.iter().partition(|p| p.is_dir());
        for d in dirs {
            targets.push((d.display().to_string(), read_dir(d)?));
        }
        if !files.is_empty() {
            let files: Vec<PathBuf> = files.into_iter().cloned().collect();
            let report = verify_files_with_anchor(&files, anchor)
                .context("cannot read the given audit files")?;
            targets.push((format!("{} file(s)", files.len()), report));
        }
    }
    let mut status = 0;
    for (what, report) in targets {
        if !print_verify_report(&mut out, &what, &report)? {
            status = 1;
        }
    }
    Ok(status)
}

/// `cadre audit anchor`: the head of a log that verifies.
fn anchor(dir: &Path, format: AnchorFormat) -> anyhow::Result<u8> {
    let report = verify_dir(dir)
        .with_context(|| format!("cannot read the audit log in {}", dir.display()))?;
    if !report.is_intact() {
        // Anchoring a damaged log would vouch for the damage: show why instead.
        let mut err = io::stderr().lock();
        print_verify_report(&mut err, &dir.display().to_string(), &report)?;
        writeln!(
            err,
            "no anchor printed: the log does not verify; keep an anchor from before the damage"
        )?;
        return Ok(1);
    }
    let (Some(seq), Some(hash)) = (report.last_seq, report.last_hash) else {
        anyhow::bail!(
            "the audit log in {} has no records yet: there is nothing to anchor",
            dir.display()
        );
    };
    let head = ChainHead::new(seq, hash);
    let mut out = io::stdout().lock();
    match format {
        AnchorFormat::Text => writeln!(out, "{head}")?,
        AnchorFormat::Json => writeln!(out, "{}", serde_json::to_string(&head)?)?,
    }
    Ok(0)
}

/// What is wrong with the log's end against a head (`what_head`: "its head" or "the anchor"),
/// in words; `None` when nothing is.
fn head_failure(report: &VerifyReport, what_head: &str, check: &HeadCheck) -> Option<String> {
    let ends = match report.last_seq {
        Some(seq) => format!("the log ends at seq {seq}"),
        None => "the log has no records".to_string(),
    };
    match check {
        HeadCheck::CutTail {
            head,
            first_missing,
            last_missing,
        } => {
            let missing = if first_missing == last_missing {
                format!("seq {first_missing} is missing")
            } else {
                format!(
                    "seq {first_missing}..{last_missing} are missing ({} records)",
                    last_missing - first_missing + 1
                )
            };
            Some(format!(
                "CUT at the end: {ends}, but {what_head} names seq {}: {missing}",
                head.seq
            ))
        }
        HeadCheck::Diverged { head, found } => Some(format!(
            "REWRITTEN: {what_head} names seq {} with hash {}, but the log's seq {} has hash {found}",
            head.seq, head.hash, head.seq
        )),
        HeadCheck::Unreadable { detail } => Some(format!(
            "BROKEN head file {HEAD_FILE_NAME}: {detail}; it was edited or damaged"
        )),
        HeadCheck::Reached(_) | HeadCheck::BeforeStart { .. } | HeadCheck::Missing => None,
    }
}

/// Prints one report; returns whether the log is intact.
fn print_verify_report(
    out: &mut impl Write,
    what: &str,
    report: &VerifyReport,
) -> io::Result<bool> {
    if let Some(problem) = &report.problem {
        writeln!(out, "audit log {what}: BROKEN at {problem}")?;
        if report.records > 0 {
            writeln!(
                out,
                "  the {} record(s) before it are intact; last intact hash {}",
                report.records,
                report.last_hash.as_deref().unwrap_or("-")
            )?;
        }
        return Ok(false);
    }
    let failures: Vec<String> = [("its head", &report.head), ("the anchor", &report.anchor)]
        .into_iter()
        .filter_map(|(name, check)| head_failure(report, name, check.as_ref()?))
        .collect();
    if !failures.is_empty() {
        for failure in failures {
            writeln!(out, "audit log {what}: {failure}")?;
        }
        if report.records > 0 {
            writeln!(
                out,
                "  the {} record(s) present are intact, seq {}..{}",
                report.records,
                report.first_seq.unwrap_or(0),
                report.last_seq.unwrap_or(0)
            )?;
        }
        return Ok(false);
    }
    if report.records == 0 && report.incomplete_tail.is_none() {
        writeln!(out, "audit log {what}: no records")?;
        return Ok(true);
    }
    let head_note = |what_head: &str, check: &Option<HeadCheck>| match check {
        Some(HeadCheck::Reached(head)) => Some(format!("{what_head}: seq {}, reached", head.seq)),
        Some(HeadCheck::BeforeStart { head, first_seq }) => Some(format!(
            "note: {what_head} names seq {}, older than the oldest record kept (seq {first_seq}): retention removed it, so it proves nothing here",
            head.seq
        )),
        Some(HeadCheck::Missing) => Some(format!(
            "note: no head file ({HEAD_FILE_NAME}): records cut from the end of the log cannot be detected; `cadre audit anchor` prints a head to keep elsewhere"
        )),
        _ => None,
    };
    let seqs = match (report.first_seq, report.last_seq) {
        (Some(first), Some(last)) => format!(", seq {first}..{last}"),
        _ => String::new(),
    };
    writeln!(
        out,
        "audit log {what}: intact, {} record(s) in {} file(s){seqs}",
        report.records,
        report.files.len()
    )?;
    writeln!(
        out,
        "last hash: {}",
        report.last_hash.as_deref().unwrap_or("-")
    )?;
    for note in [
        head_note("head", &report.head),
        head_note("anchor", &report.anchor),
    ]
    .into_iter()
    .flatten()
    {
        writeln!(out, "{note}")?;
    }
    match &report.start {
        Some(ChainStart::AfterRetention) => writeln!(
            out,
            "note: older files were deleted by retention, as a retention_applied record attests"
        )?,
        Some(ChainStart::Unchecked { prev }) => writeln!(
            out,
            "note: the first record links to {prev}, in a file not checked here; verify the whole directory to check the start"
        )?,
        Some(ChainStart::Genesis) | None => {}
    }
    if let Some(tail) = &report.incomplete_tail {
        writeln!(
            out,
            "note: the last line ({}, {} bytes) is incomplete: a writer was interrupted mid-write. The log is intact up to the last complete record{}; the next writer cuts the incomplete line off and records that it did.",
            tail.location,
            tail.bytes,
            report
                .last_seq
                .map(|s| format!(" (seq {s})"))
                .unwrap_or_default()
        )?;
    }
    Ok(true)
}

/// One stored line: typed when this version understands it, raw either way.
struct StoredRecord {
    raw: String,
    value: serde_json::Value,
    typed: Option<AuditRecord>,
}

impl StoredRecord {
    fn parse(line: &str) -> Option<StoredRecord> {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        Some(StoredRecord {
            raw: line.to_string(),
            typed: AuditRecord::parse(line).ok(),
            value,
        })
    }

    fn str_member(&self, key: &str) -> &str {
        self.value.get(key).and_then(|v| v.as_str()).unwrap_or("")
    }

    fn ts(&self) -> Option<DateTime<Utc>> {
        match &self.typed {
            Some(record) => Some(record.ts),
            None => DateTime::parse_from_rfc3339(self.str_member("ts"))
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

fn read_records(path: &Path) -> anyhow::Result<Vec<StoredRecord>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut records = Vec::new();
    for line in io::BufReader::new(file).split(b'\n') {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if let Some(record) = std::str::from_utf8(&line)
            .ok()
            .and_then(StoredRecord::parse)
        {
            records.push(record);
        }
    }
    Ok(records)
}

fn show(dir: &Path, args: &ShowArgs) -> anyhow::Result<u8> {
    let files = list_log_files(dir)
        .with_context(|| format!("cannot list the audit log in {}", dir.display()))?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.format == Format::Table {
        print_table_header(&mut out)?;
    }
    for file in files {
        for record in read_records(&file)? {
            if matches_filters(&record, args) {
                print_record(&mut out, &record, args.format)?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}

fn matches_filters(record: &StoredRecord, args: &ShowArgs) -> bool {
    if let Some(session) = &args.session
        && !record
            .str_member("session_id")
            .starts_with(session.as_str())
    {
        return false;
    }
    if let Some(since) = args.since
        && record.ts().is_none_or(|ts| ts < since)
    {
        return false;
    }
    args.event.is_empty() || args.event.iter().any(|e| e == record.str_member("event"))
}

fn print_table_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<19}  {:<12}  {:<12}  {:<16}  {:<8}  SUMMARY",
        "TIME (UTC)", "SESSION", "AGENT", "EVENT", "DECISION"
    )
}

fn print_record(out: &mut impl Write, record: &StoredRecord, format: Format) -> io::Result<()> {
    if format == Format::Json {
        return writeln!(out, "{}", record.raw);
    }
    let time = record
        .ts()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    let (decision, summary) = match &record.typed {
        Some(typed) => (
            typed
                .event
                .decision()
                .map(|d| d.as_str())
                .unwrap_or("-")
                .to_string(),
            typed.event.summary(),
        ),
        None => (
            record.str_member("decision").to_string(),
            format!(
                "(record of schema v{}: see --format json)",
                record.value.get("v").unwrap_or(&serde_json::Value::Null)
            ),
        ),
    };
    writeln!(
        out,
        "{time:<19}  {:<12}  {:<12}  {:<16}  {:<8}  {}",
        shorten(record.str_member("session_id"), 12),
        shorten(record.str_member("agent_id"), 12),
        record.str_member("event"),
        decision,
        summary.replace(['\n', '\r'], " ")
    )
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut short: String = text.chars().take(width - 1).collect();
    short.push('…');
    short
}

fn tail(dir: &Path, follow: bool, lines: usize, format: Format) -> anyhow::Result<u8> {
    let files = list_log_files(dir)
        .with_context(|| format!("cannot list the audit log in {}", dir.display()))?;
    let mut out = io::stdout().lock();
    if format == Format::Table {
        print_table_header(&mut out)?;
    }
    // The last `lines` records, gathered from the newest files backwards.
    let mut recent: Vec<StoredRecord> = Vec::new();
    for file in files.iter().rev() {
        let mut records = read_records(file)?;
        let take = lines.saturating_sub(recent.len()).min(records.len());
        let mut newest = records.split_off(records.len() - take);
        newest.append(&mut recent);
        recent = newest;
        if recent.len() >= lines {
            break;
        }
    }
    for record in &recent {
        print_record(&mut out, record, format)?;
    }
    out.flush()?;
    if !follow {
        return Ok(0);
    }
    let mut follower = Follower {
        dir: dir.to_path_buf(),
        current: files.last().cloned(),
        offset: 0,
        pending: Vec::new(),
    };
    if let Some(current) = &follower.current {
        // Start after what was printed: at the last complete line of the newest file.
        let bytes =
            std::fs::read(current).with_context(|| format!("cannot read {}", current.display()))?;
        follower.offset = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p as u64 + 1);
    }
    loop {
        for line in follower.poll()? {
            if let Some(record) = StoredRecord::parse(&line) {
                print_record(&mut out, &record, format)?;
            }
        }
        out.flush()?;
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Reads complete lines appended since the last poll, moving on to newer files as they appear.
struct Follower {
    dir: PathBuf,
    current: Option<PathBuf>,
    offset: u64,
    pending: Vec<u8>,
}

impl Follower {
    fn poll(&mut self) -> anyhow::Result<Vec<String>> {
        let mut lines = Vec::new();
        loop {
            if let Some(current) = &self.current {
                self.read_new(current.clone(), &mut lines)?;
            }
            let files = list_log_files(&self.dir)?;
            let next = match &self.current {
                Some(current) => files
                    .iter()
                    .find(|f| *f > current && is_later(f, current))
                    .cloned(),
                None => files.first().cloned(),
            };
            match next {
                Some(next) => {
                    self.current = Some(next);
                    self.offset = 0;
                    self.pending.clear();
                }
                None => return Ok(lines),
            }
        }
    }

    fn read_new(&mut self, path: PathBuf, lines: &mut Vec<String>) -> anyhow::Result<()> {
        let mut file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        file.seek(SeekFrom::Start(self.offset))?;
        let mut fresh = Vec::new();
        file.read_to_end(&mut fresh)?;
        self.offset += fresh.len() as u64;
        self.pending.extend_from_slice(&fresh);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
        }
        Ok(())
    }
}

/// Whether log file `a` comes after `b` in chain order.
fn is_later(a: &Path, b: &Path) -> bool {
    let key = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(cadre_audit::parse_log_file_name)
    };
    key(a) > key(b)
}

fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc());
    }
    let age = cadre_protocol::duration::parse_duration(text).map_err(|_| since_error(text))?;
    let age = chrono::Duration::from_std(age).map_err(|_| since_error(text))?;
    Ok(Utc::now() - age)
}

fn since_error(text: &str) -> String {
    format!(
        "`{text}` is not a time: use RFC 3339 (2025-06-01T12:00:00Z), a date (2025-06-01) or an age (30m, 2h, 7d)"
    )
}
