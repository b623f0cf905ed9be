# Concurrent signing (docs/sign-node.md, "Concurrent signing"): a signer with
# sign.signer-sessions = 2 has two C_Sign calls in the HSM at once (the fault
# module counts them), one session with the setting at 1; the same
# operation in two requests in flight is signed once; transient faults on
# several sessions are cured by a shared re-open, nothing signed twice, no
# session leaked; and the rule "hsm-unavailable at operation 0 -> signed
# rejection" does not discard a later operation another session signed
# meanwhile: the pass fails, and the next one publishes it from the cache.
# At the end every HSM signature is in the audit log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/fault-lib.sh"

with_bundle
with_queue
sign_config
printf '[authority "release"]\n\tmodule = %s\n[sign]\n\tsigner-sessions = 2\n' "$SHIM" >> "$SIGN_CONF"

pass() { # CONF: one sign --once that must succeed
	"$ROMBSR_SIGN" --config "$1" sign --once > "$T/once.out" 2> "$T/once.err" ||
		fail "sign --once failed: $(cat "$T/once.err")"
}

# 1. Two sessions sign at once; one session does not.
R=SHA256-RSA-PKCS
faults 'delay C_Sign 300'
rm -f "$COUNTERS"
before=$(cache_lines)
req=$(fresh_request concurrent $R $R $R $R)
pass "$SIGN_CONF"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "concurrent: not signed"
[ "$(counter sign_concurrent_max)" -ge 2 ] || fail "concurrent: $(counter sign_concurrent_max) C_Sign at once with 2 sessions"
[ "$(counter sign_ok)" -eq 4 ] && [ $(($(cache_lines) - before)) -eq 4 ] ||
	fail "concurrent: $(counter sign_ok) HSM signatures, $(($(cache_lines) - before)) cache lines for 4 operations"
echo "ok: 2 sessions: $(counter sign_concurrent_max) C_Sign calls at once, $(counter sign_ok) signatures for 4 operations"
cp "$SIGN_CONF" "$T/serial.conf"
printf '[sign]\n\tsigner-sessions = 1\n' >> "$T/serial.conf"
rm -f "$COUNTERS"
req=$(fresh_request serial $R $R $R $R)
pass "$T/serial.conf"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "serial: not signed"
[ "$(counter sign_concurrent_max)" -eq 1 ] || fail "serial: $(counter sign_concurrent_max) C_Sign at once with 1 session"
echo "ok: 1 session: one C_Sign at a time"

# 2. The same operation in two requests in flight together: signed once.
rm -f "$COUNTERS"
before=$(cache_lines)
fresh_request twice $R $R > "$T/first.id"
second=$(submit_journal user)
pass "$SIGN_CONF"
for id in "$(cat "$T/first.id")" "$second"; do
	[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "twice: $id not signed"
done
[ "$(counter sign_ok)" -eq 2 ] && [ $(($(cache_lines) - before)) -eq 2 ] ||
	fail "twice: $(counter sign_ok) HSM signatures, $(($(cache_lines) - before)) cache lines for 2 distinct operations"
echo "ok: 2 requests of the same 2 operations in flight together: 2 HSM signatures"

# 3. Transient faults on both sessions: cured, nothing signed twice, no leak.
faults 'fail C_Sign CKR_DEVICE_ERROR times=2' 'delay C_Sign 100'
rm -f "$COUNTERS"
before=$(cache_lines)
req=$(fresh_request transient $R $R $R $R)
pass "$SIGN_CONF"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "transient: not signed: $(response_of "$req" | jq -c .reason)"
[ "$(counter sign_ok)" -eq 4 ] && [ $(($(cache_lines) - before)) -eq 4 ] ||
	fail "transient: $(counter sign_ok) HSM signatures, $(($(cache_lines) - before)) cache lines for 4 operations"
[ "$(counter sessions_leaked_at_finalize)" -eq 0 ] && [ "$(counter sessions_opened)" -eq "$(counter sessions_closed)" ] ||
	fail "transient: sessions: $(cat "$COUNTERS")"
echo "ok: transient faults on 2 sessions: signed after $(counter initialize) C_Initialize, 4 HSM signatures, no leak"

# 4. hsm-unavailable at operation 0 while the other session signs
# operation 1: no rejection (operation 1's signature exists), the pass fails;
# once the HSM is back the next pass signs operation 0 and answers 1 from
# the cache. Operation 0 signs a SHA-384 DigestInfo (67 bytes), 1 a SHA-256
# one (51): the fault names operation 0 whichever session runs it.
faults 'fail C_Sign CKR_DEVICE_ERROR times=0 len=67'
rm -f "$COUNTERS"
before=$(cache_lines)
req=$(fresh_request op0-down SHA384-RSA-PKCS $R)
rc=0
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/down.out" 2> "$T/down.err" || rc=$?
[ "$rc" -eq 1 ] || fail "op0-down: sign --once exited $rc: $(cat "$T/down.err")"
grep -q "request $req operation 1 was signed while operation 0 found the HSM unavailable" "$T/down.err" ||
	fail "op0-down: $(cat "$T/down.err")"
git -C "$T/queue.git" cat-file -e "main:$(resp_path "$req")" 2>/dev/null && fail "op0-down: a response was published"
[ "$(counter sign_ok)" -eq 1 ] && [ $(($(cache_lines) - before)) -eq 1 ] ||
	fail "op0-down: $(counter sign_ok) HSM signatures, $(($(cache_lines) - before)) cache lines"
faults
rm -f "$COUNTERS"
pass "$SIGN_CONF"
grep -q '^sign: 1 responses published (1 signed, 0 rejected), 2 operations, 1 HSM operations, 1 from the signing cache' \
	"$T/once.out" || fail "op0-down: $(cat "$T/once.out")"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "op0-down: not signed"
[ $(($(cache_lines) - before)) -eq 2 ] || fail "op0-down: $(($(cache_lines) - before)) cache lines for 2 operations"
echo "ok: operation 0 unavailable while operation 1 was signed: pass failed, then signed, operation 1 from the cache"

# 5. Gone for good before any signature: still the signed rejection.
faults 'fail C_Sign CKR_DEVICE_REMOVED times=0'
req=$(fresh_request gone $R $R)
pass "$SIGN_CONF"
[ "$(response_of "$req" | jq -r .reason.code)" = hsm-unavailable ] ||
	fail "gone: $(response_of "$req" | jq -c '{status, reason}')"
faults
echo "ok: device gone on both sessions: signed rejection hsm-unavailable"

"$ROMBSR" --config "$SIGN_CONF" queue-verify > "$T/qv.txt" || fail "queue-verify: $(cat "$T/qv.txt")"
n=$(cache_in_log "$CACHE" "$T/queue.git") || fail "cache_in_log: $n"
echo "ok: every HSM signature in the audit log ($n: cache lines, log entries)"
echo "concurrent signing ok"
