# The sign node on a YubiHSM 2 (the emulator) through the native backend:
# requests signed while the device's log is full (it is moved off the
# device, never refused), each device signature bound to its request in
# the audit log, audit-verify checking the device log's chain; a request
# refused by the device's capabilities (the backup key cannot sign);
# tampering with the device's log detected; a log that starts again after
# a reset; a daemon idle past the session timeout; a hostile connector's
# altered, replayed or forged messages refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/yubihsm-lib.sh"

with_yubihsm_bundle
with_queue
sign_config
yh_section >> "$SIGN_CONF"
capture_journal
AUDITOR=$(auditor auditor)

# keygen filled the device's log again and again; it is made full now, and
# force audit refuses every logged command until it is read.
fill_emu_log
id=$(submit_journal user --artifact "$T/artifact1.bin=a1" --artifact "$T/artifact2.bin=a2")
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/sign1.txt" 2> "$T/sign1.err" || { cat "$T/sign1.err"; fail "sign"; }
grep -q '^sign: 1 responses published (1 signed, 0 rejected), 2 operations, 2 HSM operations' "$T/sign1.txt" ||
	fail "first pass: $(cat "$T/sign1.txt") $(cat "$T/sign1.err")"
response_of "$id" > "$T/resp.json"
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/platform.pub"
artifact_sigs_verify "$id" "$T/platform.pub"

