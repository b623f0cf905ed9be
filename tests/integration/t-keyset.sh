# The key set as data (docs/formats/keyset.md), end to end with a generated
# per-device set (KEYSET_DEVICES devices of 10 keys, default 4: keygen of
# RSA-2048 keys in SoftHSM2 costs about 0.3 s each here; bench/keyset.sh
# runs 50 devices): bad key-set files refused with one line naming the key
# and nothing made; keygen and keys by label and by PKCS#11 URI;
# export-public's file names; a policy keyed by per-device labels; a
# request signed with per-device keys by the real sign node; apply verifies
# and replays it; a development key refused in a user build.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/keyset-lib.sh"

DEVICES=${KEYSET_DEVICES:-4}
keyset_file "$DEVICES" "$T/keyset.json"
new_config "$T/state"
printf '[keyset]\n\tfile = %s\n' "$T/keyset.json" >> "$T/rombsr.conf"

# Bad key-set files: the configuration fails, naming the file and the key;
# nothing reaches the token.
bad_set() { # NAME SED-EXPRESSION
	sed "$2" "$T/keyset.json" > "$T/bad-$1.json"
	sed "s|$T/keyset.json|$T/bad-$1.json|" "$T/rombsr.conf" > "$T/bad-$1.conf"
}
bad_set dup 's|devices/d001/media|devices/d001/platform|'
bad_set alg 's|"devices/d002/avb", "algorithm": "rsa-2048"|"devices/d002/avb", "algorithm": "rsa-1024"|'
bad_set label 's|devices/d003/ota|devices/d003/../ota|'
bad_set p384 's|"audit", "algorithm": "ec-p256"|"audit", "algorithm": "ec-p384"|'
"$ROMBSR_SIGN" hsm-provision >/dev/null 2>&1 || fail "hsm-provision"
export SOFTHSM2_CONF="$T/state/softhsm2.conf"
expect_fail "keyset.file: $T/bad-dup.json.keys[1]: duplicate label 'devices/d001/platform' (also keys[0])" \
	"$ROMBSR_SIGN" --config "$T/bad-dup.conf" keygen
expect_fail "key 'devices/d002/avb': unknown algorithm 'rsa-1024'" "$ROMBSR_SIGN" --config "$T/bad-alg.conf" keygen
expect_fail "label 'devices/d003/../ota' is not allowed" "$ROMBSR_SIGN" --config "$T/bad-label.conf" keygen
expect_fail "key 'audit': the audit authority holds one key, 'audit', ec-p256" "$ROMBSR_SIGN" --config "$T/bad-p384.conf" keys
"$ROMBSR_SIGN" keys > "$T/keys0.txt" 2>/dev/null || fail "keys on an empty token"
[ "$(grep -c 'missing' "$T/keys0.txt")" -eq $((10 * DEVICES + 2)) ] || fail "a refused key set made keys: $(cat "$T/keys0.txt")"

start=$(date +%s.%N)
"$ROMBSR_SIGN" keygen > "$T/keygen.txt" 2>&1 || fail "keygen: $(tail -3 "$T/keygen.txt")"
echo "ok: keygen of $((10 * DEVICES + 2)) keys in $(echo "$(date +%s.%N) - $start" | bc) s"
"$ROMBSR_SIGN" keys > "$T/keys.txt" || fail "keys"
[ "$(grep -c ' rsa-2048 ' "$T/keys.txt")" -eq $((9 * DEVICES)) ] || fail "RSA-2048 keys: $(cat "$T/keys.txt")"
[ "$(grep -c ' ec-p256 ' "$T/keys.txt")" -eq $((DEVICES + 2)) ] || fail "P-256 keys"
! grep -q missing "$T/keys.txt" || fail "keys missing after keygen"

# Keys named by label and by RFC 7512 URI ('/' written %2F).
line=$("$ROMBSR_SIGN" keys --key devices/d001/platform | tail -n 1)
case "$line" in "devices/d001/platform release "*) ;; *) fail "keys --key LABEL: $line" ;; esac
[ "$("$ROMBSR_SIGN" keys --key 'pkcs11:token=rombsr-release;object=devices%2Fd001%2Fplatform;type=private' |
	tail -n 1)" = "$line" ] || fail "keys --key URI"
[ "$("$ROMBSR_SIGN" keys --key 'pkcs11:object=devices%2Fd001%2Fplatform' | tail -n 1)" = "$line" ] ||
	fail "keys --key URI without a token"
"$ROMBSR_SIGN" keygen --key 'pkcs11:token=rombsr-manifest;object=manifest' 2>&1 | grep -q '^manifest: present, kept' ||
	fail "keygen --key URI"
