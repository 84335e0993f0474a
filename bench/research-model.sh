#!/usr/bin/env bash
# Deep research with a model: the overhead of verification per sentence against a zero-latency
# scripted model server, and a resumed run's time against the original run's. Release mode,
# without the release profile's fat LTO so the build stays quick on small machines.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  cargo run --release --quiet -p cadre-research --example research_model_bench
