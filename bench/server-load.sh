#!/usr/bin/env bash
# The signing server under load (docs/server.md, issue 17): CLIENTS
# concurrent HTTPS clients (16 by default), each on one kept-alive
# connection with a client certificate, POST /v1/sign for DURATION seconds (20),
# every call a new digest signed by the real signers through the whole
# decision (policy, quota ledger, audit log). Prints the server's rate and
# p50/p99 latency, and the ratio to a raw C_Sign loop over the same
# sessions on the same token (sign.signer-sessions, SESSIONS=2 by default);
# the goal is >= 0.9.
# HSM=yubihsm-emulator runs it on the YubiHSM 2 emulator through the native
# backend: the server then moves the device's log into the audit log after
# each slice of calls, and the raw loop is bench/yubihsm_sign_rate's Sign
# PKCS1 loop (which reads the log and marks it read without logging it: the
# node's next drain logs that as a gap, which costs it nothing here).
# Usage: [CLIENTS=N] [DURATION=S] [SESSIONS=N] [HSM=softhsm2|yubihsm-emulator] bench/server-load.sh [BUILD_DIR]
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
bench_setup "${1:-}"

CLIENTS=${CLIENTS:-16}
DURATION=${DURATION:-20}
SESSIONS=${SESSIONS:-2}
HSM=${HSM:-softhsm2}
echo "setting up: $HSM key set, queue, identities, certificates..." >&2
case "$HSM" in
softhsm2) with_bundle ;;
yubihsm-emulator)
	. "$top/tests/integration/yubihsm-lib.sh"
	with_yubihsm_bundle
	;;
*) echo "HSM is softhsm2 or yubihsm-emulator" >&2; exit 2 ;;
esac
with_queue
sign_config
[ "$HSM" = softhsm2 ] || yh_section >> "$SIGN_CONF"
server_pki
server_clients
server_config
printf '[sign]\n\tsigner-sessions = %s\n' "$SESSIONS" >> "$SIGN_CONF"
printf '[server]\n\tmax-connections = %s\n' "$((CLIENTS + 4))" >> "$SIGN_CONF"

raw_rate() {
	if [ "$HSM" = softhsm2 ]; then
		"$ROMBSR_BUILD/bench/hsm_sign_rate" "$SOFTHSM_MODULE" pkcs11:token=rombsr-release "$T/state/pins/release.pin" \
			platform 5 100 "$SESSIONS" | sed -n 's/.*raw C_Sign loop \([0-9.]*\).*/\1/p'
	else
		"$ROMBSR_BUILD/bench/yubihsm_sign_rate" "$ROMBSR_CONFIG" platform 5 50 "$SESSIONS" |
			sed -n 's/.*raw Sign PKCS1 loop \([0-9.]*\)$/\1/p'
	fi
}
load() {
	"$ROMBSR_BUILD/bench/server_load" "$url/v1/sign" "$P/client-ca.pem" "$P/builder.pem" "$P/builder.key" \
		platform CKM_SHA256_RSA_PKCS "$1" "$2"
}
raw_before=$(raw_rate)
# A pass a second, as a node under load would be run: each pass fetches
# the queue (a git daemon process per fetch on this machine too).
SERVE_INTERVAL_MS=1000 start_server "$T/serve.log"
call_ready builder '{"key":"platform","mechanism":"CKM_SHA256_RSA_PKCS","digest":"'"$(printf x | sha256sum | cut -c1-64)"'"}' |
	grep -q '^200 ' || { echo "the server does not sign: $(cat "$T/out.json")" >&2; exit 1; }
load "$CLIENTS" 2 >/dev/null # warm up: connections, the CPU's clock
out=$(load "$CLIENTS" "$DURATION")
stop_server
raw_after=$(raw_rate)
raw=$(awk -v a="$raw_before" -v b="$raw_after" 'BEGIN { printf "%.1f", (a + b) / 2 }')
rate=$(sed -n 's|.* calls signed, \([0-9.]*\)/s.*|\1|p' <<<"$out")
echo "$out"
echo "raw $([ "$HSM" = softhsm2 ] && echo C_Sign || echo 'Sign PKCS1') loop over $SESSIONS sessions: $raw/s (before $raw_before, after $raw_after)"
awk -v r="$rate" -v w="$raw" 'BEGIN { printf "server/raw: %.3f (goal >= 0.9)\n", r / w }'
