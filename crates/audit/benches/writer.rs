//! Records per second through the audit writer: queued (batched) and durable (fdatasync each).

use cadre_audit::{
    AuditConfig, AuditEvent, AuditLog, CommandDecided, Decision, PolicyDecision, SessionIds,
};
use cadre_protocol::SecurityProfile;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn command_event(i: u64) -> AuditEvent {
    AuditEvent::Command(CommandDecided {
        command_id: format!("cmd-{i}"),
        argv: Some(vec![
            "cargo".into(),
            "test".into(),
            "-p".into(),
            "cadre-audit".into(),
        ]),
        script: None,
        cwd: "/work/project".into(),
        profile: SecurityProfile::WorkspaceWrite,
        decision: Decision::Allow,
        policy_decision: PolicyDecision::Allow,
        policy_rule: Some("cargo-test".into()),
        approval: None,
    })
}

fn bench_writer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = AuditConfig {
        retention_days: 0,
        secret_names: Vec::new(),
        queue_capacity: 65_536,
        ..AuditConfig::in_dir(dir.path())
    };
    let log = AuditLog::open(config, SessionIds::new("bench-session", "agent-0")).unwrap();

    const QUEUED_BATCH: u64 = 1_000;
    let mut group = c.benchmark_group("audit_writer");
    group.throughput(Throughput::Elements(QUEUED_BATCH));
    group.bench_function("queued_1000_then_flush", |b| {
        b.iter(|| {
            for i in 0..QUEUED_BATCH {
                log.record(command_event(i));
            }
            runtime.block_on(log.flush()).unwrap();
        })
    });
    const LARGE_BATCH: u64 = 10_000;
    group.throughput(Throughput::Elements(LARGE_BATCH));
    group.bench_function("queued_10000_then_flush", |b| {
        b.iter(|| {
            for i in 0..LARGE_BATCH {
                log.record(command_event(i));
            }
            runtime.block_on(log.flush()).unwrap();
        })
    });
    // Eight callers waiting at once share one fdatasync (the writer gathers what is queued).
    const CONCURRENT: u64 = 8;
    group.throughput(Throughput::Elements(CONCURRENT));
    group.bench_function("durable_8_concurrent", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let waits: Vec<_> = (0..CONCURRENT)
                    .map(|i| {
                        let log = log.clone();
                        tokio::spawn(async move { log.record_durable(command_event(i)).await })
                    })
                    .collect();
                for wait in waits {
                    wait.await.unwrap().unwrap();
                }
            })
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("durable", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            runtime
                .block_on(log.record_durable(command_event(i)))
                .unwrap();
        })
    });
    group.finish();
    runtime.block_on(log.close()).unwrap();
}

criterion_group!(benches, bench_writer);
criterion_main!(benches);
