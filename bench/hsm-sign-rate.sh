#!/usr/bin/env bash
# Prints the HSM layer's RSA-4096 signing rate as a ratio to a raw C_Sign
# loop on the same SoftHSM2 token in the same run (goal >= 0.95).
# Usage: bench/hsm-sign-rate.sh [BUILD_DIR] [ROUNDS] [PER_ROUND]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
rounds=${2:-10}
per=${3:-50}
work=$(mktemp -d /tmp/rombsr-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '[core]\n\tstate-dir = %s/state\n' "$work" > "$work/rombsr.conf"
export ROMBSR_CONFIG="$work/rombsr.conf"
"$build/rombsr-sign" hsm-provision >/dev/null 2>&1
"$build/rombsr-sign" keygen --authority release >/dev/null 2>&1
export SOFTHSM2_CONF="$work/state/softhsm2.conf"
"$build/bench/hsm_sign_rate" /usr/lib/softhsm/libsofthsm2.so pkcs11:token=rombsr-release \
	"$work/state/pins/release.pin" platform "$rounds" "$per"
