# The sign node reads the APK signed data it signs: unmodified apksigner
# (v2 and v3) through the capture module, whose journal carries each
# signer's signed data; the real sign node checks that the certificate in
# it is the signing key's, signs, and logs what it read; then signed data
# naming another key's certificate (media's), asked of platform, is refused
# with apk-certificate.
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
grep -Eq 'key_label=platform kind=apk-signed-data .*detail="APK signature scheme v2, 1 certificates; content digests: RSA-PKCS1-SHA(256|512):[0-9a-f]{32}' \
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
echo "apk data ok"
