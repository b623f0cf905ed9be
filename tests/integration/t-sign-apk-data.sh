# The sign node reads the APK signed data it signs: unmodified apksigner
# (v2 and v3) through the capture module, whose journal carries each
# signer's signed data; the real sign node checks that the certificate in
# it is the signing key's, signs, and logs what it read; then signed data
# naming another key's certificate (media's), asked of platform, is refused
# with apk-certificate. Then v1 too, in apksigner's two rounds through the
# real sign node, applied and verified: the JAR signature file is carried
# and its manifest digest logged, and audit-find finds the released APK's
# v2 and v3 signatures and content digests in the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_bundle
with_queue
sign_config
capture_sunpkcs11_config "$T/cap.cfg"
"$TOP/scripts/make-sample-apk.sh" org.rombsr.apkdata "$T/app.apk" 28
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" apksigner_p11 sign "${APKSIGN_FLAGS[@]}" --ks-pass pass:any --provider-arg "$T/cap.cfg" \
	--ks-key-alias platform --v1-signing-enabled false --v4-signing-enabled false --out "$T/captured.apk" \
	"$T/app.apk" >/dev/null 2>&1 || fail "apksigner against the capture module"
[ "$(jq -r 'select(.data != null) | .label' "$T/journal.jsonl" | grep -c platform)" -ge 2 ] ||
	fail "the journal does not carry the v2 and v3 signed data: $(jq -c '{label: .label, mechanism: .mechanism, d: (.data != null)}' "$T/journal.jsonl")"
cp "$T/journal.jsonl" "$T/apk.jsonl"
id=$(submit_journal "$BUILD_CONF")
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "the APK request: $(response_of "$id" | jq -c .reason)"
A=$(auditor auditor)
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --request "$id" --type understood > "$T/understood.txt"
grep -Eq 'key_label=platform kind=apk-signed-data digest=[0-9a-f]+ content_digest=[0-9a-f]{64,128} detail="APK signature scheme v2, 1 certificates; content digests: RSA-PKCS1-SHA(256|512)"' \
	"$T/understood.txt" || fail "v2 not understood: $(cat "$T/understood.txt")"
grep -q 'detail="APK signature scheme v3' "$T/understood.txt" || fail "v3 not understood: $(cat "$T/understood.txt")"
echo "ok: apksigner's v2 and v3 signed data carried, checked and logged"

# The v2 signed data with media's certificate in place of platform's.
python3 - "$T/apk.jsonl" "$T/bundle/certs/media.pem" "$T/forged" <<'PY'
import base64, json, ssl, struct, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
data = next(base64.b64decode(l["data"]) for l in lines if l.get("data"))
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[2]).read())
n = struct.unpack('<I', data[:4])[0]
digests = data[:4 + n]
m = struct.unpack('<I', data[4 + n:8 + n])[0]
rest = data[8 + n + m:]
certs = struct.pack('<I', len(der)) + der
open(sys.argv[3], 'wb').write(digests + struct.pack('<I', len(certs)) + certs + rest)
PY
rm -f "$T/journal.jsonl"
capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m SHA256-RSA-PKCS \
	--id "$(bundle_id platform)" -i "$T/forged" -o "$T/forged.sig" >/dev/null 2>&1 || fail "pkcs11-tool capture"
[ "$(jq -r 'select(.data != null) | .label' "$T/journal.jsonl")" = platform ] || fail "the forged data was not carried"
forged=$(submit_journal "$BUILD_CONF")
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
got=$(response_of "$forged" | jq -r '.status + "/" + .reason.code')
[ "$got" = rejected/apk-certificate ] || fail "forged signed data: $got: $(response_of "$forged" | jq -c .reason)"
echo "ok: apk-certificate: $(response_of "$forged" | jq -r .reason.message)"
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"

# v1 + v2 + v3 (minimum SDK 21): round 1 signs the JAR signature file
# (and v2/v3 over placeholders), round 2 the v2/v3 signed data over the
# real v1 signature; each round through the real sign node, then applied.
"$TOP/scripts/make-sample-apk.sh" org.rombsr.apkdata21 "$T/app21.apk" 21
SIGN_ARGS=(sign "${APKSIGN_FLAGS[@]}" --ks-pass pass:any --provider-arg "$T/cap.cfg" --ks-key-alias platform
	--v4-signing-enabled false)
