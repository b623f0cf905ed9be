# The key set as data (docs/formats/keyset.md), end to end with a generated
# per-device set (KEYSET_DEVICES devices of 10 keys, default 4: keygen of
# RSA-2048 keys in SoftHSM2 costs about 0.3 s each here; bench/keyset.sh
# runs 50 devices): bad key-set files refused with one line naming the key
# and nothing made; keygen and keys by label and by PKCS#11 URI;
# export-public's file names; a policy keyed by per-device labels; a
# request signed with per-device keys by the real sign node; apply verifies
# and replays it; a development key refused in a user build. One key is EC
# P-384 (d001's attestation): made by keygen, exported, presented by the
# capture module with secp384r1's parameters, signed with ECDSA-SHA384 and
# with ECDSA over a SHA-384 digest (96-byte r||s), verified by openssl
# against its bundle certificate. A P-521 key under a label of the set is
# refused, naming it.
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
[ "$(grep -c ' ec-p256 ' "$T/keys.txt")" -eq $((DEVICES + 1)) ] || fail "P-256 keys"
[ "$(grep -c '^devices/d001/attestation  *release  *ec-p384 ' "$T/keys.txt")" -eq 1 ] || fail "the P-384 key: $(cat "$T/keys.txt")"
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
[ "$(jq -r '.keys[] | select(.label == "devices/d001/attestation") | "\(.algorithm) \(.bits)"' \
	"$T/bundle/manifest.json")" = "ec-p384 384" ] || fail "bundle entry of the P-384 key"
openssl x509 -in "$T/bundle/certs/devices+d001+attestation.pem" -noout -text > "$T/p384-cert.txt"
grep -q 'NIST CURVE: P-384' "$T/p384-cert.txt" && grep -q 'Signature Algorithm: ecdsa-with-SHA384' "$T/p384-cert.txt" ||
	fail "the P-384 key's certificate: $(head -20 "$T/p384-cert.txt")"
openssl verify -CAfile "$T/bundle/certs/devices+d001+attestation.pem" "$T/bundle/certs/devices+d001+attestation.pem" \
	>/dev/null || fail "the P-384 key's self-signed certificate does not verify"
mkdir -p "$T/no-token"
printf 'directories.tokendir = %s\n' "$T/no-token" > "$T/no-token.conf"
echo "ok: export-public wrote $((10 * DEVICES + 1)) certificates, flat, in $took s"

# Every node reads the same key set; the first policy has rules keyed by
# per-device labels (a label outside the set is refused by queue-init).
keyset_nodes "$T/keyset.json"
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
# attestation (P-256, P-384 for d001: ECDSA-SHA384, and ECDSA over a
# SHA-384 digest) keys, captured, signed by the sign node, applied.
printf 'per-device payload\n' > "$T/data"
openssl dgst -sha384 -binary "$T/data" > "$T/data.sha384"
{
	echo 'set -e'
	echo "p11() { pkcs11-tool --module '$CAP_MODULE' --login --pin x --sign \"\$@\" 2>/dev/null; }"
	for d in $(seq -f 'd%03g' 1 "$DEVICES"); do
		echo "p11 -m SHA256-RSA-PKCS --id $(bundle_id "devices/$d/platform") -i '$T/data' -o '$T/$d-platform.'\$1"
		if [ "$d" = d001 ]; then
			echo "p11 -m ECDSA-SHA384 --id $(bundle_id "devices/$d/attestation") -i '$T/data' -o '$T/$d-attestation.'\$1"
			echo "p11 -m ECDSA --id $(bundle_id "devices/$d/attestation") -i '$T/data.sha384' -o '$T/$d-attestation-raw.'\$1"
		else
			echo "p11 -m ECDSA-SHA256 --id $(bundle_id "devices/$d/attestation") -i '$T/data' -o '$T/$d-attestation.'\$1"
		fi
	done
} > "$T/sign.sh"
capture_config "$T/capture.conf" capture
# The capture module presents the P-384 key as the token does: secp384r1's
# OID in CKA_EC_PARAMS, a 97-byte uncompressed point, signatures of 96 bytes.
capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --list-objects --type pubkey \
	> "$T/objects.txt" 2>&1 || fail "pkcs11-tool --list-objects: $(cat "$T/objects.txt")"
grep -B 3 '^  label: *devices/d001/attestation$' "$T/objects.txt" > "$T/p384-object.txt"
grep -q '^Public Key Object; EC  EC_POINT 384 bits$' "$T/p384-object.txt" &&
	grep -q '^  EC_POINT: *046104[0-9a-f]\{192\}$' "$T/p384-object.txt" &&
	grep -q '^  EC_PARAMS: *06052b81040022$' "$T/p384-object.txt" ||
	fail "the capture module's P-384 public key: $(cat "$T/p384-object.txt")"
ops=$((2 * DEVICES + 1))
capture_run "$T/capture.conf" bash "$T/sign.sh" ph || fail "capture with per-device keys"
[ "$(journal_lines)" -eq "$ops" ] || fail "captured $(journal_lines) operations"
for f in d001-attestation d001-attestation-raw; do
	[ "$(stat -c %s "$T/$f.ph")" -eq 96 ] || fail "$f: a placeholder of $(stat -c %s "$T/$f.ph") bytes, not 96"
