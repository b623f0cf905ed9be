#!/usr/bin/env bash
# The main job of ROMbsr on the embedded default, end to end, with progress
# on screen. Run as root on Debian 12:
#   install packages and build; provision SoftHSM2 and the key set; make
#   throwaway GPG identities for the admin, a build node and the sign node;
#   create the signing queue (a bare git repository with its hook, served on
#   127.0.0.1); build a sample ROM from Debian's tools (scripts/sample-rom.sh:
#   aapt APKs, ext4 images, mkbootimg) and sign it with rombsr rom-sign
#   against the sign node daemon: APKs with unmodified apksigner through the
#   capture module (the build node has no key), the images' AVB chain, the
#   OTA package, the release manifest; the sign node verifies and signs
#   inside the HSM; the build node applies each response and the ecosystem's
#   verifiers check the result; a rerun asks nothing; queue-verify checks
#   the history and audit-verify the audit log.
# Everything it makes is under demo/ (made anew each run).
#
# --hsm yubihsm-emulator runs the same job on a YubiHSM 2 through ROMbsr's
# native backend, the device being rombsr-yubihsm-emu on 127.0.0.1 (a
# rehearsal: docs/yubihsm.md): seed 000's provisioning with role keys, the
# key set made on the device, its own audit log bound into ROMbsr's.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
hsm=softhsm2
while [ $# -gt 0 ]; do
	case "$1" in
	--hsm) hsm=${2:-}; shift 2 || { echo "demo.sh: --hsm needs softhsm2 or yubihsm-emulator" >&2; exit 2; } ;;
	*) echo "usage: scripts/demo.sh [--hsm softhsm2|yubihsm-emulator]" >&2; exit 2 ;;
	esac
done
case "$hsm" in softhsm2 | yubihsm-emulator) ;; *) echo "demo.sh: unknown --hsm '$hsm'" >&2; exit 2 ;; esac

