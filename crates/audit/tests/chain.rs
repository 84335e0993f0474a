//! Writing through `AuditLog` and checking with `verify_*`: tampering of every kind is found at
//! the record where it happened, a cut at the end by the head (or an anchor kept elsewhere);
//! rotation, loss accounting, redaction, retention and a writer dying before it moves the head
//! keep the chain intact.

use cadre_audit::*;
use std::path::{Path, PathBuf};

fn event(i: u64) -> AuditEvent {
    AuditEvent::FileChange(FileChange::new(
        FileChangeKind::Modify,
        [format!("src/file_{i}.rs")],
        Some(i),
    ))
}

fn config(dir: &Path) -> AuditConfig {
    AuditConfig {
        retention_days: 0,
        batch_window_ms: 0,
        ..AuditConfig::in_dir(dir)
    }
}

async fn write_log(dir: &Path, count: u64) -> PathBuf {
    let log = AuditLog::open(config(dir), SessionIds::new("s-1", "a-0")).unwrap();
    for i in 1..=count {
        log.record(event(i));
    }
    log.close().await.unwrap();
    let files = list_log_files(dir).unwrap();
    assert_eq!(files.len(), 1);
    files[0].clone()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

fn expect_break(dir: &Path, kind: BreakKind, line: u64) -> ChainBreak {
    let report = verify_dir(dir).unwrap();
    let problem = report
        .problem
        .clone()
        .unwrap_or_else(|| panic!("tampering not detected: {report:?}"));
    assert_eq!(problem.kind, kind, "{problem}");
    assert_eq!(problem.location.line, line, "{problem}");
    problem
}

#[tokio::test]
async fn an_intact_log_verifies_with_count_and_last_hash() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 10);
    assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(10)));
    assert_eq!(report.start, Some(ChainStart::Genesis));
    let last = AuditRecord::parse(lines(&file).last().unwrap()).unwrap();
    assert_eq!(report.last_hash.as_deref(), Some(last.hash.as_str()));
    assert_eq!(last.event, event(10));
    assert_eq!(last.session_id, "s-1");
}

#[tokio::test]
async fn an_edited_record_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let mut l = lines(&file);
    l[4] = l[4].replace("src/file_5.rs", "src/other.rs");
    write_lines(&file, &l);
    let problem = expect_break(dir.path(), BreakKind::Edited, 5);
    assert_eq!(problem.seq, Some(5));
}

#[tokio::test]
async fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let mut l = lines(&file);
    let body = l[4].replace("src/file_5.rs", "src/other.rs");
    let unsealed = format!("{}}}", &body[..body.rfind(",\"hash\":").unwrap()]);
    l[4] = hash_chain::seal(&unsealed).0;
    write_lines(&file, &l);
    expect_break(dir.path(), BreakKind::BrokenLink, 6);
}

#[tokio::test]
async fn a_deleted_record_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let mut l = lines(&file);
    l.remove(4);
    write_lines(&file, &l);
    let problem = expect_break(dir.path(), BreakKind::BrokenLink, 5);
    assert_eq!(problem.seq, Some(6));
    assert!(
        problem.detail.contains("1 record(s) before it are missing"),
        "{problem}"
    );
}

#[tokio::test]
async fn an_inserted_record_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let mut l = lines(&file);
    let copy = l[2].clone();
    l.insert(6, copy);
    write_lines(&file, &l);
    let problem = expect_break(dir.path(), BreakKind::BrokenLink, 7);
    assert_eq!(problem.seq, Some(3));
}

#[tokio::test]
async fn reordered_records_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let mut l = lines(&file);
    l.swap(3, 4);
    write_lines(&file, &l);
    let problem = expect_break(dir.path(), BreakKind::BrokenLink, 4);
    assert_eq!(problem.seq, Some(5));
}

#[tokio::test]
async fn a_record_cut_short_inside_the_log_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let mut l = lines(&file);
    let half = l[6].len() / 2;
    l[6].truncate(half);
    write_lines(&file, &l);
    expect_break(dir.path(), BreakKind::Malformed, 7);
}