expect_fail "not the release authority's token (pkcs11:token=rombsr-release)" \
	"$ROMBSR_SIGN" keys --key 'pkcs11:token=rombsr-manifest;object=devices%2Fd001%2Fplatform'
expect_fail "a URI carrying a PIN is refused" "$ROMBSR_SIGN" keys --key 'pkcs11:object=manifest;pin-value=1234'
expect_fail "the key set has no key 'devices/d999/platform'" \
	"$ROMBSR_SIGN" keys --key 'pkcs11:object=devices%2Fd999%2Fplatform'
expect_fail "the key set has no key 'platform'" "$ROMBSR_SIGN" keygen --key platform
expect_fail "names no key (object=LABEL)" "$ROMBSR_SIGN" keys --key 'pkcs11:token=rombsr-release'
echo "ok: keys named by label and by PKCS#11 URI"

# The public bundle: one flat file per key, '/' written '+'.
start=$(date +%s.%N)
"$ROMBSR_SIGN" export-public --out "$T/bundle" >/dev/null 2>&1 || fail "export-public"
took=$(echo "$(date +%s.%N) - $start" | bc)
[ "$(find "$T/bundle/certs" -type f | wc -l)" -eq $((10 * DEVICES + 1)) ] || fail "bundle certificates"
[ "$(find "$T/bundle/certs" -mindepth 1 -type d | wc -l)" -eq 0 ] || fail "the bundle has folders under certs/"
[ "$(jq -r '.keys[] | select(.label == "devices/d002/testkey") | "\(.certificate) \(.development)"' \
	"$T/bundle/manifest.json")" = "certs/devices+d002+testkey.pem true" ] || fail "bundle entry of a device key"
mkdir -p "$T/no-token"
printf 'directories.tokendir = %s\n' "$T/no-token" > "$T/no-token.conf"
echo "ok: export-public wrote $((10 * DEVICES + 1)) certificates, flat, in $took s"

# Every node reads the same key set; the first policy has rules keyed by
# per-device labels (a label outside the set is refused by queue-init).
eval "orig_$(declare -f node_config)"
node_config() {
	local f
	f=$(orig_node_config "$@")
	printf '[keyset]\n\tfile = %s\n' "$T/keyset.json" >> "$f"
	printf '%s' "$f"
}
cat > "$T/policy.json" <<JSON
{"format": "rombsr.policy", "version": 1, "serial": 1, "defaults": {},
 "keys": {"devices/d001/platform": {"mechanisms": ["CKM_SHA256_RSA_PKCS"]},
          "devices/d002/ota": {"disabled": true}}}
JSON
QUEUE_POLICY="$T/policy.json"
with_queue
sed 's|d002/ota|d999/ota|' "$T/policy.json" > "$T/bad-policy.json"
expect_fail "policy.keys: 'devices/d999/ota' is not a key of the key set" "$ROMBSR" --config "$ADMIN_CONF" \
	queue-init --bare "$T/q2.git" --build "$FPR_BUILD" --sign "$FPR_SIGN" --policy "$T/bad-policy.json"
sign_config
printf '[keyset]\n\tfile = %s\n' "$T/keyset.json" >> "$SIGN_CONF"

# A build that signs with each device's platform (RSA-2048) and
# attestation (P-256) keys, captured, signed by the sign node, applied.
printf 'per-device payload\n' > "$T/data"
{
	echo 'set -e'
	echo "p11() { pkcs11-tool --module '$CAP_MODULE' --login --pin x --sign \"\$@\" 2>/dev/null; }"
	for d in $(seq -f 'd%03g' 1 "$DEVICES"); do
		echo "p11 -m SHA256-RSA-PKCS --id $(bundle_id "devices/$d/platform") -i '$T/data' -o '$T/$d-platform.'\$1"
		echo "p11 -m ECDSA-SHA256 --id $(bundle_id "devices/$d/attestation") -i '$T/data' -o '$T/$d-attestation.'\$1"
	done
} > "$T/sign.sh"
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" bash "$T/sign.sh" ph || fail "capture with per-device keys"
[ "$(journal_lines)" -eq $((2 * DEVICES)) ] || fail "captured $(journal_lines) operations"
id=$(submit_journal user)
start=$(date +%s.%N)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
echo "ok: sign pass of $((2 * DEVICES)) per-device operations in $(echo "$(date +%s.%N) - $start" | bc) s"
grep -q "^sign: 1 responses published (1 signed, 0 rejected), $((2 * DEVICES)) operations, $((2 * DEVICES)) HSM operations" \
	"$T/pass.txt" || fail "pass: $(cat "$T/pass.txt") $(cat "$T/pass.err")"