done
[ "$(jq -r 'select(.label == "devices/d001/attestation") | "\(.mechanism) \(.sig_len) \(.tbs | length)"' \
	"$T/journal.jsonl" | sort | tr '\n' ' ')" = "CKM_ECDSA 96 96 CKM_ECDSA_SHA384 96 96 " ] ||
	fail "the P-384 key's journal entries: $(grep d001/attestation "$T/journal.jsonl")"
echo "ok: the capture module presents the P-384 key (secp384r1, 97-byte point) and returns 96-byte placeholders"
id=$(submit_journal user)
start=$(date +%s.%N)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
echo "ok: sign pass of $ops per-device operations in $(echo "$(date +%s.%N) - $start" | bc) s"
grep -q "^sign: 1 responses published (1 signed, 0 rejected), $ops operations, $ops HSM operations" \
	"$T/pass.txt" || fail "pass: $(cat "$T/pass.txt") $(cat "$T/pass.err")"
[ "$(jq -r 'select(.type == "key-generated" and .key_label == "devices/d001/attestation") | .algorithm' \
	"$T/state/sign/audit/entries")" = ec-p384 ] || fail "the audit log does not name the P-384 key's algorithm"
"$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" --request "$id" --out "$T/sigs.json" -- \
	env SOFTHSM2_CONF="$T/no-token.conf" ${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign.sh" sig >/dev/null 2>"$T/apply.err" ||
	fail "apply: $(cat "$T/apply.err")"
for d in $(seq -f 'd%03g' 1 "$DEVICES"); do
	openssl x509 -in "$T/bundle/certs/devices+$d+platform.pem" -pubkey -noout > "$T/$d.pub"
	openssl dgst -sha256 -verify "$T/$d.pub" -signature "$T/$d-platform.sig" "$T/data" >/dev/null ||
		fail "$d: the applied platform signature does not verify"
	cmp -s "$T/d001-platform.sig" "$T/$d-platform.sig" && [ "$d" != d001 ] && fail "$d signed with d001's key"
done
# ECDSA: raw r||s as PKCS#11 returns it (96 bytes for P-384), DER for openssl.
ecdsa_der() { # RAW DER COORDINATE-BYTES
	printf 'asn1 = SEQUENCE:sig\n[sig]\nr = INTEGER:0x%s\ns = INTEGER:0x%s\n' \
		"$(head -c "$3" "$1" | od -An -tx1 -v | tr -d ' \n')" "$(tail -c "$3" "$1" | od -An -tx1 -v | tr -d ' \n')" \
		> "$2.asn1"
	openssl asn1parse -genconf "$2.asn1" -out "$2" -noout
}
for d in $(seq -f 'd%03g' 1 "$DEVICES"); do
	openssl x509 -in "$T/bundle/certs/devices+$d+attestation.pem" -pubkey -noout > "$T/$d-attestation.pub"
	if [ "$d" = d001 ]; then
		for f in attestation attestation-raw; do
			[ "$(stat -c %s "$T/$d-$f.sig")" -eq 96 ] || fail "$d-$f: a P-384 signature of $(stat -c %s "$T/$d-$f.sig") bytes"
			ecdsa_der "$T/$d-$f.sig" "$T/$d-$f.der" 48
			openssl dgst -sha384 -verify "$T/$d-attestation.pub" -signature "$T/$d-$f.der" "$T/data" >/dev/null ||
				fail "$d: the applied P-384 signature ($f) does not verify"
		done
	else
		[ "$(stat -c %s "$T/$d-attestation.sig")" -eq 64 ] || fail "$d: a P-256 signature of the wrong length"
		ecdsa_der "$T/$d-attestation.sig" "$T/$d-attestation.der" 32
		openssl dgst -sha256 -verify "$T/$d-attestation.pub" -signature "$T/$d-attestation.der" "$T/data" >/dev/null ||
			fail "$d: the applied P-256 signature does not verify"
	fi
done
echo "ok: apply verified and replayed $ops per-device signatures (one P-384 key, two mechanisms)"

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

# A key on a curve ROMbsr does not support (P-521) under a label of the
# set, made behind its back: refused where the token is read, naming it.
pin=$(cat "$T/state/pins/release.pin")
for type in privkey pubkey; do
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$pin" --delete-object \
		--type "$type" --id 99 >/dev/null 2>&1 || fail "pkcs11-tool could not delete the second key"
done
"$TOOLS/hsm-delete-key" "$SOFTHSM_MODULE" pkcs11:token=rombsr-release "$T/state/pins/release.pin" devices/d004/attestation
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$pin" \
	--keypairgen --key-type EC:secp521r1 --label devices/d004/attestation --id 98 >/dev/null 2>&1 ||
	fail "pkcs11-tool could not add a P-521 key"
expect_fail "key 'devices/d004/attestation': EC curve other than P-256 and P-384" "$ROMBSR_SIGN" keys
echo "keyset ok"