#[tokio::test]
async fn an_incomplete_last_line_leaves_the_log_intact_up_to_the_record_before() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 9).await;
    // What a writer killed in the middle of appending record 10 leaves: part of a line, and
    // the head still at the record before it.
    let text = std::fs::read_to_string(&file).unwrap();
    let last_line = text.lines().last().unwrap().to_string();
    std::fs::write(
        &file,
        format!("{text}{}", &last_line[..last_line.len() - 30]),
    )
    .unwrap();
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 9);
    let tail = report.incomplete_tail.expect("the cut line is reported");
    assert_eq!(tail.location.line, 10);

    // The next writer cuts the partial line off, says so, and continues the chain.
    let log = AuditLog::open(config(dir.path()), SessionIds::new("s-2", "a-0")).unwrap();
    log.record_durable(event(99)).await.unwrap();
    log.close().await.unwrap();
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.incomplete_tail, None);
    assert_eq!(report.records, 11);
    let l = lines(&file);
    let repaired = AuditRecord::parse(&l[9]).unwrap();
    assert!(
        matches!(repaired.event, AuditEvent::TailRepaired(TailRepaired { discarded_bytes, .. }) if discarded_bytes > 0)
    );
    assert_eq!(AuditRecord::parse(&l[10]).unwrap().event, event(99));
}

#[tokio::test]
async fn a_missing_first_file_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        AuditConfig {
            max_file_bytes: 600,
            ..config(dir.path())
        },
        SessionIds::new("s", "a"),
    )
    .unwrap();
    for i in 1..=12 {
        log.record(event(i));
    }
    log.close().await.unwrap();
    let files = list_log_files(dir.path()).unwrap();
    assert!(files.len() >= 3, "size rotation made {} files", files.len());
    assert!(verify_dir(dir.path()).unwrap().is_intact());
    std::fs::remove_file(&files[0]).unwrap();
    let problem = expect_break(dir.path(), BreakKind::MissingStart, 1);
    assert_eq!(problem.location.file, files[1]);
    // Checking the remaining files on their own does not require the start.
    let report = verify_files(&files[1..]).unwrap();
    assert!(report.is_intact());
    assert!(matches!(report.start, Some(ChainStart::Unchecked { .. })));
}

#[tokio::test]
async fn a_deleted_middle_file_is_found_at_the_next_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        AuditConfig {
            max_file_bytes: 600,
            ..config(dir.path())
        },
        SessionIds::new("s", "a"),
    )
    .unwrap();
    for i in 1..=12 {
        log.record(event(i));
    }
    log.close().await.unwrap();
    let files = list_log_files(dir.path()).unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    let problem = expect_break(dir.path(), BreakKind::BrokenLink, 1);
    assert_eq!(problem.location.file, files[2]);
}

#[tokio::test]
async fn size_rotation_keeps_one_chain_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        AuditConfig {
            max_file_bytes: 1000,
            ..config(dir.path())
        },
        SessionIds::new("s", "a"),
    )
    .unwrap();
    for i in 1..=50 {
        log.record(event(i));
    }
    log.close().await.unwrap();
    let files = list_log_files(dir.path()).unwrap();
    assert!(files.len() > 5);
    for file in &files {
        assert!(std::fs::metadata(file).unwrap().len() <= 1000);
    }
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 50);
    // Each file after the first starts by linking to the previous file's last record.
    let first_of_second = AuditRecord::parse(&lines(&files[1])[0]).unwrap();
    let last_of_first = AuditRecord::parse(lines(&files[0]).last().unwrap()).unwrap();
    assert_eq!(first_of_second.prev, last_of_first.hash);
}

#[tokio::test]
async fn queue_overflow_is_recorded_as_records_lost() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        AuditConfig {
            queue_capacity: 4,
            batch_window_ms: 200,
            ..config(dir.path())
        },
        SessionIds::new("s", "a"),
    )
    .unwrap();
    for i in 1..=1000 {
        log.record(event(i));
    }
    log.flush().await.unwrap();
    log.record_durable(event(1001)).await.unwrap();
    log.close().await.unwrap();
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact());
    let records: Vec<AuditRecord> = lines(&list_log_files(dir.path()).unwrap()[0])
        .iter()
        .map(|l| AuditRecord::parse(l).unwrap())
        .collect();
    let written = records
        .iter()
        .filter(|r| matches!(r.event, AuditEvent::FileChange(_)))
        .count() as u64;
    let lost: u64 = records
        .iter()
        .filter_map(|r| match &r.event {
            AuditEvent::RecordsLost(l) => Some(l.count),
            _ => None,
        })
        .sum();
    assert!(lost > 0, "a 4-slot queue cannot take 1000 records at once");
    assert_eq!(
        written + lost,
        1001,
        "every record is either written or counted lost"
    );
}