"$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" --request "$id" --out "$T/sigs.json" -- \
	env SOFTHSM2_CONF="$T/no-token.conf" ${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign.sh" sig >/dev/null 2>"$T/apply.err" ||
	fail "apply: $(cat "$T/apply.err")"
for d in $(seq -f 'd%03g' 1 "$DEVICES"); do
	openssl x509 -in "$T/bundle/certs/devices+$d+platform.pem" -pubkey -noout > "$T/$d.pub"
	openssl dgst -sha256 -verify "$T/$d.pub" -signature "$T/$d-platform.sig" "$T/data" >/dev/null ||
		fail "$d: the applied platform signature does not verify"
	cmp -s "$T/d001-platform.sig" "$T/$d-platform.sig" && [ "$d" != d001 ] && fail "$d signed with d001's key"
done
echo "ok: apply verified and replayed $((2 * DEVICES)) per-device signatures"

# apksigner with a per-device key through the capture module: the Java
# alias is the label, '/' and all; the sign node signs, apply replays, and
# the APK verifies with that device's certificate.
capture_sunpkcs11_config "$T/cap.cfg"
"$TOP/scripts/make-sample-apk.sh" org.rombsr.keyset "$T/app.apk" 28
apk_args=(sign "${APKSIGN_FLAGS[@]}" --ks-pass pass:any --provider-arg "$T/cap.cfg" --ks-key-alias devices/d002/platform
	--v1-signing-enabled false --v4-signing-enabled false)
rm -f "$T/journal.jsonl"
capture_run "$T/capture.conf" apksigner_p11 "${apk_args[@]}" --out "$T/captured.apk" "$T/app.apk" >/dev/null 2>&1 ||
	fail "apksigner with alias devices/d002/platform in capture mode"
id=$(submit_journal user --artifact "$T/app.apk=app.apk")
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass-apk.txt" 2>&1 || fail "sign --once (APK)"
"$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" --request "$id" --out "$T/apk-sigs.json" -- \
	env SOFTHSM2_CONF="$T/no-token.conf" ${CAP_ENV[@]+"${CAP_ENV[@]}"} apksigner \
	-J-add-exports=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED "${apk_args[@]}" --out "$T/signed.apk" \
	"$T/app.apk" >/dev/null 2>"$T/apply-apk.err" || fail "apply with apksigner: $(tail -3 "$T/apply-apk.err")"
apksigner verify --print-certs "$T/signed.apk" > "$T/apk-certs.txt" || fail "apksigner verify"
want=$(jq -r '.keys[] | select(.label == "devices/d002/platform") | .certificate_sha256' "$T/bundle/manifest.json")
grep -q "certificate SHA-256 digest: $want" "$T/apk-certs.txt" || fail "the APK is not signed by d002's key"
echo "ok: apksigner signed with devices/d002/platform through capture, sign node and apply"

# The key set's development flag holds for per-device keys: a user build
# with a device's testkey is rejected; the policy's disabled rule holds for
# a device key it names.
reject_with() { # LABEL REASON
	capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m SHA256-RSA-PKCS \
		--id "$(bundle_id "$1")" -i "$T/data" -o "$T/x.ph" 2>/dev/null || fail "capture with $1"
	local rid
	rid=$(submit_journal user)
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>&1 || fail "sign --once ($1)"
	[ "$(response_of "$rid" | jq -r '"\(.status) \(.reason.code)"')" = "rejected $2" ] ||
		fail "$1: $(response_of "$rid" | jq -c '{status, reason, message}')"
	echo "ok: $1 rejected ($2)"
}
rm -f "$T/journal.jsonl"
reject_with devices/d001/testkey development-key
rm -f "$T/journal.jsonl"
reject_with devices/d002/ota policy-key-disabled
"$ROMBSR_SIGN" --config "$SIGN_CONF" status > "$T/status.txt" 2>&1 || fail "status: $(cat "$T/status.txt")"
echo "ok: status with the per-device set"

# A second private key under a label of the set (made behind ROMbsr's
# back): every command that reads the set refuses, naming it.
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$(cat "$T/state/pins/release.pin")" \
	--keypairgen --key-type EC:prime256v1 --label "devices/d001/media" --id 99 >/dev/null 2>&1 ||
	fail "pkcs11-tool could not add a key"
expect_fail "more than one key labelled 'devices/d001/media' in token 'rombsr-release'" "$ROMBSR_SIGN" keys
expect_fail "more than one key labelled 'devices/d001/media'" "$ROMBSR_SIGN" keygen --authority release
echo "keyset ok"
