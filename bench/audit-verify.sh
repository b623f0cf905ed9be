#!/usr/bin/env bash
# Audit log bench: full verification of a 100,000-entry log (goal < 10 s)
# and the cost of one durable append at ~1k, 10k and 100k entries (flat).
# Usage: bench/audit-verify.sh [BUILD_DIR] [ENTRIES]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
entries=${2:-100000}
exec "$build/bench/audit_verify" "$entries"