#[tokio::test]
async fn secrets_home_and_user_never_reach_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = AuditConfig {
        secret_values: vec![NamedSecret {
            name: "DEPLOY_KEY".into(),
            value: "zx81-spectrum-c64".into(),
        }],
        ..config(dir.path())
    };
    let log = AuditLog::open(cfg, SessionIds::new("s", "a")).unwrap();
    let home = std::env::var("HOME").unwrap();
    log.record_durable(AuditEvent::Command(CommandDecided {
        command_id: "c1".into(),
        argv: None,
        script: Some("curl -H 'Authorization: Bearer abc.def' https://x && echo zx81-spectrum-c64 sk-ant-api03-AAAABBBBCCCCDDDDEEEEFFFF".into()),
        cwd: format!("{home}/project"),
        profile: cadre_protocol::SecurityProfile::WorkspaceWrite,
        decision: Decision::Allow,
        policy_decision: PolicyDecision::Ask,
        policy_rule: Some("curl".into()),
        approval: Some(ApprovalAnswer::Approved),
    }))
    .await
    .unwrap();
    log.close().await.unwrap();
    let text = std::fs::read_to_string(&list_log_files(dir.path()).unwrap()[0]).unwrap();
    for leak in [
        "abc.def",
        "zx81-spectrum-c64",
        "AAAABBBBCCCCDDDD",
        home.as_str(),
    ] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
    let record = AuditRecord::parse(text.trim_end()).unwrap();
    let AuditEvent::Command(command) = record.event else {
        panic!("not a command: {text}")
    };
    assert_eq!(command.cwd, "~/project");
    assert!(command.script.unwrap().contains("[REDACTED:DEPLOY_KEY]"));
}

#[tokio::test]
async fn retention_deletes_old_files_and_verify_accepts_the_shortened_chain() {
    let dir = tempfile::tempdir().unwrap();
    // Write a chain as if on an old date, by renaming the files afterwards.
    write_log(dir.path(), 5).await;
    let old = dir.path().join("audit-2000-01-01-0000.jsonl");
    std::fs::rename(&list_log_files(dir.path()).unwrap()[0], &old).unwrap();
    let log = AuditLog::open(
        AuditConfig {
            retention_days: 30,
            ..config(dir.path())
        },
        SessionIds::new("s", "a"),
    )
    .unwrap();
    log.record_durable(event(6)).await.unwrap();
    log.close().await.unwrap();
    assert!(!old.exists());
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.start, Some(ChainStart::AfterRetention));
    assert_eq!(report.first_seq, Some(6));
}

#[tokio::test]
async fn durable_write_to_a_full_disk_fails() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(config(dir.path()), SessionIds::new("s", "a")).unwrap();
    log.record_durable(event(1)).await.unwrap();
    // The log file now leads to a device that is always full.
    if !Path::new("/dev/full").exists() {
        return;
    }
    let file = list_log_files(dir.path()).unwrap()[0].clone();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink("/dev/full", &file).unwrap();
    let result = log.record_durable(event(2)).await;
    let err = result.expect_err("writing to a full device must fail");
    assert!(err.to_string().contains("free disk space"), "{err}");
    let _ = log.close().await;
}

#[tokio::test]
async fn a_disabled_log_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        AuditConfig {
            enabled: false,
            ..config(dir.path())
        },
        SessionIds::new("s", "a"),
    )
    .unwrap();
    log.record(event(1));
    log.record_durable(event(2)).await.unwrap();
    log.close().await.unwrap();
    assert!(list_log_files(dir.path()).unwrap().is_empty());
}

