# HSM faults: the release authority's module is the fault-injecting shim
# (tests/p11-fault) in front of SoftHSM2. Through the real sign node:
# transient faults (a failed C_Sign, a lost session or login, a token or
# device gone for a few calls) are retried after a re-open and the request is
# signed; delays change nothing; a device gone for good gets a signed
# rejection `hsm-unavailable` and the daemon goes on, signing the next
# request once the device is back; a request part-signed when the device
# went away is not rejected but answered once it is back, its signed part
# from the signing cache. Always: no session leaked (counted by the shim),
# the HSM signs each operation once (C_Sign calls that reached SoftHSM2 ==
# new cache lines == operations signed), and queue-verify, audit-verify and
# apply are clean at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/fault-lib.sh"

with_bundle
with_queue
sign_config
printf '[authority "release"]\n\tmodule = %s\n' "$SHIM" >> "$SIGN_CONF"
# The rules below count calls across a request's operations ("C_Sign calls
# after the first fail"), which names an operation only when the signer
# signs one at a time; t-sign-concurrent covers the same faults with
# several sessions, with rules that name the operation (len=).
printf '[sign]\n\tsigner-sessions = 1\n' >> "$SIGN_CONF"

# once_signed NAME DIRECTIVE...: one request signed by sign --once under
# the faults; the HSM signed each operation once, no session leaked.
once_signed() {
	local name=$1 before req
	shift
	faults "$@"
	rm -f "$COUNTERS"
	before=$(cache_lines)
	req=$(fresh_request "$name")
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/once.out" 2> "$T/once.err" ||
		fail "$name: sign --once failed: $(cat "$T/once.err")"
	[ "$(response_of "$req" | jq -r .status)" = signed ] ||
		fail "$name: not signed: $(response_of "$req" | jq -c .reason)"
	[ "$(counter sign_ok)" -eq 2 ] || fail "$name: $(counter sign_ok) C_Sign calls reached the HSM for 2 operations"
	[ $(($(cache_lines) - before)) -eq 2 ] || fail "$name: $(($(cache_lines) - before)) cache lines for 2 operations"
	[ "$(counter sessions_leaked_at_finalize)" -eq 0 ] || fail "$name: sessions leaked: $(cat "$COUNTERS")"
	[ "$(counter sessions_opened)" -eq "$(counter sessions_closed)" ] ||
		fail "$name: $(counter sessions_opened) sessions opened, $(counter sessions_closed) closed"
	[ "$(counter faults)" -ge "${WANT_FAULTS:-1}" ] || fail "$name: only $(counter faults) faults injected"
	echo "ok: $name: signed; faults $(counter faults), delays $(counter delays), C_Initialize $(counter initialize)," \
		"logins $(counter login), HSM signatures $(counter sign_ok), sessions opened/closed" \
		"$(counter sessions_opened)/$(counter sessions_closed) (max $(counter sessions_max)), leaked 0," \
		"$(grep -c 're-opening the token' "$T/once.err" || true) retries"
}

# Transient faults: each is cured by one or more re-opens within the bound.
once_signed device-error 'fail C_Sign CKR_DEVICE_ERROR times=2'
grep -q 'CKR_DEVICE_ERROR; re-opening the token in 100 ms (attempt 2 of 5)' "$T/once.err" ||
	fail "the retry is not logged: $(cat "$T/once.err")"
[ "$(counter initialize)" -eq 3 ] || fail "device-error: expected 2 re-opens, C_Initialize $(counter initialize)"
once_signed session-and-login 'fail C_SignInit CKR_SESSION_HANDLE_INVALID' \
	'fail C_Sign CKR_USER_NOT_LOGGED_IN after=1'
# The token is gone for two re-opens as well.
once_signed token-not-present 'fail C_Sign CKR_TOKEN_NOT_PRESENT' \
	'fail C_OpenSession CKR_TOKEN_NOT_PRESENT after=1 times=2'
grep -q 'attempt 4 of 5' "$T/once.err" || fail "token-not-present: not retried 3 times: $(cat "$T/once.err")"
once_signed device-removed 'fail C_Sign CKR_DEVICE_REMOVED' 'fail C_GetSlotList CKR_DEVICE_REMOVED after=2 times=1'
# Slow calls are waited for: nothing fails, nothing is re-opened.
WANT_FAULTS=0 once_signed delays 'delay C_Sign 300' 'delay C_OpenSession 200' 'delay C_Login 200' \
	'delay C_FindObjectsInit 20'
[ "$(counter delays)" -ge 4 ] && [ "$(counter initialize)" -eq 1 ] ||
	fail "delays: $(counter delays) delays, $(counter initialize) C_Initialize"

