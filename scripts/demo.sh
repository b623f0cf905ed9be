#!/usr/bin/env bash
# The main job of ROMbsr on the embedded default, end to end, with progress
# on screen. Run as root on Debian 12:
#   install packages and build; provision SoftHSM2 and the key set; make
#   throwaway GPG identities for the admin, a build node and the sign node;
#   create the signing queue (a bare git repository with its hook, served on
#   127.0.0.1); build sample APKs with Debian's aapt; capture their signing
#   with unmodified apksigner through the capture module (the build node has
#   no key); submit the request; the sign node verifies and signs inside the
#   HSM; the build node applies the response, replays apksigner and verifies
#   the APKs with apksigner's own verifier; queue-verify checks the history.
# Everything it makes is under demo/ (made anew each run).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

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
daemon_pid=""
cleanup() {
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
	for home in "$demo"/gnupg-*; do
		[ -d "$home" ] && gpgconf --homedir "$home" --kill all 2>/dev/null
	done
	return 0
}
trap cleanup EXIT
rm -rf "$demo"
mkdir -p "$demo/out"

stage "sign node: provision SoftHSM2 tokens and generate the release key set inside them"
mkdir -p "$demo/sign-node"
printf '[core]\n\tstate-dir = %s/sign-node/state\n' "$demo" > "$demo/sign-node/rombsr.conf"
"$rombsr_sign" --config "$demo/sign-node/rombsr.conf" hsm-provision
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

stage "build node: build sample APKs (aapt, real binary manifests)"
apps=(org.rombsr.demo.settings org.rombsr.demo.launcher org.rombsr.demo.camera)
for app in "${apps[@]}"; do
	scripts/make-sample-apk.sh "$app" "$demo/out/$app.unsigned.apk"
	echo "built $app"
done
stage_end

# apksigner through the capture module: unmodified, told the module is its
# PKCS#11 token. v2+v3 signing (one round); docs/apply.md shows v1 rounds.
printf 'name = ROMbsrCapture\nlibrary = %s\nslot = 0\n' "$capture_module" > "$demo/capture-p11.cfg"
apksign() { # IN OUT
	apksigner -J-add-exports=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED sign --ks NONE --ks-type PKCS11 \
		--provider-class sun.security.pkcs11.SunPKCS11 --provider-pos 1 --provider-arg "$demo/capture-p11.cfg" \
		--ks-pass pass:none --ks-key-alias platform --v1-signing-enabled false --v4-signing-enabled false \
		--out "$2" "$1"
}

stage "build node: capture the signing calls of unmodified apksigner (no key on this node)"
mkdir -p "$demo/build-node"
printf 'mode = capture\nbundle = %s\njournal = %s\n' "$demo/bundle" "$demo/build-node/journal.jsonl" \
	> "$demo/build-node/capture.conf"
for app in "${apps[@]}"; do
	SOFTHSM2_CONF=/dev/null ROMBSR_CAPTURE_CONFIG="$demo/build-node/capture.conf" \
		apksign "$demo/out/$app.unsigned.apk" "$demo/out/$app.placeholder.apk"
done
echo "captured $(wc -l < "$demo/build-node/journal.jsonl") signing operations"
stage_end

stage "build node: submit the signing request (commit signed with the build node's key)"
artifacts=()
for app in "${apps[@]}"; do artifacts+=(--artifact "$demo/out/$app.unsigned.apk=$app.apk"); done
request=$("$rombsr" --config "$demo/build.conf" submit --journal "$demo/build-node/journal.jsonl" "${artifacts[@]}" \
	--product rombsr_demo --build-id DEMO.1 --source-commit "$(git rev-parse HEAD 2>/dev/null || printf '%040d' 0)" \
	--build-type user)
echo "request $request"
stage_end

stage "sign node: verify the queue, check the request, sign the digests inside the HSM, publish"
"$rombsr_sign" --config "$demo/sign.conf" sign --once | tee "$demo/sign-summary.txt"
stage_end

stage "build node: verify the response and replay apksigner with the real signatures"
"$rombsr" --config "$demo/build.conf" apply --request "$request" --bundle "$demo/bundle" \
	--out "$demo/build-node/signatures.json" --replay-config "$demo/build-node/replay.conf"
for app in "${apps[@]}"; do
	SOFTHSM2_CONF=/dev/null ROMBSR_CAPTURE_CONFIG="$demo/build-node/replay.conf" \
		apksign "$demo/out/$app.unsigned.apk" "$demo/out/$app.apk"
done
stage_end

stage "verify the APKs with apksigner (default providers) against the bundle's certificate"
want=$(jq -r '.keys[] | select(.label=="platform") | .certificate_sha256' "$demo/bundle/manifest.json")
for app in "${apps[@]}"; do
	apksigner verify --print-certs "$demo/out/$app.apk" | grep -q "certificate SHA-256 digest: $want"
	echo "verified $app: signed by platform ($want)"
done
"$rombsr" --config "$demo/build.conf" queue-verify
stage_end

stage "auditor: verify the audit log in the queue against the audit key (checkpoints, proofs, every signature)"
mkdir -p "$demo/auditor"
printf '[core]\n\tstate-dir = %s\n[queue]\n\turl = %s\n[audit]\n\tvkey = %s\n' "$demo/auditor" "$url" \
	"$demo/bundle/audit.vkey" > "$demo/auditor.conf"
"$rombsr" --config "$demo/auditor.conf" audit-verify | tee "$demo/audit-summary.txt"
stage_end

printf '\n==> summary\n'
printf '  request: %s\n' "$request"
printf '  operations captured: %s\n' "$(wc -l < "$demo/build-node/journal.jsonl")"
sed -n 's/^sign: \(.*\); verify.*/  sign node: \1/p' "$demo/sign-summary.txt"
printf '  APKs signed and verified: %s\n' "${#apps[@]}"
sed -n 's/^audit ok: /  audit log: /p' "$demo/audit-summary.txt"
for i in "${!stage_names[@]}"; do
	printf '  %6ss  %s\n' "${stage_secs[$i]}" "${stage_names[$i]}"
done
printf '  outputs in %s\n' "$demo"
