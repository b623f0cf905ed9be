# The native YubiHSM 2 client (src/yubihsm/) against the emulator
# rombsr-yubihsm-emu, through the connector's HTTP API: tests/tools/
# yh-client-check generates keys, verifies PKCS#1, PSS and ECDSA signatures
# with OpenSSL, reads and chain-checks the audit log, refuses a signature to
# a limited authentication key, exports and imports under a wrap key, runs
# four sessions on one connector, resets the device, and (on a second
# emulator) leaves a session idle past the device's timeout.
. "$(dirname "$0")/lib.sh"

EMU="$ROMBSR_BUILD/rombsr-yubihsm-emu"
if [ ! -x "$EMU" ]; then
	echo "skip: no $EMU in this build"
	exit 0
fi
# start_emu NAME ARGS...: an emulator with its state in $T/NAME; sets URL.
start_emu() {
	local name=$1
	shift
	"$EMU" --state "$T/$name-state" --listen 127.0.0.1:0 --port-file "$T/$name-port" "$@" >"$T/$name.log" 2>&1 &
	for _ in $(seq 100); do
		[ -s "$T/$name-port" ] && break
		sleep 0.1
	done
	[ -s "$T/$name-port" ] || fail "the emulator did not start: $(cat "$T/$name.log")"
	URL="http://127.0.0.1:$(cat "$T/$name-port")"
}

start_emu emu
"$TOOLS/yh-client-check" "$URL" --reset >"$T/out" 2>&1 || { cat "$T/out"; fail "yh-client-check"; }
grep -q '^all passed: 0 failed$' "$T/out" || { cat "$T/out"; fail "yh-client-check did not finish"; }
# After the reset, the factory state again: a second run from scratch.
"$TOOLS/yh-client-check" "$URL" >"$T/out2" 2>&1 || { cat "$T/out2"; fail "yh-client-check after the reset"; }
echo "ok: $(grep -c '^ok - ' "$T/out") checks, then $(grep -c '^ok - ' "$T/out2") after the reset"

# The idle timeout, on an emulator whose sessions end after 1 s.
start_emu idle --session-timeout 1
"$TOOLS/yh-client-check" "$URL" --idle 3 >"$T/out3" 2>&1 || { cat "$T/out3"; fail "yh-client-check --idle"; }
echo "ok: $(grep -c '^ok - ' "$T/out3") checks of an idle session"

# A connector that sees no device (a static file stands in for it), and
# none at all.
mkdir -p "$T/www/connector"
printf 'status=NO_DEVICE\nserial=*\nversion=3.0.4\n' >"$T/www/connector/status"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$port" >"$T/www.log" 2>&1 &
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
"$TOOLS/yh-client-check" "http://127.0.0.1:$port" >"$T/out4" 2>&1 && fail "a connector without a device, and the check passed"
grep -q "status=NO_DEVICE" "$T/out4" || { cat "$T/out4"; fail "no device: the connector's status not shown"; }
"$TOOLS/yh-client-check" "http://127.0.0.1:1" >"$T/out5" 2>&1 && fail "no connector, and the check passed"
grep -q "Couldn't connect\|Failed to connect" "$T/out5" || { cat "$T/out5"; fail "no connector: no reason given"; }
echo "ok: no device and no connector refused, saying why"
echo "yubihsm client ok"
