#!/usr/bin/env bash
# rombsr rom-sign on a sample ROM of at least 300 signing operations
# (scripts/sample-rom.sh with 60 APKs: 5 HSM operations each — v1, v2 and
# v3 over a placeholder v1, then v2 and v3 again —, 2 vbmeta, the OTA
# package, the release manifest), through the real sign node daemon, in one
# run. Prints the wall time and
#
#   ratio = wall / (HSM time + tools' time)       goal <= 1.15
#
#   wall        rom-sign from start to end, measured here;
#   HSM time    the daemon's signing phase (worker -> signer -> HSM), the
#               "sign X s" total of its last "published" line;
#   tools' time the plan's steps (every capture run, including the last one
#               whose outputs are final, and the verifiers), the "steps"
#               and "verify" totals rom-sign prints, each step timed around
#               its fork/wait.
#
# What is left is rom-sign's own cost: submit (git commit signed, push),
# the sign node's verification and publishing, apply's fetch and checks,
# and the time the daemon takes to notice a request (its 200 ms interval).
# Usage: bench/rom-sign.sh [BUILD_DIR] [APKS]
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
bench_setup "${1:-}"
apks=${2:-60}

echo "setting up: SoftHSM2 key set, queue, identities, sample ROM of $apks APKs..." >&2
with_bundle
with_queue
sign_config
SAMPLE_ROM_APKS=$apks SAMPLE_ROM_BUNDLE="$T/bundle" "$TOP/scripts/sample-rom.sh" "$T/rom" >/dev/null
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 2>"$T/daemon.log" &
daemon=$!

t0=$(date +%s.%N)
env SOFTHSM2_CONF="$T/no-token.conf" "$ROMBSR" --config "$BUILD_CONF" rom-sign --plan "$T/rom/plan.json" \
	--state "$T/state-rom" --timeout 600 > "$T/run.out" 2> "$T/run.err" || { tail -5 "$T/run.err"; exit 1; }
t1=$(date +%s.%N)
kill -TERM "$daemon"
wait "$daemon" || true

summary=$(cat "$T/run.out")
last=$(grep 'since the start' "$T/daemon.log" | tail -n 1)
hsm_ops=$(sed -n 's/.*since the start: \([0-9]*\) HSM operations.*/\1/p' <<<"$last")
hsm=$(sed -n 's/.* sign \([0-9.]*\)s, publish.*/\1/p' <<<"$last")
steps=$(sed -n 's/.*; steps \([0-9.]*\) s,.*/\1/p' <<<"$summary")
verify=$(sed -n 's/.*, verify \([0-9.]*\) s,.*/\1/p' <<<"$summary")
requests=$(sed -n 's/.* \([0-9]*\) requests this run.*/\1/p' <<<"$summary")
echo "$summary"
awk -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v h="$hsm" -v s="$steps" -v v="$verify" \
	-v ops="$hsm_ops" -v req="$requests" -v n="$apks" 'BEGIN {
	printf "sample ROM, %d APKs: %d HSM operations in %d requests\n", n, ops, req
	printf "  wall %.2f s; HSM %.2f s; tools %.2f s (steps %.2f s, verifiers %.2f s)\n", w, h, s + v, s, v
	printf "  rom-sign overhead %.2f s; ratio wall / (HSM + tools) %.3f (goal <= 1.15)\n", w - h - s - v, w / (h + s + v)
}'
[ "${hsm_ops:-0}" -ge 300 ] || { echo "only $hsm_ops HSM operations" >&2; exit 1; }