stage_names=() stage_secs=()
stage() {
	printf '\n==> %s\n' "$1"
	stage_names+=("$1")
	stage_start=$(date +%s.%N)
}
stage_end() { stage_secs+=("$(awk -v a="$stage_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"); }

stage "install packages and build"
scripts/install-deps.sh
make -j"$(nproc)" >/dev/null
stage_end

demo="${ROMBSR_DEMO_DIR:-$top/demo}"
rombsr="$top/build/rombsr"
rombsr_sign="$top/build/rombsr-sign"
capture_module="$top/build/libmock_pkcs11.so"
daemon_pid="" sign_pid="" emu_pid=""
cleanup() {
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
	[ -z "$emu_pid" ] || kill "$emu_pid" 2>/dev/null || true
	[ -z "$sign_pid" ] || kill "$sign_pid" 2>/dev/null || true
	for home in "$demo"/gnupg-*; do
		[ -d "$home" ] && gpgconf --homedir "$home" --kill all 2>/dev/null
	done
	return 0
}
trap cleanup EXIT
rm -rf "$demo"
mkdir -p "$demo/out"

mkdir -p "$demo/sign-node"
hsm_conf=""
if [ "$hsm" = yubihsm-emulator ]; then
	stage "sign node: a YubiHSM 2 (rombsr-yubihsm-emu on 127.0.0.1), seed 000's role keys, the key set inside it"
	"$top/build/rombsr-yubihsm-emu" --state "$demo/sign-node/yubihsm.state" --listen 127.0.0.1:0 \
		--port-file "$demo/sign-node/yubihsm.port" 2>"$demo/sign-node/yubihsm-emu.log" &
	emu_pid=$!
	for _ in $(seq 100); do [ -s "$demo/sign-node/yubihsm.port" ] && break; sleep 0.05; done
	[ -s "$demo/sign-node/yubihsm.port" ] || { echo "demo.sh: the emulator did not start" >&2; exit 1; }
	hsm_conf=$(printf '[hsm]\n\tbackend = yubihsm\n\tconnector = http://127.0.0.1:%s\n' "$(cat "$demo/sign-node/yubihsm.port")")
	echo "YubiHSM 2 emulator at http://127.0.0.1:$(cat "$demo/sign-node/yubihsm.port")"
else
	stage "sign node: provision SoftHSM2 tokens and generate the release key set inside them"
fi
printf '[core]\n\tstate-dir = %s/sign-node/state\n%s\n' "$demo" "$hsm_conf" > "$demo/sign-node/rombsr.conf"
if [ "$hsm" = yubihsm-emulator ]; then
	"$rombsr_sign" --config "$demo/sign-node/rombsr.conf" hsm-provision --backend yubihsm
else
	"$rombsr_sign" --config "$demo/sign-node/rombsr.conf" hsm-provision
fi
"$rombsr_sign" --config "$demo/sign-node/rombsr.conf" keygen 2>&1 | grep -c generating | sed 's/^/keys generated: /'
"$rombsr_sign" --config "$demo/sign-node/rombsr.conf" keys
"$rombsr_sign" --config "$demo/sign-node/rombsr.conf" export-public --out "$demo/bundle"
stage_end

stage "throwaway OpenPGP identities: admin, build node, sign node"
declare -A fpr
for who in admin build sign; do
	home="$demo/gnupg-$who"
	mkdir -p "$home" && chmod 700 "$home"
	GNUPGHOME="$home" gpg --batch --quiet --passphrase '' --quick-gen-key "rombsr-demo-$who <$who@rombsr.demo>" \
		ed25519 sign never 2>/dev/null
	fpr[$who]=$(GNUPGHOME="$home" gpg --batch --with-colons --list-secret-keys 2>/dev/null |
		awk -F: '/^fpr/{print $10; exit}')
	echo "$who: ${fpr[$who]}"
done
for who in build sign; do
	GNUPGHOME="$demo/gnupg-$who" gpg --batch --export --armor "${fpr[$who]}" |
		GNUPGHOME="$demo/gnupg-admin" gpg --batch --quiet --import 2>/dev/null
done
stage_end

stage "the signing queue: a bare git repository with its hook, served on 127.0.0.1"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="git://127.0.0.1:$port/queue.git"
node_conf() { # NAME STATE_DIR
	cat > "$demo/$1.conf" <<CONF
[core]
	state-dir = $2
[queue]
	url = $url
	admin = ${fpr[admin]}
[gpg]
	home = $demo/gnupg-$1
	key = ${fpr[$1]}
CONF
	if [ "$1" = sign ]; then printf '%s\n' "$hsm_conf" >> "$demo/$1.conf"; fi
}
node_conf admin "$demo/admin-node"
node_conf build "$demo/build-node"
node_conf sign "$demo/sign-node/state"
"$rombsr" --config "$demo/admin.conf" queue-init --bare "$demo/queue.git" --build "${fpr[build]}" --sign "${fpr[sign]}"
git -C "$demo/queue.git" config daemon.receivepack true
git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --base-path="$demo" --export-all --enable=receive-pack \
	"$demo" >"$demo/git-daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
echo "queue at $url"
stage_end

stage "build node: a sample ROM from Debian's tools (aapt APKs, ext4 images, mkbootimg) and its signing plan"
# The demo runs what it built in build/, whatever ROMBSR_BUILD says (a test
# runner may point it at a sanitized build).
ROMBSR_BUILD="$top/build" SAMPLE_ROM_BUNDLE="$demo/bundle" SAMPLE_ROM_BUILD_ID=DEMO.1 scripts/sample-rom.sh "$demo/rom"
jq -r '.rounds[] | "round \(.name) (\(.authority) authority): \(.steps | length) steps"' "$demo/rom/plan.json"
stage_end

stage "sign node: the daemon watches the queue (its worker never opens a token; one signer per authority)"
"$rombsr_sign" --config "$demo/sign.conf" sign --daemon --interval-ms 200 2>"$demo/sign-daemon.log" &
sign_pid=$!
echo "rombsr-sign sign --daemon: pid $sign_pid"
stage_end

# rom-sign runs every tool against the capture module (the build node holds
# no key, and SoftHSM2 sees no token here), submits each round's new
# operations, waits for the sign node's answer, verifies and applies it,
# and reruns the round until nothing new is asked; then the verifiers.
stage "build node: rombsr rom-sign: APKs (v1+v2+v3), images + AVB chain, OTA package, release manifest"
mkdir -p "$demo/build-node/no-token"
printf 'directories.tokendir = %s\n' "$demo/build-node/no-token" > "$demo/build-node/no-token.conf"
SOFTHSM2_CONF="$demo/build-node/no-token.conf" "$rombsr" --config "$demo/build.conf" rom-sign \
	--plan "$demo/rom/plan.json" --state "$demo/build-node/rom-state" --timeout 300 | tee "$demo/rom-sign-summary.txt"
stage_end

stage "rerun: every round captures against the signatures obtained; nothing new, no request, no HSM operation"
SOFTHSM2_CONF="$demo/build-node/no-token.conf" "$rombsr" --config "$demo/build.conf" rom-sign \
	--plan "$demo/rom/plan.json" --state "$demo/build-node/rom-state" --timeout 300 2>/dev/null | tee "$demo/rerun-summary.txt"
kill -TERM "$sign_pid" && wait "$sign_pid" || true
sign_pid=""
stage_end

stage "verify the signed ROM with the ecosystem's verifiers, and the queue's history"
want=$(jq -r '.keys[] | select(.label=="platform") | .certificate_sha256' "$demo/bundle/manifest.json")
apk=$(jq -r '.rounds[0].steps[1].argv[-2]' "$demo/rom/plan.json")
debugfs -R "dump /app/$(basename "$apk" .apk)/$(basename "$apk") $demo/out/$(basename "$apk")" "$demo/rom/images/system.img" 2>/dev/null
apksigner verify --print-certs "$demo/out/$(basename "$apk")" | grep -q "certificate SHA-256 digest: $want"
echo "verified $(basename "$apk") from system.img: signed by platform ($want)"
grep -c '^== step apksigner-.*exited with status 0' "$demo/build-node/rom-state/logs/verify.log" | sed 's/^/APKs from the images verified by apksigner: /'
openssl x509 -in "$demo/bundle/certs/avb_root.pem" -pubkey -noout > "$demo/out/avb_root.pub"
"$rombsr" avb verify --image "$demo/rom/images/vbmeta.img" --key "$demo/out/avb_root.pub"
"$rombsr" ota verify --bundle "$demo/bundle" --label ota_key --in "$demo/rom/images/ota.zip"
"$rombsr" manifest verify --bundle "$demo/bundle" --in "$demo/rom/release.json" --artifacts "$demo/rom/images"
"$rombsr" --config "$demo/build.conf" queue-verify
stage_end

stage "auditor: verify the audit log in the queue against the audit key (checkpoints, proofs, every signature)"
mkdir -p "$demo/auditor"
printf '[core]\n\tstate-dir = %s\n[queue]\n\turl = %s\n[audit]\n\tvkey = %s\n' "$demo/auditor" "$url" \
	"$demo/bundle/audit.vkey" > "$demo/auditor.conf"
"$rombsr" --config "$demo/auditor.conf" audit-verify | tee "$demo/audit-summary.txt"
stage_end

printf '\n==> summary\n'
sed -n 's/^rom-sign: \([0-9]*\) rounds done, \([0-9]*\) requests this run (\([0-9]*\) operations).*/  rom-sign: \1 rounds, \2 requests, \3 operations captured and signed/p' "$demo/rom-sign-summary.txt"
sed -n 's/^rom-sign: \([0-9]*\) rounds done, \([0-9]*\) requests this run.*/  rerun: \2 requests/p' "$demo/rerun-summary.txt"
grep 'since the start' "$demo/sign-daemon.log" | tail -n 1 | sed 's/.*since the start: \([0-9]*\) HSM operations.*/  sign node: \1 HSM operations/'
printf '  APKs signed and verified: %s\n' "$(jq '.rounds[0].steps | length - 1' "$demo/rom/plan.json")"
printf '  images: %s\n' "$(cd "$demo/rom/images" && echo *.img ota.zip)"
sed -n 's/^audit ok: /  audit log: /p' "$demo/audit-summary.txt"
for i in "${!stage_names[@]}"; do
	printf '  %6ss  %s\n' "${stage_secs[$i]}" "${stage_names[$i]}"
done
printf '  outputs in %s\n' "$demo"
