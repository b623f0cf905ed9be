#!/usr/bin/env bash
# Prints apksigner's wall time through the capture module divided by
# apksigner's wall time directly on SoftHSM2: same APK, same key, same run,
# runs interleaved so that machine noise hits both sides alike (goal for
# capture <= 1.10). Replay is printed too.
# Usage: bench/capture-apksigner.sh [BUILD_DIR] [RUNS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
runs=${2:-7}
module="$build/libmock_pkcs11.so"
work=$(mktemp -d /tmp/rombsr-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '[core]\n\tstate-dir = %s/state\n' "$work" > "$work/rombsr.conf"
export ROMBSR_CONFIG="$work/rombsr.conf"
"$build/rombsr-sign" hsm-provision >/dev/null 2>&1
"$build/rombsr-sign" keygen >/dev/null 2>&1
export SOFTHSM2_CONF="$work/state/softhsm2.conf"
"$build/rombsr-sign" export-public --out "$work/bundle" >/dev/null 2>&1
"$top/scripts/make-sample-apk.sh" org.rombsr.bench "$work/app.apk" 21

slot=$(pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so -L 2>/dev/null |
	awk '/^Slot/{id=$3; gsub(/[():]/,"",id)} /token label *: rombsr-release$/ {print id}')
printf 'name = ROMbsr\nlibrary = /usr/lib/softhsm/libsofthsm2.so\nslot = %d\n' "$((slot))" > "$work/hsm.cfg"
printf 'name = ROMbsrCapture\nlibrary = %s\nslot = 0\n' "$module" > "$work/cap.cfg"
printf 'mode = capture\nbundle = %s/bundle\njournal = %s/journal.jsonl\n' "$work" "$work" > "$work/capture.conf"
mkdir -p "$work/no-token"
printf 'directories.tokendir = %s/no-token\n' "$work" > "$work/no-token.conf"

sign() { # CFG PASS OUT
	apksigner -J-add-exports=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED sign --ks NONE --ks-type PKCS11 \
		--provider-class sun.security.pkcs11.SunPKCS11 --provider-pos 1 --provider-arg "$1" --ks-pass "$2" \
		--ks-key-alias platform --out "$3" "$work/app.apk"
}
now() { date +%s.%N; }

# One warm-up of each (page cache, JIT archive), then the measured runs.
sign "$work/hsm.cfg" "file:$work/state/pins/release.pin" "$work/direct.apk"
ROMBSR_CAPTURE_CONFIG="$work/capture.conf" SOFTHSM2_CONF="$work/no-token.conf" \
	sign "$work/cap.cfg" pass:any "$work/capture.apk"
# The signature set for the replay runs, made by the same rounds a build
# does (v1 on: two rounds).
for round in 1 2; do
	"$build/tools/sign-journal" --journal "$work/journal.jsonl" --out "$work/sigs.json" \
		--token pkcs11:token=rombsr-release "$work/state/pins/release.pin" 2>/dev/null
	printf 'signatures = %s/sigs.json\n' "$work" >> "$work/capture.conf"
	ROMBSR_CAPTURE_CONFIG="$work/capture.conf" SOFTHSM2_CONF="$work/no-token.conf" \
		sign "$work/cap.cfg" pass:any "$work/capture.apk"
	sed -i '$d' "$work/capture.conf"
done
"$build/tools/sign-journal" --journal "$work/journal.jsonl" --out "$work/sigs.json" \
	--token pkcs11:token=rombsr-release "$work/state/pins/release.pin" 2>/dev/null
printf 'mode = replay\nbundle = %s/bundle\nsignatures = %s/sigs.json\n' "$work" "$work" > "$work/replay.conf"

direct=() capture=() replay=()
for i in $(seq 1 "$runs"); do
	t0=$(now)
	sign "$work/hsm.cfg" "file:$work/state/pins/release.pin" "$work/direct.apk"
	t1=$(now)
	ROMBSR_CAPTURE_CONFIG="$work/capture.conf" SOFTHSM2_CONF="$work/no-token.conf" \
		sign "$work/cap.cfg" pass:any "$work/capture.apk"
	t2=$(now)
	ROMBSR_CAPTURE_CONFIG="$work/replay.conf" SOFTHSM2_CONF="$work/no-token.conf" \
		sign "$work/cap.cfg" pass:any "$work/replay.apk"
	t3=$(now)
	direct+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
	capture+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN {print b - a}')")
	replay+=("$(awk -v a="$t2" -v b="$t3" 'BEGIN {print b - a}')")
done
cmp -s "$work/replay.apk" "$work/direct.apk" || { echo "replayed APK differs from direct signing" >&2; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d=$(median "${direct[@]}") c=$(median "${capture[@]}") r=$(median "${replay[@]}")
printf 'apksigner, one APK (v1+v2+v3+v4, RSA-4096), median of %d runs:\n' "$runs"
printf '  direct on SoftHSM2     %.3f s\n' "$d"
printf '  capture module capture %.3f s  ratio %.3f (goal <= 1.10)\n' "$c" "$(awk -v a="$c" -v b="$d" 'BEGIN {print a / b}')"
printf '  capture module replay  %.3f s  ratio %.3f\n' "$r" "$(awk -v a="$r" -v b="$d" 'BEGIN {print a / b}')"
