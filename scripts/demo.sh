#!/usr/bin/env bash
# The main job on the embedded default, end to end, with progress on screen:
# install packages, build, provision SoftHSM2 tokens, generate the release
# key set, export the public bundle, build sample APKs and sign them with
# apksigner through the token, verify them. Run as root on Debian 12.
# Everything it makes is under demo/ (made anew each run).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

stage_names=() stage_secs=()
stage() {
	printf '\n==> %s\n' "$1"
	stage_names+=("$1")
	stage_start=$SECONDS
}
stage_end() { stage_secs+=($((SECONDS - stage_start))); }

stage "install packages and build"
scripts/install-deps.sh
make -j"$(nproc)" >/dev/null
stage_end

demo="$top/demo"
rm -rf "$demo"
mkdir -p "$demo/out"
cat > "$demo/rombsr.conf" <<CONF
# ROMbsr configuration of the demo: the embedded default (SoftHSM2) with its
# state under demo/state.
[core]
	state-dir = $demo/state
CONF
export ROMBSR_CONFIG="$demo/rombsr.conf"
rombsr=build/rombsr

stage "provision SoftHSM2 tokens (release and manifest authorities)"
$rombsr hsm-provision
stage_end

stage "generate the release key set inside the tokens"
$rombsr keygen
$rombsr keys
stage_end

stage "export the public bundle for build nodes"
$rombsr export-public --out "$demo/bundle"
stage_end

stage "build sample APKs"
apps=(org.rombsr.demo.settings org.rombsr.demo.launcher org.rombsr.demo.camera)
for app in "${apps[@]}"; do
	scripts/make-sample-apk.sh "$app" "$demo/out/$app.unsigned.apk"
	echo "built $app"
done
stage_end

stage "sign with apksigner through the token (key platform)"
export SOFTHSM2_CONF="$demo/state/softhsm2.conf"
slot=$(pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so -L 2>/dev/null |
	awk '/^Slot/{id=$3; gsub(/[():]/,"",id)} /token label *: rombsr-release$/{print id}')
printf 'name = ROMbsr\nlibrary = /usr/lib/softhsm/libsofthsm2.so\nslot = %d\n' "$((slot))" > "$demo/p11.cfg"
for app in "${apps[@]}"; do
	apksigner -J-add-exports=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED sign \
		--ks NONE --ks-type PKCS11 --ks-pass "file:$demo/state/pins/release.pin" \
		--provider-class sun.security.pkcs11.SunPKCS11 --provider-arg "$demo/p11.cfg" --provider-pos 1 \
		--ks-key-alias platform --out "$demo/out/$app.apk" "$demo/out/$app.unsigned.apk"
	echo "signed $app"
done
stage_end

stage "verify with apksigner against the bundle's certificate"
want=$(jq -r '.keys[] | select(.label=="platform") | .certificate_sha256' "$demo/bundle/manifest.json")
for app in "${apps[@]}"; do
	apksigner verify --print-certs "$demo/out/$app.apk" | grep -q "certificate SHA-256 digest: $want"
	echo "verified $app: signed by platform ($want)"
done
stage_end

printf '\n==> summary\n'
printf '  keys in the HSM: %s\n' "$($rombsr keys | tail -n +2 | wc -l)"
printf '  APKs signed and verified: %s\n' "${#apps[@]}"
for i in "${!stage_names[@]}"; do
	printf '  %4ss  %s\n' "${stage_secs[$i]}" "${stage_names[$i]}"
done
printf '  outputs in %s\n' "$demo"