# A device gone for good, on the daemon: a signed rejection hsm-unavailable,
# the daemon goes on, and signs again once the device is back.
faults
rm -f "$COUNTERS"
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 2> "$T/daemon.log" &
daemon=$!
req=$(fresh_request daemon-1)
wait_response "$req" 30 || fail "the daemon did not answer: $(cat "$T/daemon.log")"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "daemon: first request not signed"
open_healthy=$(counter sessions_open)
signed=$(counter sign_ok)
[ "$open_healthy" -ge 1 ] && [ "$signed" -eq 2 ] || fail "daemon: sessions $open_healthy, HSM signatures $signed"

faults 'fail * CKR_DEVICE_REMOVED times=0'
before=$(cache_lines)
start=$SECONDS
rejected=$(fresh_request daemon-2)
wait_response "$rejected" 60 || fail "no answer while the device is gone: $(tail -5 "$T/daemon.log")"
response_of "$rejected" > "$T/rejected.json"
[ "$(jq -r .status "$T/rejected.json")" = rejected ] || fail "not rejected: $(cat "$T/rejected.json")"
[ "$(jq -r .reason.code "$T/rejected.json")" = hsm-unavailable ] || fail "reason: $(jq -c .reason "$T/rejected.json")"
jq -r .reason.message "$T/rejected.json" | grep -q 'the HSM stayed unavailable (5 attempts in .* s): .*CKR_DEVICE_REMOVED' ||
	fail "reason message: $(jq -r .reason.message "$T/rejected.json")"
[ $((SECONDS - start)) -lt 20 ] || fail "the rejection took $((SECONDS - start)) s"
[ "$(GNUPGHOME="$T/gpg-admin" git -C "$T/queue.git" log -1 --format=%GF main -- "$(resp_path "$rejected")")" = \
	"$FPR_SIGN" ] || fail "the rejection is not committed by the sign node"
kill -0 "$daemon" 2>/dev/null || fail "the daemon died with the device: $(tail -5 "$T/daemon.log")"
[ "$(counter sign_ok)" -eq "$signed" ] || fail "the HSM signed while it was gone"
[ "$(cache_lines)" -eq "$before" ] || fail "a cache line for a rejected request"
[ "$(counter sessions_open)" -eq 0 ] || fail "sessions open while the device is gone: $(cat "$COUNTERS")"
echo "ok: device removed for good: signed rejection hsm-unavailable in $((SECONDS - start)) s;" \
	"$(grep -c 're-opening the token' "$T/daemon.log") retries, $(counter faults) faults, daemon running"

faults
req=$(fresh_request daemon-3)
wait_response "$req" 60 || fail "no answer once the device is back: $(tail -5 "$T/daemon.log")"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "not signed once the device is back"
[ "$(counter sign_ok)" -eq $((signed + 2)) ] || fail "$(counter sign_ok) HSM signatures, expected $((signed + 2))"
[ "$(counter sessions_open)" -eq "$open_healthy" ] ||
	fail "sessions: $(counter sessions_open) open, $open_healthy before the fault"
grep -q 'the HSM is back' "$T/daemon.log" || fail "recovery not logged"
apply_id=$req

# Part-signed on the daemon: its first signature exists and must be
# published, so the request is not rejected; the passes fail (each answers
# the first operation from the cache) until the device is back.
faults 'fail C_Sign CKR_DEVICE_ERROR after=1 times=0'
before=$(cache_lines)
signed=$(counter sign_ok)
req=$(fresh_request partial-daemon)
for _ in $(seq 300); do
	[ "$(grep -c "request $req operation 1: .*the HSM stayed unavailable" "$T/daemon.log")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c "request $req operation 1: .*the HSM stayed unavailable" "$T/daemon.log")" -ge 2 ] ||
	fail "partial (daemon): no failed pass tried again: $(tail -5 "$T/daemon.log")"
git -C "$T/queue.git" cat-file -e "main:$(resp_path "$req")" 2>/dev/null && fail "partial (daemon): answered while away"
faults
wait_response "$req" 60 || fail "partial (daemon): no answer once the device is back: $(tail -5 "$T/daemon.log")"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "partial (daemon): $(response_of "$req" | jq -c .reason)"
[ "$(counter sign_ok)" -eq $((signed + 2)) ] && [ $(($(cache_lines) - before)) -eq 2 ] ||
	fail "partial (daemon): $(($(counter sign_ok) - signed)) HSM signatures, $(($(cache_lines) - before)) cache lines"
