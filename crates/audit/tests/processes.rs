//! Real processes sharing one log: concurrent writers keep one unbroken chain, and a writer
//! killed with SIGKILL leaves a log that verifies up to its last complete record.
//!
//! The child writers are this test binary re-run with `CADRE_AUDIT_TEST_CHILD` set: the
//! `child_writer` test then writes instead of doing nothing.

use cadre_audit::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const CHILD_ENV: &str = "CADRE_AUDIT_TEST_CHILD";
const CHILD_DIR_ENV: &str = "CADRE_AUDIT_TEST_DIR";
const RECORDS_PER_PROCESS: u64 = 500;

fn event(writer: &str, i: u64) -> AuditEvent {
    AuditEvent::Network(NetworkAccess {
        host: format!("{writer}.example.test"),
        port: Some(443),
        origin: NetworkOrigin::Proxy,
        decision: if i.is_multiple_of(2) {
            Decision::Allow
        } else {
            Decision::Deny
        },
        reason: Some(format!("record {i} {}", "x".repeat(200))),
    })
}

/// Does nothing unless re-run as a child by the tests below.
#[test]
fn child_writer() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = std::env::var(CHILD_DIR_ENV).expect("child gets a directory");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = AuditConfig {
            retention_days: 0,
            batch_window_ms: 1,
            ..AuditConfig::in_dir(&dir)
        };
        let log = AuditLog::open(
            config,
            SessionIds::new(format!("session-{mode}"), "agent-0"),
        )
        .unwrap();
        match mode.as_str() {
            "forever" => {
                // Mix queued and durable writes until killed.
                for i in 0u64.. {
                    if i.is_multiple_of(50) {
                        log.record_durable(event("victim", i)).await.unwrap();
                    } else {
                        log.record(event("victim", i));
                    }
                    if i.is_multiple_of(8) {
                        tokio::task::yield_now().await;
                    }
                }
            }
            writer => {
                for i in 0..RECORDS_PER_PROCESS {
                    if i.is_multiple_of(100) {
                        log.record_durable(event(writer, i)).await.unwrap();
                    } else {
                        log.record(event(writer, i));
                    }
                }
                log.close().await.unwrap();
            }
        }
    });
}

fn spawn_child(dir: &Path, mode: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_writer",
            "--test-threads",
            "1",
            "--nocapture",
        ])
        .env(CHILD_ENV, mode)
        .env(CHILD_DIR_ENV, dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn read_records(dir: &Path) -> Vec<AuditRecord> {
    let mut records = Vec::new();
    for file in list_log_files(dir).unwrap() {
        let text = std::fs::read_to_string(file).unwrap();
        for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            records.push(AuditRecord::parse(line.trim_end()).unwrap());
        }
    }
    records
}

#[test]
fn four_concurrent_processes_write_one_intact_chain() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..4)
        .map(|n| spawn_child(dir.path(), &format!("w{n}")))
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a writer process failed");
    }
    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{}", report.problem.unwrap());
    assert_eq!(report.incomplete_tail, None);
    assert_eq!(report.records, 4 * RECORDS_PER_PROCESS);
    let records = read_records(dir.path());
    for n in 0..4 {
        let host = format!("w{n}.example.test");
        let mine: Vec<u64> = records
            .iter()
            .filter_map(|r| match &r.event {
                AuditEvent::Network(net) if net.host == host => Some(
                    net.reason
                        .as_deref()
                        .unwrap()
                        .split(' ')
                        .nth(1)
                        .unwrap()
                        .parse()
                        .unwrap(),
                ),
                _ => None,
            })
            .collect();
        // All of each writer's records, in the order it wrote them.
        assert_eq!(
            mine,
            (0..RECORDS_PER_PROCESS).collect::<Vec<_>>(),
            "writer w{n}"
        );
    }
}

#[test]
fn a_writer_killed_mid_run_leaves_a_log_intact_up_to_its_last_complete_record() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_child(dir.path(), "forever");
    // Wait until the child has written a good number of records (not a timing assumption: we
    // wait for the file to reach a size, however long that takes).
    loop {
        let written: u64 = list_log_files(dir.path())
            .unwrap()
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .sum();
        if written > 200_000 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the writer exited early"
        );
        std::thread::yield_now();
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let report = verify_dir(dir.path()).unwrap();
    assert!(report.is_intact(), "{}", report.problem.unwrap());
    assert!(report.records > 100, "{report:?}");
    let complete_before = report.records;

    // A new writer continues the chain; whatever was complete stays, an incomplete tail is cut
    // and noted.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = AuditConfig {
            retention_days: 0,
            ..AuditConfig::in_dir(dir.path())
        };
        let log = AuditLog::open(config, SessionIds::new("after", "agent-0")).unwrap();
        log.record_durable(event("after", 0)).await.unwrap();
        log.close().await.unwrap();
    });
    let after = verify_dir(dir.path()).unwrap();
    assert!(after.is_intact(), "{}", after.problem.unwrap());
    assert_eq!(after.incomplete_tail, None);
    let repaired = u64::from(report.incomplete_tail.is_some());
    assert_eq!(after.records, complete_before + 1 + repaired);
}
