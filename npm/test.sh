#!/usr/bin/env bash
# The npm install test: packs cadre the way a release does, installs the tarballs globally into a
# temporary prefix with no registry access, and checks that the installed `cadre` runs, passes
# exit statuses through, and that the launcher passes signals through (npm/test/launcher.test.mjs).
#
#   npm/test.sh
#
# Environment: CADRE_SKIP_BUILD=1 reuses an existing target/release/cadre; CADRE_BINARY=PATH packs
# that binary instead of building (both as for npm/pack.sh).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

work="$(mktemp -d "${TMPDIR:-/tmp}/cadre-npm-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
checks=0

fail() {
  echo "npm/test.sh: FAIL: $*" >&2
  exit 1
}

# Runs the installed cadre as a user would: through the npm bin link, never with an override.
installed_cadre() {
  env -u CADRE_BINARY "$work/prefix/bin/cadre" "$@"
}

expect_status() {
  local expected="$1" actual="$2" what="$3"
  [[ "$actual" == "$expected" ]] || fail "$what exited $actual, expected $expected"
  checks=$((checks + 1))
}

echo "== pack" >&2
npm/pack.sh "$work/dist" >"$work/packed.txt"
host_platform="$(node -p 'process.platform + "-" + process.arch')"
main_tgz="$(grep -E '/cadre-cli-[0-9][^/]*\.tgz$' "$work/packed.txt")" || fail "pack.sh wrote no main package tarball"
platform_tgz="$(grep -E "/cadre-cli-$host_platform-[^/]*\.tgz$" "$work/packed.txt")" ||
  fail "pack.sh wrote no tarball for $host_platform"
version="$(cargo metadata --no-deps --format-version 1 --offline |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).packages.find(p=>p.name==="cadre-cli").version))')"
[[ "$(basename "$main_tgz")" == "cadre-cli-$version.tgz" ]] ||
  fail "main tarball $(basename "$main_tgz") does not carry the Cargo version $version"
[[ "$(basename "$platform_tgz")" == "cadre-cli-$host_platform-$version.tgz" ]] ||
  fail "platform tarball $(basename "$platform_tgz") does not carry the Cargo version $version"

echo "== install (offline, empty cache, unreachable registry)" >&2
# --offline keeps npm from looking up the five optional platform packages that are not on the
# command line (it would retry each against the registry for minutes); the unreachable registry
# and the empty cache make sure nothing is fetched from anywhere.
npm install --global --prefix "$work/prefix" --offline --no-audit --no-fund --no-update-notifier \
  --cache "$work/npm-cache" --registry http://127.0.0.1:9/ "$main_tgz" "$platform_tgz" \
  >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "npm install of the packed tarballs failed"; }
[[ -x "$work/prefix/bin/cadre" ]] || fail "npm install did not link $work/prefix/bin/cadre"
# Every version stamped, including each optional dependency of the main package.
node -e '
  const [modules, version, platform] = process.argv.slice(1);
  const main = require(`${modules}/cadre-cli/package.json`);
  const platformPackage = require(`${modules}/cadre-cli-${platform}/package.json`);
  const wrong = [[`cadre-cli`, main.version], [`cadre-cli-${platform}`, platformPackage.version],
    ...Object.entries(main.optionalDependencies).map(([name, v]) => [`optionalDependencies.${name}`, v])]
    .filter(([, v]) => v !== version);
  if (Object.keys(main.optionalDependencies).length !== 6) wrong.push(["optionalDependencies count", Object.keys(main.optionalDependencies).length]);
  if (wrong.length) { console.error(wrong.map(([n, v]) => `${n}=${v}`).join(", ")); process.exit(1); }
' "$work/prefix/lib/node_modules" "$version" "$host_platform" || fail "installed package versions are not all $version"
checks=$((checks + 1))

echo "== run the installed cadre" >&2
version_line="$(installed_cadre --version)" || fail "cadre --version failed"
[[ "$version_line" == "cadre $version"* ]] || fail "cadre --version printed '$version_line', expected cadre $version"
checks=$((checks + 1))

installed_cadre --help >"$work/help.txt" || fail "cadre --help failed"
grep -q '^Usage: cadre' "$work/help.txt" || fail "cadre --help printed no usage line"
checks=$((checks + 1))

installed_cadre completion bash >"$work/completion.bash" || fail "cadre completion bash failed"
grep -q 'complete .*cadre' "$work/completion.bash" || fail "cadre completion bash printed no completion"
checks=$((checks + 1))

status=0
installed_cadre completion nosuchshell >/dev/null 2>&1 || status=$?
expect_status 2 "$status" "cadre completion nosuchshell (a usage error)"

if installed_cadre policy --help 2>/dev/null | grep -q '^  check'; then
  status=0
  installed_cadre policy check -- ls >"$work/policy.txt" 2>&1 || status=$?
  [[ "$status" -lt 2 ]] || { cat "$work/policy.txt" >&2; fail "cadre policy check -- ls exited $status"; }
  checks=$((checks + 1))
fi

echo "== launcher tests" >&2
node --test npm/test/launcher.test.mjs >"$work/launcher-tests.log" 2>&1 ||
  { cat "$work/launcher-tests.log" >&2; fail "launcher tests failed"; }
launcher_tests="$(sed -n 's/^# pass //p' "$work/launcher-tests.log")"

binary_bytes="$(wc -c <"$work/prefix/lib/node_modules/cadre-cli-$host_platform/bin/cadre")"
echo "npm/test.sh: PASS: cadre-cli $version for $host_platform installed offline from $(basename "$main_tgz") + $(basename "$platform_tgz"); $checks install checks and $launcher_tests launcher tests passed; binary $binary_bytes bytes"
