# OTA packages (docs/ota.md): `rombsr-artifact ota sign` makes the
# whole-file signature of signapk -w with ota_key, (a) directly on SoftHSM2
# and (b) through the capture module, the sign node and apply's replay,
# together with the A/B payload and metadata hash signatures that AOSP's
# payload signer makes with `openssl pkeyutl` (here through the PKCS#11
# engine). Every result is checked by `ota verify` and independently by
# `openssl cms -verify` on the bytes cut out with python. (c) refusals: one
# line each, nothing written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_bundle
with_queue
CERT="$T/bundle/certs/ota_key.pem"
openssl x509 -in "$CERT" -pubkey -noout > "$T/ota_key.pub"
HSM_KEY="pkcs11:token=rombsr-release;object=ota_key"
CAP_KEY="pkcs11:token=rombsr-capture;object=ota_key"
ota() { "$ROMBSR_ARTIFACT" ota "$@"; }

# A stand-in OTA package, made the same way every time: mkzip.py OUT
# [PAYLOAD_SIG METADATA_SIG] (the payload signatures stand in for those
# brillo_update_payload writes into payload.bin).
cat > "$T/mkzip.py" <<'PY'
import sys, zipfile
sigs = b"".join(open(f, "rb").read() for f in sys.argv[2:])
entries = [("META-INF/com/android/metadata", b"ota-type=AB\npre-device=sample_phone\n"),
           ("payload.bin", bytes(range(256)) * 64 + sigs),
           ("payload_properties.txt", b"FILE_SIZE=%d\n" % (16384 + len(sigs)))]
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in entries:
        z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
PY
python3 "$T/mkzip.py" "$T/unsigned.zip"

# independent_check ZIP: cuts the CMS and the signed bytes out of ZIP by the
# footer, as recovery does, and has openssl verify them with the certificate
# alone (not the one the CMS carries, no chain).
independent_check() {
	python3 - "$1" "$T/cut" <<'PY' || fail "python cannot cut $1"
import struct, sys
d = open(sys.argv[1], "rb").read()
start, marker, size = struct.unpack("<HHH", d[-6:])
assert marker == 0xffff, "footer marker"
eocd = len(d) - size - 22
assert d[eocd:eocd + 4] == b"PK\x05\x06", "EOCD"
assert d[eocd + 22:eocd + 22 + 18] == b"signed by SignApk\x00", "comment opening"
open(sys.argv[2] + ".cms", "wb").write(d[len(d) - start:len(d) - 6])
open(sys.argv[2] + ".data", "wb").write(d[:eocd + 20])
PY
	openssl cms -verify -binary -inform DER -in "$T/cut.cms" -content "$T/cut.data" -certfile "$CERT" \
		-nointern -noverify -out /dev/null 2>"$T/cms.err" || fail "openssl cms -verify of $1: $(cat "$T/cms.err")"
	openssl cms -cmsout -print -inform DER -in "$T/cut.cms" > "$T/cms.txt"
	grep -A1 '^ *signedAttrs:$' "$T/cms.txt" | tail -n 1 | grep -q '<ABSENT>' ||
		fail "the CMS of $1 has signed attributes"
	grep -A1 '^ *signatureAlgorithm: *$' "$T/cms.txt" | grep -q 'sha256WithRSAEncryption' ||
		fail "the CMS of $1 does not name sha256WithRSAEncryption as signapk does"
	python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))' \
		"$1" | grep -qx 3 || fail "$1 is no longer a zip with its 3 entries"
}

# (a) Directly on the token.
ota sign --key "$HSM_KEY" --module "$SOFTHSM_MODULE" --pin-file "$RELEASE_PIN" --in "$T/unsigned.zip" \
	--out "$T/direct.zip" || fail "ota sign on SoftHSM2"
ota verify --cert "$CERT" --in "$T/direct.zip" > "$T/verify.txt" || fail "ota verify --cert"
grep -q "^ok: $T/direct.zip: whole-file signature by .* over $(($(stat -c %s "$T/unsigned.zip") - 2)) bytes" \
	"$T/verify.txt" || fail "ota verify said: $(cat "$T/verify.txt")"
ota verify --bundle "$T/bundle" --label ota_key --in "$T/direct.zip" >/dev/null || fail "ota verify --bundle"
independent_check "$T/direct.zip"
cmp -s <(head -c $(($(stat -c %s "$T/unsigned.zip") - 2)) "$T/unsigned.zip") \
	<(head -c $(($(stat -c %s "$T/unsigned.zip") - 2)) "$T/direct.zip") || fail "the signed bytes changed"
ota sign --key "$HSM_KEY" --module "$SOFTHSM_MODULE" --pin-file "$RELEASE_PIN" --in "$T/unsigned.zip" \
	--out "$T/direct2.zip" || fail "ota sign again"
