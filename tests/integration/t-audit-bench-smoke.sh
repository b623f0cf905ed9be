#!/usr/bin/env bash
# The audit bench on a small log, so that it keeps building and running:
# a 10,000-entry log with checkpoints verifies, and append costs are printed.
set -euo pipefail
out=$("$ROMBSR_BUILD/bench/audit_verify" 10000)
printf '%s\n' "$out"
grep -q '^log: 10000 entries, 10 checkpoints' <<<"$out"
grep -q '^full verification' <<<"$out"
grep -q '^ratio last/first' <<<"$out"

# The queue-level bench on a small queue: the generated queue verifies
# through a real clone with audit-verify, audit-show and audit-proof.
out=$(bash "$ROMBSR_TOP/bench/audit-queue.sh" "$ROMBSR_BUILD" 10000 2>&1)
printf '%s\n' "$out"
grep -q '^  10000 entries, [0-9]* requests, [0-9]* checkpoints; audit ok: 10000 entries' <<<"$out"
grep -q '^goal: audit-verify of 10000 entries < 10 s: second run .* (met)' <<<"$out"
grep -q '^  ratio last/first' <<<"$out"
