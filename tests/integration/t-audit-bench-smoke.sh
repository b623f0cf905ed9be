#!/usr/bin/env bash
# The audit bench on a small log, so that it keeps building and running:
# a 10,000-entry log with checkpoints verifies, and append costs are printed.
set -euo pipefail
out=$("$ROMBSR_BUILD/bench/audit_verify" 10000)
printf '%s\n' "$out"
grep -q '^log: 10000 entries, 10 checkpoints' <<<"$out"
grep -q '^full verification' <<<"$out"
grep -q '^ratio last/first' <<<"$out"