cmp -s "$T/direct.zip" "$T/direct2.zip" || fail "two signatures of the same package differ"
echo "ok: signed on SoftHSM2, verified by ota verify and openssl cms, deterministic"
echo "footer: $(tail -c 6 "$T/direct.zip" | od -An -tx1 | tr -s ' ')"
# signapk -w itself, which takes keys from files only: ota verify accepts
# what it makes. (jarwrapper's binfmt entry may be missing: run the jar.)
SIGNAPK=/usr/share/signapk/signapk.jar
[ -f "$SIGNAPK" ] || fail "signapk is not installed"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=file-key -days 1 -keyout "$T/file.key" -out "$T/file.pem" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$T/file.key" -outform DER -out "$T/file.pk8"
java -jar "$SIGNAPK" -w "$T/file.pem" "$T/file.pk8" "$T/unsigned.zip" "$T/signapk.zip" || fail "signapk -w"
ota verify --cert "$T/file.pem" --in "$T/signapk.zip" >/dev/null || fail "ota verify refuses what signapk -w made"
echo "ok: a package signed by signapk -w passes ota verify"

# (b) Through the capture module, the sign node and apply, in two rounds
# as an A/B build signs: first the payload signer's two signatures (payload
# hash and metadata hash: AOSP's payload_signer runs openssl pkeyutl), which
# go into payload.bin inside the zip; then the zip's whole-file signature.
engine_config "$T/openssl.cnf"
printf 'payload stand-in\n' | openssl dgst -sha256 -binary > "$T/payload.hash"
printf 'metadata stand-in\n' | openssl dgst -sha256 -binary > "$T/metadata.hash"
# The build's signing step, run in capture and in replay mode alike.
cat > "$T/sign-payload.sh" <<SH
set -e
for h in payload metadata; do
	OPENSSL_CONF="$T/openssl.cnf" openssl pkeyutl -engine pkcs11 -keyform engine \
		-inkey "pkcs11:token=rombsr-capture;object=ota_key;type=private" -sign -pkeyopt digest:sha256 \
		-in "$T/\$h.hash" -out "$T/\$h.\$1" 2>/dev/null
done
SH
cat > "$T/sign-all.sh" <<SH
set -e
bash "$T/sign-payload.sh" \$1
python3 "$T/mkzip.py" "$T/ota-unsigned.\$1.zip" "$T/payload.\$1" "$T/metadata.\$1"
"$ROMBSR_ARTIFACT" ota sign --key "$CAP_KEY" --module "$CAP_MODULE" --in "$T/ota-unsigned.\$1.zip" --out "$T/ota.\$1.zip"
SH
submit_round() { # JOURNAL
	"$ROMBSR" --config "$BUILD_CONF" submit --journal "$1" --product sample_phone --build-id "OTA.$RANDOM" \
		--source-commit "$(printf '%040d' 9)" --build-type user --authority release
}
sign_pass() { # OPERATIONS
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" ||
		fail "sign --once: $(cat "$T/pass.err")"
	grep -q "^sign: 1 responses published (1 signed, 0 rejected), $1 operations" "$T/pass.txt" ||
		fail "pass: $(cat "$T/pass.txt") $(cat "$T/pass.err")"
}
sign_config
A=$(auditor auditor)
# logged ID: the audit log verifies and holds each signature of response ID
# with the bytes the HSM signed; prints "MECHANISM TBS" lines.
logged() {
	"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"
	"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --request "$1" --type signature --json 2>/dev/null |
		jq -r '"\(.mechanism) \(.digest)"' | sort > "$T/got"
	git -C "$T/queue.git" show "main:$(resp_path "$1")" | jq -r '.signatures[] | "\(.mechanism) \(.tbs)"' |
		sort > "$T/want"
	cmp -s "$T/want" "$T/got" || fail "the audit log's signatures of $1 differ from the response's"
	cat "$T/got"
}

# Round 1: the payload signatures.
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" bash "$T/sign-payload.sh" ph || fail "capture of the payload signatures"
[ "$(journal_lines)" -eq 2 ] || fail "expected 2 captured operations, got $(journal_lines)"
id1=$(submit_round "$T/journal.jsonl") || fail "submit round 1"
sign_pass 2
[ "$(logged "$id1" | grep -c '^CKM_RSA_PKCS 3031300d06096086480165030402010500')" -eq 2 ] ||
	fail "the payload signatures (PKCS#1 v1.5 over SHA-256 DigestInfos) are not in the audit log"
