#!/usr/bin/env bash
# Whole-process figures for the agent core, on the release build:
#   1. `cadre --version`: cold start time and peak memory;
#   2. one `cadre exec` turn with one shell call against a zero-latency local model server:
#      wall time and peak memory, with the audit log off, on without fsync, and on (the
#      default, with fsync); the differences are what the audit log costs a turn;
#   3. the release binary's size.
# Needs hyperfine (apt-get install hyperfine) and GNU time (/usr/bin/time).
# CADRE=... SERVER=... measure other builds of cadre and the scripted server (to compare two
# versions) instead of building this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-50}

if [[ -z "${CADRE:-}" ]]; then
    cargo build --release -q -p cadre-cli -p cadre-test-support --bin cadre --bin cadre-scripted-model
fi
cadre=${CADRE:-$PWD/target/release/cadre}
server=${SERVER:-$PWD/target/release/cadre-scripted-model}

peak_kib() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }
mean_ms() { # hyperfine's mean and median in milliseconds
    hyperfine -N --warmup 5 --runs "$runs" --export-json /tmp/cadre-bench.json "$@" >/dev/null 2>&1
    python3 - <<'PY'
import json
r = json.load(open("/tmp/cadre-bench.json"))["results"][0]
print("%.2f ms (median %.2f ms, sd %.2f ms, min %.2f ms)" % (r["mean"] * 1000, r["median"] * 1000, r["stddev"] * 1000, r["min"] * 1000))
PY
}

echo "cadre --version"
echo "  cold start: $(mean_ms "$cadre --version")"
echo "  peak memory: $(peak_kib "$cadre" --version) KiB"

work=$(mktemp -d)
homes=$(mktemp -d)
log=$(mktemp)
"$server" --mode shell-then-answer --port 0 >"$log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; rm -rf "$work" "$homes" "$log"' EXIT
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.05; done
base_url=$(sed -n 's/^listening on //p' "$log")
echo "cadre exec, one turn with one shell call (zero-latency server, profile workspace-write)"
for audit in "enabled = false" "fsync = false" "fsync = true"; do
    home="$homes/${audit// /}"
    mkdir -p "$home"
    cat >"$home/config.toml" <<TOML
model = "bench"
model_provider = "bench"
[audit]
$audit
[model_providers.bench]
name = "bench"
base_url = "$base_url"
wire_api = "responses"
TOML
    export CADRE_HOME=$home
    cd "$work"
    echo "  audit $audit"
    echo "    wall time: $(mean_ms "$cadre exec --profile workspace-write 'run true'")"
    echo "    peak memory: $(peak_kib "$cadre" exec --profile workspace-write 'run true') KiB"
    cd - >/dev/null
done

size=$(stat -c %s "$cadre")
echo "release binary: $size bytes ($(python3 -c "print(f'{$size/1048576:.1f}')") MiB)"
