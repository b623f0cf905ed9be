# Sourced after lib.sh by the YubiHSM tests: the device is rombsr-yubihsm-emu
# on 127.0.0.1 (docs/yubihsm-emulator.md), its state in the test's folder.
EMU="$ROMBSR_BUILD/rombsr-yubihsm-emu"

# start_emu [emulator flags]: starts it (again, on the same state file) and
# sets EMU_PORT and EMU_PID.
start_emu() {
	rm -f "$T/emu.port"
	"$EMU" --state "$T/emu.state" --listen 127.0.0.1:0 --port-file "$T/emu.port" "$@" 2>>"$T/emu.log" &
	EMU_PID=$!
	for _ in $(seq 100); do [ -s "$T/emu.port" ] && break; sleep 0.05; done
	[ -s "$T/emu.port" ] || { cat "$T/emu.log" >&2; fail "the emulator did not start"; }
	EMU_PORT=$(cat "$T/emu.port")
}

stop_emu() {
	kill "$EMU_PID" 2>/dev/null || true
	wait "$EMU_PID" 2>/dev/null || true
}

# restart_emu [emulator flags]: the device again, on the same state, and
# the configurations that name it ($T/rombsr.conf, $SIGN_CONF if set)
# pointed at its new port.
restart_emu() {
	stop_emu
	start_emu "$@"
	sed -i "s|127.0.0.1:[0-9]*$|127.0.0.1:$EMU_PORT|" "$T/rombsr.conf" ${SIGN_CONF:+"$SIGN_CONF"}
}

# yh_section [PORT]: the [hsm] section naming the emulator (or a port in
# front of it).
yh_section() {
	printf '[hsm]\n\tbackend = yubihsm\n\tconnector = http://127.0.0.1:%s\n' "${1:-$EMU_PORT}"
}

# with_yubihsm: a provisioned device with the whole key set, and a config
# (ROMBSR_CONFIG) whose state folder holds its PIN files.
with_yubihsm() {
	start_emu
	new_config "$T/state"
	yh_section >> "$T/rombsr.conf"
	"$ROMBSR_SIGN" hsm-provision --backend yubihsm > "$T/provision.log" 2>&1 || { cat "$T/provision.log"; fail "provision"; }
	"$ROMBSR_SIGN" keygen > "$T/keygen.log" 2>&1 || { cat "$T/keygen.log"; fail "keygen"; }
}

# start_mitm MODE: a hostile connector in front of the emulator
# (tests/tools/connector-mitm.py); sets MITM_PORT.
start_mitm() {
	rm -f "$T/mitm.port"
	python3 "$TOP/tests/tools/connector-mitm.py" "$EMU_PORT" "$T/mitm.port" "$1" &
	MITM_PID=$!
	for _ in $(seq 100); do [ -s "$T/mitm.port" ] && break; sleep 0.05; done
	MITM_PORT=$(cat "$T/mitm.port")
}

stop_mitm() {
	kill "$MITM_PID" 2>/dev/null || true
	wait "$MITM_PID" 2>/dev/null || true
}

# emu_log_entries: the device log entries the emulator's state holds, one
# hex line each.
emu_log_entries() {
	python3 -c 'import json,sys; [print(e) for e in json.load(open(sys.argv[1]))["log"]["entries"]]' "$T/emu.state"
}

# with_yubihsm_bundle: with_yubihsm, the public bundle in $T/bundle and a
# token folder the capture side sees nothing in (capture-lib.sh's
# with_bundle, on the YubiHSM).
with_yubihsm_bundle() {
	with_yubihsm
	"$ROMBSR_SIGN" export-public --out "$T/bundle" >/dev/null 2>&1 || fail "export-public failed"
	mkdir -p "$T/no-token"
	printf 'directories.tokendir = %s\n' "$T/no-token" > "$T/no-token.conf"
}

# emu_log_full: whether the device holds 62 entries not read yet (force
# audit then refuses logged commands).
emu_log_full() {
	python3 -c 'import json,sys
l = json.load(open(sys.argv[1]))["log"]
sys.exit(0 if l["next_number"] - 1 - l["last_read"] >= 62 else 1)' "$T/emu.state"
}

# fill_emu_log: logs sessions of the signing key until the device's log is
# full (force audit then refuses every logged command until it is read).
fill_emu_log() {
	for _ in $(seq 40); do
		emu_log_full && return 0
		"$TOOLS/yh-as" "http://127.0.0.1:$EMU_PORT" "$T/state/pins/release.pin" session >/dev/null 2>&1 || true
	done
	emu_log_full || fail "the device's log did not fill"
}

# yh_keyset_node [KEYSET]: the device's public bundle in $T/bundle, a token
# folder the capture side sees nothing in, and the queue and sign node
# (with_queue, sign_config, on the device), every node reading KEYSET (if
# given; else the built-in key set).
yh_keyset_node() {
	"$ROMBSR_SIGN" export-public --out "$T/bundle" >/dev/null 2>"$T/export-public.err" || fail "export-public: $(cat "$T/export-public.err")"
	mkdir -p "$T/no-token"
	printf 'directories.tokendir = %s\n' "$T/no-token" > "$T/no-token.conf"
	[ -z "${1:-}" ] || keyset_nodes "$1"
	with_queue
	sign_config
	yh_section >> "$SIGN_CONF"
}