apply_build --request "$id1" --out "$T/sigs1.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
	${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign-payload.sh" r1 || fail "apply round 1"
for h in payload metadata; do
	openssl pkeyutl -verify -pubin -inkey "$T/ota_key.pub" -pkeyopt digest:sha256 -in "$T/$h.hash" \
		-sigfile "$T/$h.r1" >/dev/null || fail "the $h hash signature does not verify"
done
echo "ok: round 1: payload and metadata hash signatures captured, signed, logged, replayed, verified"

# Round 2: the whole signing step, the payload signatures answered from
# round 1's set, the whole-file signature of the zip holding them captured.
mv "$T/journal.jsonl" "$T/round1.jsonl"
capture_config "$T/capture2.conf" capture "$T/sigs1.json"
capture_run "$T/capture2.conf" bash "$T/sign-all.sh" ph || fail "capture of round 2"
[ "$(journal_lines)" -eq 1 ] || fail "expected 1 new operation in round 2, got $(journal_lines)"
grep -q '"label":"ota_key","spki_sha256":"[0-9a-f]*","mechanism":"CKM_SHA256_RSA_PKCS"' "$T/journal.jsonl" ||
	fail "round 2 did not capture ota_key's CKM_SHA256_RSA_PKCS"
if ota verify --cert "$CERT" --in "$T/ota.ph.zip" >/dev/null 2>&1; then fail "a placeholder verified"; fi
id2=$(submit_round "$T/journal.jsonl") || fail "submit round 2"
sign_pass 1
whole=$(head -c $(($(stat -c %s "$T/ota-unsigned.ph.zip") - 2)) "$T/ota-unsigned.ph.zip" | openssl dgst -sha256 -r | cut -d' ' -f1)
logged "$id2" | grep -qx "CKM_SHA256_RSA_PKCS $whole" || fail "the whole-file signature is not in the audit log"
apply_build --request "$id2" --merge "$T/sigs1.json" --out "$T/sigs2.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
	${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign-all.sh" sig || fail "apply and replay of round 2"
ota verify --bundle "$T/bundle" --in "$T/ota.sig.zip" >/dev/null || fail "ota verify of the replayed package"
independent_check "$T/ota.sig.zip"
cmp -s "$T/ota-unsigned.ph.zip" "$T/ota-unsigned.sig.zip" || fail "round 2 signed another zip than it replayed"
ota sign --key "$HSM_KEY" --module "$SOFTHSM_MODULE" --pin-file "$RELEASE_PIN" --in "$T/ota-unsigned.sig.zip" \
	--out "$T/direct-ab.zip" || fail "ota sign of the A/B package on SoftHSM2"
cmp -s "$T/ota.sig.zip" "$T/direct-ab.zip" || fail "the replayed package differs from the one signed on the token"
echo "ok: round 2: whole-file signature captured, signed, logged, replayed; equal to signing on the token"
"$ROMBSR" --config "$A" audit-find --repo "$T/queue.git" --artifact "$T/ota.sig.zip" > "$T/found.txt" 2>/dev/null ||
	fail "audit-find does not find the released package"
grep -q " signature request_id=$id2 .*key_label=ota_key" "$T/found.txt" || fail "audit-find: $(cat "$T/found.txt")"
echo "ok: audit-find leads from the released package to its signature entry"

# (c) Refusals: one line, nothing written.
refuse() { # STATUS TEXT command...
	local status=$1 want=$2; shift 2
	rm -f "$T/out.zip"
	refused "$status" "$want" "$T/out.zip" "$@"
}
sign_to_out() { ota sign --key "$HSM_KEY" --module "$SOFTHSM_MODULE" --pin-file "$RELEASE_PIN" --in "$1" --out "$T/out.zip"; }
head -c 3000 /dev/urandom > "$T/random.bin"
refuse 1 "not a zip file: no end of central directory record ends it" sign_to_out "$T/random.bin"
python3 - "$T/unsigned.zip" "$T/commented.zip" <<'PY'
import shutil, sys, zipfile
shutil.copy(sys.argv[1], sys.argv[2])
with zipfile.ZipFile(sys.argv[2], "a") as z:
    z.comment = b"built by hand"
PY
refuse 1 "the zip has a comment of 13 bytes (signed already?)" sign_to_out "$T/commented.zip"
refuse 1 "the zip has a comment of" sign_to_out "$T/direct.zip"
refuse 1 "no token matches the key URI" ota sign --key "pkcs11:token=no-such-token;object=ota_key" \
	--module "$SOFTHSM_MODULE" --pin-file "$RELEASE_PIN" --in "$T/unsigned.zip" --out "$T/out.zip"
refuse 1 "no private key matches the key URI" ota sign --key "pkcs11:token=rombsr-release;object=no_such_key" \
	--module "$SOFTHSM_MODULE" --pin-file "$RELEASE_PIN" --in "$T/unsigned.zip" --out "$T/out.zip"

# Verification failures: exit 3, naming the check.
cp "$T/direct.zip" "$T/tampered.zip"
flip_byte "$T/tampered.zip" 100
refuse 3 "the signature does not verify over the" ota verify --cert "$CERT" --in "$T/tampered.zip"
head -c "$(stat -c %s "$T/cut.data")" "$T/tampered.zip" > "$T/tampered.data"
openssl cms -verify -binary -inform DER -in "$T/cut.cms" -content "$T/tampered.data" -certfile "$CERT" \
	-nointern -noverify -out /dev/null 2>/dev/null && fail "openssl verified a tampered package"
refuse 3 "signed by another key" ota verify --bundle "$T/bundle" --label platform --in "$T/direct.zip"
head -c -1 "$T/direct.zip" > "$T/truncated.zip"
refuse 3 "no whole-file signature: the footer's marker" ota verify --cert "$CERT" --in "$T/truncated.zip"
refuse 3 "no whole-file signature" ota verify --cert "$CERT" --in "$T/unsigned.zip"
head -c 10 "$T/direct.zip" > "$T/short.zip"
refuse 3 "no whole-file signature: 10 bytes are too few" ota verify --cert "$CERT" --in "$T/short.zip"
echo "ota ok"
