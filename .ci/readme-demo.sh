#!/usr/bin/env bash
# Runs the README's scripted-server demo exactly as the README writes it (the commands are read
# from README.md, so they cannot drift), then checks that it showed what it promises: a write
# inside the workspace that worked and one outside it that the sandbox refused.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=$(awk '
    /^No model server at hand\?/ { seen = 1 }
    seen && /^```sh$/ { inside = 1; next }
    inside && /^```$/ { exit }
    inside { print }
' README.md)
if [ -z "$demo" ]; then
    echo "error: no demo block after \"No model server at hand?\" in README.md" >&2
    exit 1
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A private home: what the runner's ~/.cadre holds must not change the demo.
export CADRE_HOME="$work/home"
printf '%s\n' "$demo" > "$work/demo.sh"
echo "== README demo:"
cat "$work/demo.sh"
status=0
bash -euo pipefail "$work/demo.sh" > "$work/out" 2>&1 || status=$?
cat "$work/out"
server_pid=$(sed -n 's/^listening on .* (pid \([0-9]*\))$/\1/p' "$work/out" | head -1)

fail() {
    echo "error: the README demo $1" >&2
    exit 1
}
[ "$status" -eq 0 ] || fail "exited with status $status"
grep -q '^listening on http://127.0.0.1:8089/v1 (pid [0-9]*)$' "$work/out" \
    || fail "did not start the scripted server"
grep -q '^  written inside the workspace$' "$work/out" \
    || fail "did not write inside the workspace"
grep -Eq 'cadre-sandbox-demo.txt: (Read-only file system|Permission denied)' "$work/out" \
    || fail "did not show the sandbox refusing the write outside the workspace"
grep -q 'refused its write to ../cadre-sandbox-demo.txt outside it' "$work/out" \
    || fail "did not end with the model's account of the refusal"
[ ! -e ../cadre-sandbox-demo.txt ] || fail "wrote outside the workspace"
echo "== README demo: ok"
