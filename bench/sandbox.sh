#!/usr/bin/env bash
# Whole-process overhead of the sandbox: `cadre sandbox --profile P -- true` against plain `true`.
# Usage: bench/sandbox.sh [PROFILE] (default workspace-write). Builds the release binary first
# unless CADRE_BIN points at one. Uses hyperfine when installed, else a timed loop. LOAD=N keeps N
# busy loops running meanwhile: the restricting profiles' cost grows with load (scheduling, the
# network profiles' fork, the mount namespace's RCU-delayed teardown) much faster than plain
# process start-up does. offline and workspace-write exec the command in cadre's own process.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-workspace-write}"
runs="${RUNS:-300}"
bin="${CADRE_BIN:-target/release/cadre}"
if [ -z "${CADRE_BIN:-}" ]; then
    cargo build --release -q -p cadre-cli
fi
workspace="$(mktemp -d)"
load_pids=()
cleanup() {
    if [ "${#load_pids[@]}" -gt 0 ]; then kill "${load_pids[@]}" 2>/dev/null || true; fi
    rm -rf "$workspace"
}
trap cleanup EXIT
for _ in $(seq "${LOAD:-0}"); do
    (while :; do :; done) &
    load_pids+=("$!")
done
true_bin="$(command -v true)"
plain=("$true_bin")
sandboxed=("$bin" sandbox --profile "$profile" --cd "$workspace" -- "$true_bin")

if command -v hyperfine >/dev/null 2>&1; then
    export_file="$(mktemp)"
    hyperfine -N --warmup 20 --runs "$runs" --export-json "$export_file" \
        "${plain[*]}" "${sandboxed[*]}" >&2
    python3 - "$export_file" "$profile" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
plain, boxed = results
ms = lambda r, key: r[key] * 1000
print(f"plain true:              mean {ms(plain, 'mean'):.3f} ms, min {ms(plain, 'min'):.3f} ms")
print(f"cadre sandbox ({sys.argv[2]}): mean {ms(boxed, 'mean'):.3f} ms, min {ms(boxed, 'min'):.3f} ms")
print(f"overhead:                mean {ms(boxed, 'mean') - ms(plain, 'mean'):.3f} ms, min {ms(boxed, 'min') - ms(plain, 'min'):.3f} ms (target: at most 2 ms)")
PY
    rm -f "$export_file"
else
    mean_ms() {
        local start end
        start=$(date +%s%N)
        for _ in $(seq "$runs"); do "$@" >/dev/null; done
        end=$(date +%s%N)
        echo "scale=3; ($end - $start) / $runs / 1000000" | bc
    }
    plain_ms=$(mean_ms "${plain[@]}")
    boxed_ms=$(mean_ms "${sandboxed[@]}")
    echo "plain true:              $plain_ms ms"
    echo "cadre sandbox ($profile): $boxed_ms ms"
    echo "overhead:                $(echo "$boxed_ms - $plain_ms" | bc) ms (target: at most 2 ms)"
fi
