#!/usr/bin/env bash
# Research engine throughput: fetch + extraction pages/s from local servers, a near-duplicate
# pass over 10,000 generated documents, and the containment pass over a run-sized set. Release
# mode, but without the release profile's fat LTO so the build stays quick on small machines.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  cargo run --release --quiet -p cadre-research --example research_bench