# The device's own entries are in the published log: its two signatures
# name the request, keygen's certificates are accounted for, no anomaly.
git clone -q "$T/queue.git" "$T/clone1"
queue_entries "$T/clone1" > "$T/entries1.jsonl"
[ "$(jq -c "select(.type == \"device-log\" and .request_id == \"$id\")" "$T/entries1.jsonl" | wc -l)" -eq 2 ] ||
	fail "the device's two signatures are not bound to request $id"
[ "$(jq -c 'select(.type == "device-log" and .request_id == "certificate")' "$T/entries1.jsonl" | wc -l)" -eq 12 ] ||
	fail "keygen's 12 certificate signatures are not accounted for"
! grep -q '"device-log-anomaly"' "$T/entries1.jsonl" || fail "an anomaly: $(grep device-log-anomaly "$T/entries1.jsonl")"
logged=$(jq -c 'select(.type == "device-log")' "$T/entries1.jsonl" | wc -l)
[ "$logged" -gt 186 ] || fail "only $logged device entries: the log was not moved off the device several times"
"$ROMBSR" --config "$AUDITOR" audit-verify --repo "$T/clone1" > "$T/verify1.txt" || fail "audit-verify"
grep -q ", $logged device log entries chain unbroken" "$T/verify1.txt" || fail "audit-verify: $(cat "$T/verify1.txt")"

# A signer logged in with the backup key: the device refuses to sign, the
# request is rejected as refused, and nothing was signed. (A new build:
# the same one would be answered from the signing cache.)
cp "$SIGN_CONF" "$T/backup.conf"
printf '[authority "release"]\n\tpin-file = %s\n' "$T/state/pins/yubihsm-backup.pin" >> "$T/backup.conf"
id2=$(fresh_request backup SHA256-RSA-PKCS)
"$ROMBSR_SIGN" --config "$T/backup.conf" sign --once > "$T/sign2.txt" 2>&1 || fail "sign as backup: $(cat "$T/sign2.txt")"
response_of "$id2" > "$T/resp2.json"
[ "$(jq -r .status "$T/resp2.json")" = rejected ] || fail "the backup key signed"
jq -r .reason.message "$T/resp2.json" | grep -q 'insufficient permissions' || fail "refusal: $(jq -c .reason "$T/resp2.json")"

# Tampering with the device's log: an entry not yet read, altered in the
# device's state, breaks the chain; the next pass logs the anomaly and
# sends it to the journal, and audit-verify counts it.
"$ROMBSR_SIGN" keys > /dev/null 2>&1
stop_emu
python3 - "$T/emu.state" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
l = s["log"]
e = bytearray.fromhex(l["entries"][-1])
e[14] ^= 0xff  # systick: what the device recorded, not its digest
l["entries"][-1] = e.hex()
json.dump(s, open(sys.argv[1], "w"))
PY
restart_emu
id3=$(fresh_request tampered SHA256-RSA-PKCS)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/sign3.txt" 2> "$T/sign3.err" || { cat "$T/sign3.err"; fail "sign 3"; }
[ "$(response_of "$id3" | jq -r .status)" = signed ] || fail "the request after the tampering was not signed"
grep -q 'device log broken-chain' "$T/sign3.err" || fail "no alert for the broken chain: $(cat "$T/sign3.err")"
git clone -q "$T/queue.git" "$T/clone2"
queue_entries "$T/clone2" | jq -c 'select(.type == "device-log-anomaly")' > "$T/anomalies.jsonl"
grep -q '"reason":"broken-chain"' "$T/anomalies.jsonl" || fail "the anomaly is not in the audit log"
"$ROMBSR" --config "$AUDITOR" audit-verify --repo "$T/clone2" > "$T/verify2.txt" || fail "audit-verify 2"
grep -q ', 1 device log anomalies' "$T/verify2.txt" || fail "audit-verify: $(cat "$T/verify2.txt")"
rc=0
"$ROMBSR" --config "$AUDITOR" audit-anomalies --repo "$T/clone2" > "$T/anomalies.txt" 2>&1 || rc=$?
[ "$rc" -eq 3 ] && grep -q '^device-log reason=broken-chain at ' "$T/anomalies.txt" ||
	fail "audit-anomalies (exit $rc): $(cat "$T/anomalies.txt")"

# A device whose log starts again (a reset numbers it from 1): here the
# log of a fresh emulator put in place of this one's. Signing goes on, the
# restart is logged as such, and audit-verify accepts the new chain.
stop_emu
"$EMU" --state "$T/fresh.state" --listen 127.0.0.1:0 --port-file "$T/fresh.port" 2>>"$T/emu.log" &
fresh=$!
for _ in $(seq 100); do [ -s "$T/fresh.port" ] && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$(cat "$T/fresh.port")/connector/status" > /dev/null || fail "no fresh emulator"
kill "$fresh" && wait "$fresh" 2>/dev/null || true
python3 - "$T/emu.state" "$T/fresh.state" <<'PY'
import json, sys
s, fresh = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
s["log"] = fresh["log"]
json.dump(s, open(sys.argv[1], "w"))
PY
restart_emu
id6=$(fresh_request restarted SHA256-RSA-PKCS)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/sign6.txt" 2> "$T/sign6.err" || { cat "$T/sign6.err"; fail "sign 6"; }
[ "$(response_of "$id6" | jq -r .status)" = signed ] || fail "not signed after the device's log restarted"
grep -q 'device log device-restarted' "$T/sign6.err" || fail "no word of the restart: $(cat "$T/sign6.err")"
git clone -q "$T/queue.git" "$T/clone3"
queue_entries "$T/clone3" > "$T/entries3.jsonl"
[ "$(jq -c "select(.type == \"device-log\" and .request_id == \"$id6\")" "$T/entries3.jsonl" | wc -l)" -eq 1 ] ||
	fail "the signature after the restart is not bound to its request"
"$ROMBSR" --config "$AUDITOR" audit-verify --repo "$T/clone3" > "$T/verify3.txt" || fail "audit-verify 3"
grep -q ', 2 device log anomalies' "$T/verify3.txt" || fail "audit-verify: $(cat "$T/verify3.txt")"

# A daemon whose sessions the device ends while it waits (1 s idle here,
# 30 s on a device): the next request is signed on new sessions, without
# a fault.
restart_emu --session-timeout 1
metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '[sign]\n\tmetrics-listen = 127.0.0.1:%s\n' "$metrics_port" >> "$SIGN_CONF"
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 2>"$T/daemon.log" &
daemon=$!
id4=$(fresh_request idle1 SHA256-RSA-PKCS)
wait_response "$id4" 60 || fail "the daemon did not answer: $(tail -5 "$T/daemon.log")"
sleep 2.5
id5=$(fresh_request idle2 SHA256-RSA-PKCS)
wait_response "$id5" 60 || fail "the daemon did not answer after an idle time: $(tail -5 "$T/daemon.log")"
[ "$(response_of "$id5" | jq -r .status)" = signed ] || fail "not signed after an idle time"
! grep -q 're-opening the token' "$T/daemon.log" || fail "an expired session was taken for a fault: $(cat "$T/daemon.log")"
curl -sf "http://127.0.0.1:$metrics_port/metrics" > "$T/metrics.txt" || fail "no metrics"
grep -qx 'rombsr_device_log_anomalies_total 0' "$T/metrics.txt" || fail "metrics: $(grep device_log "$T/metrics.txt")"
promtool check metrics < "$T/metrics.txt" > "$T/promtool.out" 2>&1 || fail "promtool: $(cat "$T/promtool.out")"
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not stop cleanly"

# A hostile connector: an altered command, a replayed one and an altered
# answer are each refused by the session's MACs.
for mode in flip-request:2 replay-request:2 flip-response:2; do
	start_mitm "$mode"
	sed "s|127.0.0.1:$EMU_PORT|127.0.0.1:$MITM_PORT|" "$T/rombsr.conf" > "$T/mitm.conf"
	"$ROMBSR_SIGN" --config "$T/mitm.conf" keys > "$T/mitm.out" 2> "$T/mitm.err" && fail "$mode: keys went through"
	stop_mitm
	case "$mode" in
	flip-response*) grep -q "the response's R-MAC does not verify" "$T/mitm.err" || fail "$mode: $(cat "$T/mitm.err")" ;;
	*) grep -q ': authentication failed$' "$T/mitm.err" || fail "$mode: $(cat "$T/mitm.err")" ;;
	esac
done
echo "yubihsm sign ok"