v1_round() { # ROUND SIGSET
	rm -f "$T/journal.jsonl"
	capture_config "$T/capture.conf" capture "$2"
	capture_run "$T/capture.conf" apksigner_p11 "${SIGN_ARGS[@]}" --out "$T/captured.apk" "$T/app21.apk" \
		>/dev/null 2>&1 || fail "apksigner against the capture module, round $1"
	id=$(submit_journal "$BUILD_CONF" --round "$1")
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
	[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "round $1: $(response_of "$id" | jq -c .reason)"
}
v1_round 1 ""
[ "$(jq -r 'select(.data != null) | .data | @base64d' "$T/journal.jsonl" | grep -c '^Signature-Version: 1.0')" -eq 1 ] ||
	fail "round 1's journal does not carry the JAR signature file"
round1=$id
"$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" --request "$round1" --out "$T/round1.json" >/dev/null ||
	fail "apply of round 1"
v1_round 2 "$T/round1.json"
"$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" --request "$id" --merge "$T/round1.json" \
	--out "$T/round2.json" --replay-config "$T/replay.conf" >/dev/null || fail "apply of round 2"
capture_run "$T/replay.conf" apksigner_p11 "${SIGN_ARGS[@]}" --out "$T/v1.apk" "$T/app21.apk" >/dev/null 2>&1 ||
	fail "replay of the signed APK"
apksigner verify -v "$T/v1.apk" > "$T/v1.verify" || fail "apksigner verify of the released APK"
for v in v1 v2 v3; do
	grep -q "Verified using $v scheme.*: true" "$T/v1.verify" || fail "no $v signature: $(cat "$T/v1.verify")"
done
manifest=$(unzip -p "$T/v1.apk" META-INF/MANIFEST.MF | sha256sum | cut -c1-64)
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --request "$round1" --type understood > "$T/jar.txt"
grep -Eq "key_label=platform kind=jar-signature-file digest=[0-9a-f]+ content_digest=$manifest detail=\"APK signature scheme v1 \(JAR signature file\), [0-9]+ entries; manifest SHA-256; X-Android-APK-Signed: 2, 3\"" \
	"$T/jar.txt" || fail "the JAR signature file is not logged with the released manifest's digest $manifest: $(cat "$T/jar.txt")"
echo "ok: v1's JAR signature file carried and logged with the digest of the released APK's MANIFEST.MF"

# Binary transparency: the released APK's v2 and v3 signatures and content
# digests are found from the file alone.
"$ROMBSR" --config "$A" audit-find --repo "$T/queue.git" --artifact "$T/v1.apk" > "$T/find.txt" 2>"$T/find.err" ||
	fail "audit-find of the released APK: $(cat "$T/find.err")"
[ "$(grep -c " signature request_id=$id key_label=platform" "$T/find.txt")" -eq 2 ] ||
	fail "audit-find does not show round 2's two signatures: $(cat "$T/find.txt")"
[ "$(grep -c " understood request_id=$id key_label=platform kind=apk-signed-data" "$T/find.txt")" -eq 2 ] ||
	fail "audit-find does not show round 2's two understood entries: $(cat "$T/find.txt")"
! grep -q "request_id=$round1" "$T/find.txt" || fail "audit-find shows round 1's superseded v2/v3: $(cat "$T/find.txt")"
# The content digest computed from the file is the one the signer signed
# (and the sign node logged): no note for the released APK.
! grep -q "not what" "$T/find.err" || fail "the released APK's content digest computed wrong: $(cat "$T/find.err")"
echo "ok: audit-find finds the released APK's signatures and content digests"
# An APK whose entries changed after signing: its signatures still point at
# the log, and audit-find says its contents are not what was signed.
cp "$T/v1.apk" "$T/changed.apk"
flip_byte "$T/changed.apk" 40
"$ROMBSR" --config "$A" audit-find --repo "$T/queue.git" --artifact "$T/changed.apk" > "$T/find2.txt" 2>"$T/find2.err" ||
	fail "audit-find of the changed APK: $(cat "$T/find2.err")"
grep -q "its contents are not what its v2 signer signed" "$T/find2.err" || fail "a changed APK not said: $(cat "$T/find2.err")"
cmp -s "$T/find.txt" "$T/find2.txt" || fail "the changed APK's signatures find other entries: $(cat "$T/find2.txt")"
echo "ok: a changed APK: $(head -n 1 "$T/find2.err")"
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"
echo "apk data ok"