[ "$(counter sessions_open)" -eq "$open_healthy" ] || fail "partial (daemon): $(counter sessions_open) sessions open"
echo "ok: part-signed on the daemon: failed passes until the device was back, then signed; 2 HSM signatures"
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not stop cleanly: $(tail -5 "$T/daemon.log")"
[ "$(counter sessions_leaked_at_finalize)" -eq 0 ] && [ "$(counter sessions_open)" -eq 0 ] ||
	fail "sessions leaked by the daemon: $(cat "$COUNTERS")"
echo "ok: daemon stopped: $(counter sign_ok) HSM signatures for $(counter sign_ok) operations signed," \
	"C_Initialize $(counter initialize), sessions opened/closed $(counter sessions_opened)/$(counter sessions_closed)," \
	"sessions back to $open_healthy after each outage, leaked 0"

# Part-signed when the device went away: not rejected (its first signature
# exists and must be published and logged); the pass fails, and the next
# one answers the first operation from the cache and signs only the second.
faults 'fail C_Sign CKR_DEVICE_ERROR after=1 times=0'
rm -f "$COUNTERS"
before=$(cache_lines)
req=$(fresh_request partial)
rc=0
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/partial.out" 2> "$T/partial.err" || rc=$?
[ "$rc" -eq 1 ] || fail "partial: sign --once exited $rc: $(cat "$T/partial.err")"
grep -q "rombsr-sign sign: request $req operation 1: the HSM stayed unavailable" "$T/partial.err" ||
	fail "partial: $(cat "$T/partial.err")"
git -C "$T/queue.git" cat-file -e "main:$(resp_path "$req")" 2>/dev/null && fail "partial: a response was published"
[ "$(counter sign_ok)" -eq 1 ] && [ $(($(cache_lines) - before)) -eq 1 ] ||
	fail "partial: $(counter sign_ok) HSM signatures, $(($(cache_lines) - before)) cache lines"
faults
rm -f "$COUNTERS"
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/partial2.out" 2> "$T/partial2.err" ||
	fail "partial: the next pass failed: $(cat "$T/partial2.err")"
grep -q '^sign: 1 responses published (1 signed, 0 rejected), 2 operations, 1 HSM operations, 1 from the signing cache' \
	"$T/partial2.out" || fail "partial: $(cat "$T/partial2.out")"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "partial: not signed"
[ "$(counter sign_ok)" -eq 1 ] && [ $(($(cache_lines) - before)) -eq 2 ] ||
	fail "partial: $(counter sign_ok) HSM signatures in the second pass, $(($(cache_lines) - before)) cache lines"
echo "ok: part-signed request: answered once the device is back, 2 HSM signatures for 2 operations"

# Everything the node did is clean: the queue, the audit log (every cache
# line is one logged signature), and apply of a request signed after the
# outage.
"$ROMBSR" --config "$SIGN_CONF" queue-verify > "$T/qv.txt" || fail "queue-verify: $(cat "$T/qv.txt")"
grep -q '^queue ok: .* 10 requests, 10 responses (9 signed' "$T/qv.txt" || fail "queue-verify: $(cat "$T/qv.txt")"
printf '[core]\n\tstate-dir = %s\n[audit]\n\tvkey = %s\n[queue]\n\turl = %s\n\tadmin = %s\n' "$T/auditor" \
	"$T/bundle/audit.vkey" "$QUEUE_URL" "$FPR_ADMIN" > "$T/auditor.conf"
mkdir -p "$T/auditor"
"$ROMBSR" --config "$T/auditor.conf" audit-verify --repo "$T/queue.git" > "$T/av.txt" ||
	fail "audit-verify: $(cat "$T/av.txt")"
grep -q "^audit ok: .* 10 responses and $(cache_lines) signatures match the log" "$T/av.txt" ||
	fail "audit-verify: $(cat "$T/av.txt") ($(cache_lines) cache lines)"
"$ROMBSR" --config "$T/auditor.conf" audit-show --request "$rejected" > "$T/show.txt" || fail "audit-show"
grep -q "request-rejected request_id=$rejected .*reason=hsm-unavailable" "$T/show.txt" ||
	fail "the rejection is not in the audit log: $(cat "$T/show.txt")"
"$ROMBSR" --config "$BUILD_CONF" apply --request "$apply_id" --bundle "$T/bundle" --out "$T/sigs.json" > "$T/apply.txt" ||
	fail "apply: $(cat "$T/apply.txt")"
grep -q "^applied request $apply_id: 2 signatures verified" "$T/apply.txt" || fail "apply: $(cat "$T/apply.txt")"
echo "ok: queue-verify, audit-verify ($(cache_lines) HSM signatures, all logged) and apply clean"
echo "hsm faults ok"
