#!/usr/bin/env bash
# Keys beyond the token's capacity (docs/custody.md, "More keys than the
# token holds"): DEVICES x 10 release keys (default 20: 200 keys, nine
# RSA-2048 and one P-256 per device) with hsm.capacity CAPACITY (default
# 40, a YubiHSM 2's worth of RSA keys) and hsm.unwrap-slots SLOTS (default
# 8), through tests/integration/t-custody-capacity.sh at that size. Prints
# keygen's time, and for one request spread over every key (one operation
# each, in key-set order: the worst case for the LRU, as no unwrapped key
# is used twice) the HSM sign operations, unwrap operations, evictions and
# the time of the `rombsr-sign sign --once` pass and of its sign phase.
#
# Usage: bench/capacity.sh [BUILD_DIR] [DEVICES] [CAPACITY] [SLOTS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
export ROMBSR_BUILD=$build ROMBSR_TOP=$top CAPACITY_DEVICES=${2:-20} CAPACITY=${3:-40} CAPACITY_SLOTS=${4:-8}
ROMBSR_TEST_CACHE=$(mktemp -d /tmp/rombsr-capacity-bench.XXXXXX)
export ROMBSR_TEST_CACHE
trap 'rm -rf "$ROMBSR_TEST_CACHE"' EXIT
echo "$((CAPACITY_DEVICES * 10)) release keys, hsm.capacity $CAPACITY, hsm.unwrap-slots $CAPACITY_SLOTS" \
	"($((CAPACITY - CAPACITY_SLOTS)) kept in the token)"
bash "$top/tests/integration/t-custody-capacity.sh" > "$ROMBSR_TEST_CACHE/out.txt" 2>&1 || {
	tail -n 20 "$ROMBSR_TEST_CACHE/out.txt"
	exit 1
}
grep -E '^ok: (keygen|sign pass)' "$ROMBSR_TEST_CACHE/out.txt"
