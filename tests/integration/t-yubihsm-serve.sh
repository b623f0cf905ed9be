# The signing server (rombsr-sign serve) on a YubiHSM 2 (the emulator): a
# POST /v1/sign signed through the native backend and verified with the
# bundle's certificate, and the device's own entry for that signature
# bound to the server's request in the published audit log, which
# audit-verify accepts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/server-lib.sh"
. "$(dirname "$0")/yubihsm-lib.sh"

with_yubihsm_bundle
with_queue
sign_config
yh_section >> "$SIGN_CONF"
AUDITOR=$(auditor auditor)
server_pki
server_clients
server_config
start_server "$T/serve.log"
sign_call 'a boot image for the yubihsm' Y.1
id=$(jq -r .request_id "$T/out.json")

# The device's entry for it reaches the queue with the server's decision.
for _ in $(seq 100); do
	queue_entries "$T/queue.git" > "$T/entries.jsonl" 2>/dev/null || true
	[ "$(jq -c "select(.type == \"device-log\" and .request_id == \"$id\")" "$T/entries.jsonl" | wc -l)" -eq 1 ] && break
	sleep 0.2
done
[ "$(jq -c "select(.type == \"device-log\" and .request_id == \"$id\")" "$T/entries.jsonl" | wc -l)" -eq 1 ] ||
	fail "the device's signature is not bound to request $id: $(tail -5 "$T/serve.log")"
! grep -q '"device-log-anomaly"' "$T/entries.jsonl" || fail "an anomaly: $(grep device-log-anomaly "$T/entries.jsonl")"
server_decisions 1
grep -q 'device log entries chain unbroken' "$T/verify.out" || fail "audit-verify: $(cat "$T/verify.out")"
stop_server
echo "yubihsm serve ok"
