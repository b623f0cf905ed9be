#!/usr/bin/env bash
# Prints the native YubiHSM 2 backend's RSA-4096 signing rate as a ratio to
# a raw Sign PKCS1 loop on the same emulated device, key and digest in the
# same run (goal >= 0.9). The device is rombsr-yubihsm-emu in a temporary
# folder, provisioned as hsm-provision --backend yubihsm leaves a real one
# (force audit on): both sides pay the full device logs they meet.
# Usage: bench/yubihsm-sign-rate.sh [BUILD_DIR] [ROUNDS] [PER_ROUND]
# SESSIONS=N (default 1): both sides on N sessions, one thread each.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
rounds=${2:-10}
per=${3:-50}
sessions=${SESSIONS:-1}
work=$(mktemp -d /tmp/rombsr-bench.XXXXXX)
emu_pid=
cleanup() {
	if [ -n "$emu_pid" ]; then
		kill "$emu_pid" 2>/dev/null || true
		wait "$emu_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$build/rombsr-yubihsm-emu" --state "$work/emu.state" --listen 127.0.0.1:0 --port-file "$work/emu.port" \
	2>>"$work/emu.log" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/emu.port" ] && break; sleep 0.05; done
[ -s "$work/emu.port" ] || { cat "$work/emu.log" >&2; echo "the emulator did not start" >&2; exit 1; }
printf '[core]\n\tstate-dir = %s/state\n[hsm]\n\tbackend = yubihsm\n\tconnector = http://127.0.0.1:%s\n' \
	"$work" "$(cat "$work/emu.port")" > "$work/rombsr.conf"
export ROMBSR_CONFIG="$work/rombsr.conf"
"$build/rombsr-sign" hsm-provision --backend yubihsm > "$work/setup.log" 2>&1 ||
	{ cat "$work/setup.log" >&2; exit 1; }
"$build/rombsr-sign" keygen --authority release --key platform >> "$work/setup.log" 2>&1 ||
	{ cat "$work/setup.log" >&2; exit 1; }
"$build/bench/yubihsm_sign_rate" "$work/rombsr.conf" platform "$rounds" "$per" "$sessions"
