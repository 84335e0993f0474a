//! Per-command cost of `Sandbox::run` (the path agents' commands take): `true` under `trusted`
//! (a plain spawn) against the restricting profiles, whose child confines itself before `exec`.
//! The difference is the sandbox's overhead per command.

use cadre_protocol::SecurityProfile;
use cadre_sandbox::{CommandRequest, Sandbox, SandboxPolicy, support_report};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio_util::sync::CancellationToken;

fn bench_run(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let workspace = tempfile::tempdir().expect("workspace");
    let true_path = ["/usr/bin/true", "/bin/true"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("true(1) is installed");
    let support = support_report();
    let mut group = c.benchmark_group("sandbox_run_true");
    for profile in [
        SecurityProfile::Trusted,
        SecurityProfile::WorkspaceWrite,
        SecurityProfile::Offline,
    ] {
        let enforceable = support
            .profiles
            .iter()
            .any(|s| s.profile == profile && s.enforceable);
        if !enforceable {
            continue;
        }
        let policy = SandboxPolicy::new(profile, workspace.path());
        let sandbox = Sandbox::new(policy, None).expect("sandbox");
        group.bench_function(profile.to_string(), |b| {
            b.iter(|| {
                let request = CommandRequest {
                    argv: vec![true_path.into()],
                    cwd: workspace.path().to_path_buf(),
                    timeout: None,
                };
                let out = runtime
                    .block_on(sandbox.run(request, CancellationToken::new(), None))
                    .expect("run");
                assert!(out.success());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_run);
criterion_main!(benches);