#[tokio::test]
async fn sub_agent_handles_share_the_chain_with_their_own_ids() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(config(dir.path()), SessionIds::new("s", "main")).unwrap();
    let child = log.for_agent("worker-1", Some("main".into()));
    log.record(event(1));
    child.record_durable(event(2)).await.unwrap();
    drop(child);
    log.close().await.unwrap();
    let l = lines(&list_log_files(dir.path()).unwrap()[0]);
    let second = AuditRecord::parse(&l[1]).unwrap();
    assert_eq!(
        (second.agent_id.as_str(), second.parent_agent_id.as_deref()),
        ("worker-1", Some("main"))
    );
    assert!(verify_dir(dir.path()).unwrap().is_intact());
}

#[tokio::test]
async fn durable_records_without_fsync_are_written_before_returning() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        AuditConfig {
            fsync: false,
            batch_window_ms: 1_000,
            ..config(dir.path())
        },
        SessionIds::new("s-1", "a-0"),
    )
    .unwrap();
    log.record_durable(event(1)).await.unwrap();
    // Readable by another process at once, before the (long) batch window would have ended.
    let files = list_log_files(dir.path()).unwrap();
    let text = std::fs::read_to_string(files.last().unwrap()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    log.close().await.unwrap();
    assert!(verify_dir(dir.path()).unwrap().is_intact());
}

fn expect_cut(dir: &Path, first_missing: u64, last_missing: u64) -> VerifyReport {
    let report = verify_dir(dir).unwrap();
    assert!(
        !report.is_intact(),
        "the cut tail was not detected: {report:?}"
    );
    assert_eq!(report.problem, None, "{report:?}");
    match &report.head {
        Some(HeadCheck::CutTail {
            first_missing: first,
            last_missing: last,
            ..
        }) => assert_eq!((*first, *last), (first_missing, last_missing), "{report:?}"),
        other => panic!("expected a cut tail, got {other:?}"),
    }
    report
}

fn head_file(dir: &Path) -> ChainHead {
    std::fs::read_to_string(dir.join(HEAD_FILE_NAME))
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_head_names_the_last_record_of_the_last_durable_batch() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(config(dir.path()), SessionIds::new("s", "a")).unwrap();
    log.record_durable(event(1)).await.unwrap();
    let file = list_log_files(dir.path()).unwrap()[0].clone();
    let first = AuditRecord::parse(&lines(&file)[0]).unwrap();
    assert_eq!(head_file(dir.path()), ChainHead::new(1, first.hash));
    log.record(event(2));
    log.record_durable(event(3)).await.unwrap();
    let third = AuditRecord::parse(&lines(&file)[2]).unwrap();
    assert_eq!(head_file(dir.path()), ChainHead::new(3, third.hash.clone()));
    log.close().await.unwrap();
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        report.head,
        Some(HeadCheck::Reached(ChainHead::new(3, third.hash)))
    );
}

#[tokio::test]
async fn a_deleted_last_record_is_found_by_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let mut l = lines(&file);
    l.pop();
    write_lines(&file, &l);
    expect_cut(dir.path(), 10, 10);
}

#[tokio::test]
async fn several_records_cut_from_the_end_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let l = lines(&file);
    write_lines(&file, &l[..6]);
    expect_cut(dir.path(), 7, 10);
}

#[tokio::test]
async fn a_last_record_cut_short_is_a_cut_not_an_interrupted_write() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &text[..text.len() - 30]).unwrap();
    let report = expect_cut(dir.path(), 10, 10);
    assert!(report.incomplete_tail.is_some());
}

#[tokio::test]
async fn deleted_newest_files_are_found_by_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        AuditConfig {
            max_file_bytes: 600,
            ..config(dir.path())
        },
        SessionIds::new("s", "a"),
    )
    .unwrap();
    for i in 1..=12 {
        log.record(event(i));
    }
    log.close().await.unwrap();
    let files = list_log_files(dir.path()).unwrap();
    assert!(files.len() >= 3, "size rotation made {} files", files.len());
    let kept = verify_files(&files[..1]).unwrap().last_seq.unwrap();
    for file in &files[1..] {
        std::fs::remove_file(file).unwrap();
    }
    expect_cut(dir.path(), kept + 1, 12);
    for file in &files[..1] {
        std::fs::remove_file(file).unwrap();
    }
    expect_cut(dir.path(), 1, 12);
}

