#!/usr/bin/env bash
# A key set of DEVICES devices x 10 keys (default 50: 500 keys, nine
# RSA-2048 and one EC key per device, P-384 for d001 and P-256 for the
# others, plus the manifest and audit keys) end to end:
# tests/integration/t-keyset.sh at that size, printing its
# measures: keygen of the whole set in SoftHSM2, export-public, and one
# `rombsr-sign sign --once` pass (signers started, every key of the set
# looked up in the token, a request over two keys of every device signed),
# then the apply of that request.
#
# Usage: bench/keyset.sh [BUILD_DIR] [DEVICES]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
export ROMBSR_BUILD=$build ROMBSR_TOP=$top KEYSET_DEVICES=${2:-50}
ROMBSR_TEST_CACHE=$(mktemp -d /tmp/rombsr-keyset-bench.XXXXXX)
export ROMBSR_TEST_CACHE
trap 'rm -rf "$ROMBSR_TEST_CACHE"' EXIT
echo "key set: $KEYSET_DEVICES devices x 10 keys + manifest + audit = $((KEYSET_DEVICES * 10 + 2)) keys"
start=$SECONDS
bash "$top/tests/integration/t-keyset.sh" > "$ROMBSR_TEST_CACHE/out.txt" 2>&1 || {
	tail -n 20 "$ROMBSR_TEST_CACHE/out.txt"
	exit 1
}
grep -E '^ok: (keygen|export-public|sign pass|apply)' "$ROMBSR_TEST_CACHE/out.txt"
echo "whole run (with the refusal checks and the queue): $((SECONDS - start)) s"
