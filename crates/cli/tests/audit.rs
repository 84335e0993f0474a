//! `cadre audit` against a log written by the audit crate: verify's verdict and exit status,
//! show's filters and formats, path.

use assert_cmd::Command;
use cadre_audit::{
    AuditConfig, AuditEvent, AuditLog, Decision, NetworkAccess, NetworkOrigin, SessionIds,
    list_log_files,
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
