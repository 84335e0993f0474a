#!/usr/bin/env bash
# Whole-process figures for `cadre supervisor`, on the release build:
#   1. 8 tasks, one per built-in role, --strategy parallel, against a local model server that
#      answers every call after 200 ms; each agent makes one shell call and then answers. The
#      critical path is the planning call plus two agent calls (600 ms): wall time and its ratio
#      to the critical path (target: at most 1.1x), and whether every task completed;
#   2. 100 agents (--max-parallel 100, zero-latency server, one shell call each): wall time and
#      peak memory of the whole process (targets: under 2 s and under 150 MiB);
#   3. time from the start of the process to the planning request.
# Needs GNU time (/usr/bin/time) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}

cargo build --release -q -p cadre-cli -p cadre-test-support --bin cadre --bin cadre-scripted-model
cadre=$PWD/target/release/cadre
server=$PWD/target/release/cadre-scripted-model

now_ns() { date +%s%N; }
work=$(mktemp -d)
home=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work" "$home"' EXIT

# start_server LOG ARGS...: starts the scripted server; sets base_url.
start_server() {
    local log=$1
    shift
    "$server" "$@" --port 0 >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do grep -q listening "$log" && break; sleep 0.05; done
    base_url=$(sed -n 's/^listening on //p' "$log")
}

configure() {
    cat >"$home/config.toml" <<TOML
model = "bench"
model_provider = "bench"
[model_providers.bench]
name = "bench"
base_url = "$1"
wire_api = "responses"
TOML
}

export CADRE_HOME=$home
cd "$work"

check_completed() { # reads a JSON report on stdin; prints "N/M completed"
    python3 -c 'import json,sys
r=json.load(sys.stdin)
done=sum(1 for x in r["results"] if x["status"]=="completed")
print("%d/%d completed" % (done, len(r["plan"]["tasks"])))'
}

echo "cadre supervisor, 8 tasks (one per built-in role), parallel, model latency 200 ms"
log8=$(mktemp)
start_server "$log8" --mode supervisor-plan --tasks 8 --latency-ms 200
configure "$base_url"
best=""
for i in $(seq "$runs"); do
    : >"$work/out.json"
    start=$(now_ns)
    "$cadre" supervisor "check the project" --strategy parallel --format json >"$work/out.json" || true
    end=$(now_ns)
    ms=$(( (end - start) / 1000000 ))
    status=$(check_completed <"$work/out.json")
    plan_at=$(grep '^plan-request' "$log8" | tail -n 1 | cut -d' ' -f2)
    to_plan=$(( (plan_at - start) / 1000000 ))
    echo "  run $i: wall ${ms} ms ($(python3 -c "print(f'{$ms/600:.3f}')")x the 600 ms critical path), $status, start to planning request ${to_plan} ms"
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
echo "  best: ${best} ms ($(python3 -c "print(f'{$best/600:.3f}')")x)"

echo "cadre supervisor, 100 agents, --max-parallel 100, zero-latency server"
log100=$(mktemp)
start_server "$log100" --mode supervisor-plan --tasks 100
configure "$base_url"
for i in $(seq "$runs"); do
    start=$(now_ns)
    peak=$( { /usr/bin/time -f '%M' "$cadre" supervisor "check the project" --strategy parallel \
        --max-parallel 100 --max-agents 100 --format json >"$work/out100.json"; } 2>&1 | tail -n 1 ) || true
    end=$(now_ns)
    ms=$(( (end - start) / 1000000 ))
    plan_at=$(grep '^plan-request' "$log100" | tail -n 1 | cut -d' ' -f2)
    to_plan=$(( (plan_at - start) / 1000000 ))
    echo "  run $i: wall ${ms} ms, peak memory $(python3 -c "print(f'{$peak/1024:.1f}')") MiB, $(check_completed <"$work/out100.json"), start to planning request ${to_plan} ms"
done
rm -f "$log8" "$log100"
