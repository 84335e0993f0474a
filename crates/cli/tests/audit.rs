//! `cadre audit` against a log written by the audit crate: verify's verdict and exit status
//! (edits, and records cut from the end against the head or an anchor), anchor, show's filters
//! and formats, path.

use assert_cmd::Command;
use cadre_audit::{
    AuditConfig, AuditEvent, AuditLog, AuditRecord, ChainHead, Decision, HEAD_FILE_NAME,
    NetworkAccess, NetworkOrigin, SessionIds, list_log_files,
};
use predicates::str::contains;
use std::path::Path;

fn write_log(dir: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = AuditConfig {
            retention_days: 0,
            ..AuditConfig::in_dir(dir)
        };
        let log = AuditLog::open(config, SessionIds::new("session-abc", "main")).unwrap();
        for (host, decision) in [
            ("a.test", Decision::Allow),
            ("b.test", Decision::Deny),
            ("c.test", Decision::Allow),
        ] {
            log.record(AuditEvent::Network(NetworkAccess {
                host: host.into(),
                port: None,
                origin: NetworkOrigin::Proxy,
                decision,
                reason: None,
            }));
        }
        log.close().await.unwrap();
    });
}

fn cadre(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("cadre").unwrap();
    cmd.env("CADRE_AUDIT_DIR", dir);
    cmd
}

#[test]
fn verify_reports_an_intact_log_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    cadre(dir.path())
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(contains("intact, 3 record(s) in 1 file(s), seq 1..3"))
        .stdout(contains("last hash: "));
}

#[test]
fn verify_names_the_edited_record_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    let file = list_log_files(dir.path()).unwrap()[0].clone();
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("b.test", "x.test");
    std::fs::write(&file, text).unwrap();
    cadre(dir.path())
        .args(["audit", "verify"])
        .assert()
        .code(1)
        .stdout(contains(format!(
            "BROKEN at {}:2 (seq 2): edited",
            file.display()
        )));
}

/// Keeps the first `keep` lines of the log's only file.
fn cut_log(dir: &Path, keep: usize) -> Vec<String> {
    let file = list_log_files(dir).unwrap()[0].clone();
    let lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let kept: String = lines[..keep].iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, kept).unwrap();
    lines
}

#[test]
fn verify_names_records_cut_from_the_end_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    cadre(dir.path())
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(contains("head: seq 3, reached"));
    cut_log(dir.path(), 2);
    cadre(dir.path())
        .args(["audit", "verify"])
        .assert()
        .code(1)
        .stdout(contains(
            "CUT at the end: the log ends at seq 2, but its head names seq 3: seq 3 is missing",
        ));
    cut_log(dir.path(), 1);
    cadre(dir.path())
        .args(["audit", "verify"])
        .assert()
        .code(1)
        .stdout(contains("seq 2..3 are missing (2 records)"));
}

#[test]
fn anchor_prints_the_head_and_verify_holds_the_log_to_it() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    let out = cadre(dir.path())
        .args(["audit", "anchor"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let anchor: ChainHead = text.parse().unwrap();
    assert_eq!(anchor.seq, 3);
    assert_eq!(text, format!("{anchor}\n"));
    let out = cadre(dir.path())
        .args(["audit", "anchor", "--format", "json"])
        .output()
        .unwrap();
    let json: ChainHead = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json, anchor);

    cadre(dir.path())
        .args(["audit", "verify", "--anchor", &text])
        .assert()
        .success()
        .stdout(contains("anchor: seq 3, reached"));

    // Someone cuts the last record and moves the head to match: only the anchor still knows.
    let lines = cut_log(dir.path(), 2);
    let second = AuditRecord::parse(&lines[1]).unwrap();
    std::fs::write(
        dir.path().join(HEAD_FILE_NAME),
        serde_json::to_string(&ChainHead::new(2, second.hash)).unwrap(),
    )
    .unwrap();
    cadre(dir.path())
        .args(["audit", "verify"])
        .assert()
        .success();
    cadre(dir.path())
        .args(["audit", "verify", "--anchor", &text])
        .assert()
        .code(1)
        .stdout(contains("but the anchor names seq 3: seq 3 is missing"));
    cadre(dir.path())
        .args(["audit", "verify", "--anchor", "3:abc"])
        .assert()
        .code(2)
        .stderr(contains("64 lower-case hex digits"));
}

#[test]
fn anchor_refuses_a_log_that_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    cut_log(dir.path(), 1);
    cadre(dir.path())
        .args(["audit", "anchor"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("seq 2..3 are missing"))
        .stderr(contains("no anchor printed"));
}

#[test]
fn show_filters_by_event_and_prints_json_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    let output = cadre(dir.path())
        .args([
            "audit",
            "show",
            "--format",
            "json",
            "--session",
            "session-a",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stored = std::fs::read_to_string(&list_log_files(dir.path()).unwrap()[0]).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), stored);

    cadre(dir.path())
        .args(["audit", "show", "--event", "network", "--since", "1h"])
        .assert()
        .success()
        .stdout(contains("b.test by proxy"))
        .stdout(contains("deny"));
    cadre(dir.path())
        .args(["audit", "show", "--format", "json", "--event", "command"])
        .assert()
        .success()
        .stdout("");
}

#[test]
fn path_prints_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    cadre(dir.path())
        .args(["audit", "path"])
        .assert()
        .success()
        .stdout(format!("{}\n", dir.path().display()));
    cadre(dir.path())
        .args(["audit", "--dir", "/elsewhere/audit", "path"])
        .assert()
        .success()
        .stdout("/elsewhere/audit\n");
}
