#!/usr/bin/env bash
# Retrieval evaluation of `cadre deep-research --provider local --no-model` against a page-level
# BM25 baseline, on Rust by Example from the rust-docs component (questions and gold chapters in
# bench/research-eval/gold.toml). The book's all-in-one page is copied under a neutral name.
# Release mode, without the release profile's fat LTO so the build stays quick.
set -euo pipefail
cd "$(dirname "$0")/.."
book="$(rustc --print sysroot)/share/doc/rust/html/rust-by-example"
[ -f "$book/print.html" ] || { echo "rust-docs is not installed: rustup component add rust-docs" >&2; exit 1; }
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
# The English chapters only (the translations live in es/, ja/, ko/ and zh/).
(cd "$book" && find . -name '*.html' -not -path './es/*' -not -path './ja/*' -not -path './ko/*' -not -path './zh/*' -print0) |
  while IFS= read -r -d '' page; do
    mkdir -p "$corpus/$(dirname "$page")"
    cp "$book/$page" "$corpus/$page"
  done
mv "$corpus/print.html" "$corpus/collected-7f3a.html"
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
cargo build --release --quiet -p cadre-cli
cargo run --release --quiet -p cadre-research --example research_eval -- \
  "$PWD/target/release/cadre" "$corpus" bench/research-eval/gold.toml collected-7f3a.html