#[tokio::test]
async fn a_rewritten_last_record_diverges_from_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let mut l = lines(&file);
    let body = l[9].replace("src/file_10.rs", "src/other.rs");
    let unsealed = format!("{}}}", &body[..body.rfind(",\"hash\":").unwrap()]);
    l[9] = hash_chain::seal(&unsealed).0;
    write_lines(&file, &l);
    let report = verify_dir(dir.path()).unwrap();
    assert!(!report.is_intact());
    assert!(
        matches!(&report.head, Some(HeadCheck::Diverged { head, .. }) if head.seq == 10),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_damaged_head_file_fails_and_a_missing_one_is_only_unchecked() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 3).await;
    std::fs::write(dir.path().join(HEAD_FILE_NAME), "{\"v\":1,\"seq\":3}\n").unwrap();
    let report = verify_dir(dir.path()).unwrap();
    assert!(!report.is_intact());
    assert!(
        matches!(report.head, Some(HeadCheck::Unreadable { .. })),
        "{report:?}"
    );
    std::fs::remove_file(dir.path().join(HEAD_FILE_NAME)).unwrap();
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact());
    assert_eq!(report.head, Some(HeadCheck::Missing));
}

#[tokio::test]
async fn a_head_that_lags_the_log_is_no_cut() {
    // A writer that dies after its append but before it moves the head leaves the head behind.
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(config(dir.path()), SessionIds::new("s", "a")).unwrap();
    for i in 1..=5 {
        log.record(event(i));
    }
    log.flush().await.unwrap();
    let lagging = std::fs::read(dir.path().join(HEAD_FILE_NAME)).unwrap();
    for i in 6..=9 {
        log.record(event(i));
    }
    log.close().await.unwrap();
    std::fs::write(dir.path().join(HEAD_FILE_NAME), lagging).unwrap();
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.last_seq, Some(9));
    assert!(matches!(&report.head, Some(HeadCheck::Reached(h)) if h.seq == 5));

    // The next writer continues from the log's real end and moves the head past it.
    let log = AuditLog::open(config(dir.path()), SessionIds::new("s2", "a")).unwrap();
    log.record_durable(event(10)).await.unwrap();
    log.close().await.unwrap();
    assert_eq!(head_file(dir.path()).seq, 10);
    assert!(verify_dir(dir.path()).unwrap().is_intact());
}

#[tokio::test]
async fn an_anchor_kept_elsewhere_finds_a_cut_that_also_rewrote_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_log(dir.path(), 10).await;
    let anchor = verify_dir(dir.path()).unwrap();
    let anchor = ChainHead::new(anchor.last_seq.unwrap(), anchor.last_hash.unwrap());
    let ok = verify_dir_with_anchor(dir.path(), Some(&anchor)).unwrap();
    assert!(ok.is_intact(), "{ok:?}");
    assert_eq!(ok.anchor, Some(HeadCheck::Reached(anchor.clone())));

    // Cut three records and point the head at the new end: the head is satisfied, the anchor
    // is not.
    let l = lines(&file);
    write_lines(&file, &l[..7]);
    let seventh = AuditRecord::parse(&l[6]).unwrap();
    std::fs::write(
        dir.path().join(HEAD_FILE_NAME),
        serde_json::to_string(&ChainHead::new(7, seventh.hash)).unwrap(),
    )
    .unwrap();
    let report = verify_dir_with_anchor(dir.path(), Some(&anchor)).unwrap();
    assert!(
        matches!(report.head, Some(HeadCheck::Reached(_))),
        "{report:?}"
    );
    assert!(!report.is_intact());
    assert!(
        matches!(
            report.anchor,
            Some(HeadCheck::CutTail {
                first_missing: 8,
                last_missing: 10,
                ..
            })
        ),
        "{report:?}"
    );

    // An anchor on a log that went on growing is still reached.
    let log = AuditLog::open(config(dir.path()), SessionIds::new("s2", "a")).unwrap();
    let early = ChainHead::new(seventh.seq, AuditRecord::parse(&l[6]).unwrap().hash);
    log.record_durable(event(11)).await.unwrap();
    log.close().await.unwrap();
    let report = verify_dir_with_anchor(dir.path(), Some(&early)).unwrap();
    assert!(report.is_intact(), "{report:?}");
}
