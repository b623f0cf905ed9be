# The YubiHSM 2 emulator (docs/yubihsm-emulator.md) without Yubico's tools:
# its command line, the connector's status and api endpoints with plain
# (unencrypted) commands, the state file (created 0600, refused when
# corrupt, never reset silently) and the boot entry of a restart. Sessions
# and every command were checked against yubihsm-shell and yubihsm_pkcs11
# (the doc's "How the emulator was checked").
. "$(dirname "$0")/lib.sh"

EMU="$ROMBSR_BUILD/rombsr-yubihsm-emu"

# start_emu STATE [ARGS...]: starts the emulator on a free loopback port;
# sets EMU_PID and URL.
start_emu() {
	local state=$1; shift
	rm -f "$T/port"
	"$EMU" --state "$state" --listen 127.0.0.1:0 --port-file "$T/port" "$@" 2>>"$T/emu.log" &
	EMU_PID=$!
	for _ in $(seq 100); do
		[ -s "$T/port" ] && break
		kill -0 "$EMU_PID" 2>/dev/null || fail "the emulator exited: $(cat "$T/emu.log")"
		sleep 0.1
	done
	[ -s "$T/port" ] || fail "no port file"
	URL="http://127.0.0.1:$(cat "$T/port")"
}
stop_emu() {
	kill -TERM "$EMU_PID"
	local rc=0
	wait "$EMU_PID" || rc=$?
	[ "$rc" -eq 0 ] || fail "the emulator exited $rc on SIGTERM"
}
# api HEX: posts one raw message, prints the response in hex.
api() {
	# shellcheck disable=SC2059
	printf "$(sed 's/../\\x&/g' <<<"$1")" > "$T/msg"
	curl -sf --data-binary @"$T/msg" -H 'Content-Type: application/octet-stream' "$URL/connector/api" |
		od -An -tx1 -v | tr -d ' \n'
}

# Usage errors exit 2; a bad value, 1.
rc=0; "$EMU" --listen 127.0.0.1:0 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--state FILE is required" "$T/err" || fail "missing --state: exit $rc"
rc=0; "$EMU" --state "$T/s.json" --bogus 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc"
expect_fail "not a loopback address" "$EMU" --state "$T/s.json" --listen 0.0.0.0:0
expect_fail "not a loopback address" "$EMU" --state "$T/s.json" --listen 192.0.2.1:12345
expect_fail "--max-objects: '0' is not a number" "$EMU" --state "$T/s.json" --max-objects 0
[ ! -e "$T/s.json" ] || fail "a refused start left a state file"

# A missing state file: the factory state, written 0600.
start_emu "$T/s.json" --serial 7654321
[ "$(stat -c %a "$T/s.json")" = 600 ] || fail "state file mode $(stat -c %a "$T/s.json")"
jq -e '.format == "rombsr-yubihsm-emu-state" and .version == 1 and (.objects | length) == 1 and
	.objects[0].id == 1 and .objects[0].type == 2' "$T/s.json" >/dev/null || fail "factory state: $(cat "$T/s.json")"
echo "ok: factory state, mode 0600"

status=$(curl -sf "$URL/connector/status")
for want in status=OK serial= version= pid= address=127.0.0.1 "port=$(cat "$T/port")"; do
	grep -q "^$want" <<<"$status" || fail "status lacks $want: $status"
done
echo "ok: /connector/status"

# Echo and Device Info are plain commands.
[ "$(api 010003616263)" = 810003616263 ] || fail "echo"
info=$(api 060000)
[ "${info:0:2}" = 86 ] || fail "device info: $info"
[ "${info:6:6}" = 020400 ] || fail "firmware version: ${info:6:6}"
[ "$((16#${info:12:8}))" = 7654321 ] || fail "serial: ${info:12:8}"
[ "${info:20:4}" = 3e02 ] || fail "log 62 entries, 2 used: ${info:20:4}"
# Framing, unknown commands, a command that needs a session, a missing key.
[ "$(api 01000561)" = 7f000108 ] || fail "bad length not WRONG_LENGTH"
[ "$(api 470000)" = 7f000101 ] || fail "sign outside a session not INVALID_COMMAND"
[ "$(api 03000a00090102030405060708)" = 7f00010b ] || fail "unknown key not OBJECT_NOT_FOUND"
[ "$(api 050019$(printf '00%.0s' $(seq 25)))" = 7f000103 ] || fail "no session not INVALID_SESSION"
# Create Session answers a session id, the card challenge and cryptogram.
resp=$(api 03000a00010102030405060708)
[ "${resp:0:8}" = 83001100 ] || fail "create session: $resp"
[ "${#resp}" = 40 ] || fail "create session length: $resp"
echo "ok: plain commands and their errors"

# Create Session is logged, and the log is saved at once.
n=$(jq '.log.entries | length' "$T/s.json")
[ "$n" -ge 3 ] || fail "create session not logged ($n entries)"
# The log: the reset marker, the boot, then entries numbered one by one,
# each digest the first 16 bytes of SHA-256(its first 16 bytes || the
# previous digest).
python3 - "$T/s.json" <<'PY' || fail "log chain"
import hashlib, json, sys
st = json.load(open(sys.argv[1]))
es = [bytes.fromhex(e) for e in st["log"]["entries"]]
assert es[0][:16] == b"\x00\x01" + b"\xff" * 14, es[0].hex()
assert es[1][:16] == b"\x00\x02" + bytes(14), es[1].hex()
prev = bytes(16)
for i, e in enumerate(es):
    assert int.from_bytes(e[:2], "big") == i + 1, "numbering"
    assert hashlib.sha256(e[:16] + prev).digest()[:16] == e[16:], "digest of entry %d" % (i + 1)
    prev = e[16:]
assert st["log"]["last_digest"] == prev.hex()
assert any(e[2] == 0x03 and e[11] == 0x83 for e in es), "create session entry"
PY
echo "ok: the log chains"
stop_emu
echo "ok: SIGTERM stops it cleanly"

# A restart is a power-on: one more log entry, of zeros.
before=$(jq '.log.entries | length' "$T/s.json")
start_emu "$T/s.json"
after=$(jq '.log.entries | length' "$T/s.json")
[ "$after" -eq $((before + 1)) ] || fail "no boot entry ($before -> $after)"
jq -r '.log.entries[-1]' "$T/s.json" | grep -q '^[0-9a-f]\{4\}0000000000000000000000000000' || fail "boot entry not zeros"
stop_emu
echo "ok: restart logs a boot"

# A state file that does not parse is refused, and kept as it was.
cp "$T/s.json" "$T/good.json"
printf '{"format": "rombsr-yubihsm-emu-state", "version": 1, "objects": [' > "$T/s.json"
cp "$T/s.json" "$T/bad.json"
expect_fail "not JSON" "$EMU" --state "$T/s.json" --listen 127.0.0.1:0
cmp -s "$T/s.json" "$T/bad.json" || fail "a corrupt state file was rewritten"
jq '.version = 9' "$T/good.json" > "$T/s.json"
expect_fail "unsupported version" "$EMU" --state "$T/s.json" --listen 127.0.0.1:0
jq '.objects[0].data = "zz"' "$T/good.json" > "$T/s.json"
expect_fail "data" "$EMU" --state "$T/s.json" --listen 127.0.0.1:0
echo "ok: corrupt state refused, never reset"

# Under make SANITIZE=1 the emulator's own reports land in its log.
! grep -qE 'runtime error|Sanitizer' "$T/emu.log" || fail "sanitizer report: $(cat "$T/emu.log")"
echo "ok: no sanitizer report"
