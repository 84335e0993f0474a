#!/usr/bin/env bash
# Builds cadre for this machine (and for any other release target whose Rust target is installed),
# stamps every npm package with the Cargo workspace version, and writes the tarballs of the main
# package and of each built platform package into OUTDIR.
#
#   npm/pack.sh OUTDIR
#
# Environment:
#   CADRE_SKIP_BUILD=1   reuse target/release/cadre (and target/<triple>/release/cadre) when present
#   CADRE_BINARY=PATH    package this binary for the host platform instead of building one
#                        (e.g. target/debug/cadre while working on the packaging)
#
# Install the result without a registry (see npm/README.md):
#   npm install -g --prefix DIR --offline OUTDIR/*.tgz
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: npm/pack.sh OUTDIR" >&2
  exit 2
fi
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
out_dir="$(cd "$1" && pwd)"
cd "$repo_root"

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "pack.sh: $tool is required but not on PATH" >&2; exit 1; }
done

version="$(cargo metadata --no-deps --format-version 1 --offline |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).packages.find(p=>p.name==="cadre-cli");if(!p)process.exit(1);console.log(p.version)})')"
host_platform="$(node -p 'process.platform + "-" + process.arch')"
host_triple="$(rustc -vV | sed -n 's/^host: //p')"
exe_suffix=""
[[ "$host_platform" == win32-* ]] && exe_suffix=".exe"

# platform target exe, one line per release target
platform_rows="$(node -e '
  for (const p of require(process.argv[1])) console.log(p.platform, p.target, p.exe);
' "$repo_root/npm/platforms.json")"
if ! grep -q "^$host_platform " <<<"$platform_rows"; then
  echo "pack.sh: this machine ($host_platform) is not one of the published platforms in npm/platforms.json" >&2
  exit 1
fi

stage_dir="$(mktemp -d "${TMPDIR:-/tmp}/cadre-npm-stage.XXXXXX")"
trap 'rm -rf "$stage_dir"' EXIT

# Copies a binary into the staging area and strips it (the release profile strips already; a
# binary given through CADRE_BINARY may not be).
prepare_binary() {
  local source="$1" platform="$2" exe="$3"
  local dest="$stage_dir/bin-$platform/$exe"
  mkdir -p "$(dirname "$dest")"
  cp "$source" "$dest"
  chmod 755 "$dest"
  if [[ "$platform" == "$host_platform" ]] && command -v strip >/dev/null; then
    strip "$dest" 2>/dev/null || echo "pack.sh: strip failed on $dest; packaging it unstripped" >&2
  fi
  echo "$dest"
}

binary_args=()

# The host build.
if [[ -n "${CADRE_BINARY:-}" ]]; then
  host_binary="$CADRE_BINARY"
  echo "pack.sh: packaging $host_binary for $host_platform (CADRE_BINARY)" >&2
else
  host_binary="target/release/cadre$exe_suffix"
  if [[ "${CADRE_SKIP_BUILD:-}" == 1 && -x "$host_binary" ]]; then
    echo "pack.sh: reusing $host_binary (CADRE_SKIP_BUILD=1)" >&2
  else
    echo "pack.sh: cargo build --release -p cadre-cli" >&2
    cargo build --release -p cadre-cli
  fi
fi
[[ -f "$host_binary" ]] || { echo "pack.sh: $host_binary does not exist" >&2; exit 1; }
binary_args+=(--binary "$host_platform=$(prepare_binary "$host_binary" "$host_platform" "cadre$exe_suffix")")

# Other release targets, where their Rust target is installed. Failing to build one (no linker,
# no C toolchain for the target) is reported and skipped: the release workflow builds them all.
installed_targets="$(rustup target list --installed 2>/dev/null || true)"
while read -r platform target exe; do
  [[ "$platform" == "$host_platform" ]] && continue
  [[ "$target" == "$host_triple" ]] && continue
  if ! grep -qx "$target" <<<"$installed_targets"; then
    echo "pack.sh: skipping $platform: Rust target $target is not installed" >&2
    continue
  fi
  built="target/$target/release/$exe"
  if [[ "${CADRE_SKIP_BUILD:-}" == 1 && -f "$built" ]]; then
    echo "pack.sh: reusing $built (CADRE_SKIP_BUILD=1)" >&2
  elif ! cargo build --release -p cadre-cli --target "$target"; then
    echo "pack.sh: skipping $platform: cargo build --target $target failed" >&2
    continue
  fi
  binary_args+=(--binary "$platform=$(prepare_binary "$built" "$platform" "$exe")")
done <<<"$platform_rows"

node npm/stage.mjs --version "$version" --out "$stage_dir/packages" --pack "$out_dir" "${binary_args[@]}"
echo "pack.sh: packed cadre-cli $version for $host_platform into $out_dir" >&2
