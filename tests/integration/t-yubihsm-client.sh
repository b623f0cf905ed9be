# The native YubiHSM 2 client (src/yubihsm/) against the emulator
# rombsr-yubihsm-emu, through the connector's HTTP API: tests/tools/
# yh-client-check generates keys, verifies PKCS#1, PSS and ECDSA signatures
# with OpenSSL, reads and chain-checks the audit log, refuses a signature to
# a limited authentication key, exports and imports under a wrap key, runs
# four sessions on one connector, leaves a session idle past the device's
# timeout, and resets the device.
. "$(dirname "$0")/lib.sh"

EMU="$ROMBSR_BUILD/rombsr-yubihsm-emu"
if [ ! -x "$EMU" ]; then
	echo "skip: no $EMU in this build"
	exit 0
fi
"$EMU" --state "$T/emu-state" --listen 127.0.0.1:0 --port-file "$T/port" --session-timeout 3 >"$T/emu.log" 2>&1 &
for _ in $(seq 100); do
	[ -s "$T/port" ] && break
	sleep 0.1
done
[ -s "$T/port" ] || fail "the emulator did not start: $(cat "$T/emu.log")"
url="http://127.0.0.1:$(cat "$T/port")"

"$TOOLS/yh-client-check" "$url" --idle 5 --reset >"$T/out" 2>&1 || { cat "$T/out"; fail "yh-client-check"; }
grep -q '^all passed: 0 failed$' "$T/out" || { cat "$T/out"; fail "yh-client-check did not finish"; }
# After the reset, the factory state again: a second run from scratch.
"$TOOLS/yh-client-check" "$url" >"$T/out2" 2>&1 || { cat "$T/out2"; fail "yh-client-check after the reset"; }
echo "ok: $(grep -c '^ok - ' "$T/out") checks, then $(grep -c '^ok - ' "$T/out2") after the reset"

# A connector that answers no device, and none at all.
"$TOOLS/yh-client-check" "http://127.0.0.1:1" >"$T/out3" 2>&1 && fail "no connector, and the check passed"
grep -q "Couldn't connect\|Failed to connect" "$T/out3" || { cat "$T/out3"; fail "no connector: no reason given"; }
echo "yubihsm client ok"
