#!/usr/bin/env bash
# Installs the tools the sandbox escape battery (crates/cli/tests/escape_battery.rs) drives:
# each escape attempt is made with a real program. Idempotent and quiet; needs root (apt).
set -euo pipefail
needed=()
have() { command -v "$1" >/dev/null 2>&1; }
have curl || needed+=(curl)
have wget || needed+=(wget)
have nc || needed+=(netcat-openbsd)
have strace || needed+=(strace)
[ -x /usr/bin/python3 ] || needed+=(python3)
have ip || needed+=(iproute2)
have getent || needed+=(libc-bin)
have setpriv || needed+=(util-linux)
have hyperfine || needed+=(hyperfine)
if [ "${#needed[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi
