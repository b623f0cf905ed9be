# pkcs11-tool against the capture module: the token lists the bundle's
# objects and no private material, --test runs clean, and signatures
# (PKCS#1 v1.5, PSS, raw DigestInfo, a padded X.509 block, ECDSA) are
# captured as placeholders, signed through the HSM layer and replayed as
# real signatures that openssl verifies with the exported certificates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"

with_bundle
capture_config "$T/capture.conf" capture
P11=(pkcs11-tool --module "$CAP_MODULE")
RSA_ID=$(bundle_id platform)
EC_ID=$(bundle_id manifest)
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/platform.pub"
openssl x509 -in "$T/bundle/certs/manifest.pem" -pubkey -noout > "$T/manifest.pub"

# The capture environment cannot see the keys' token.
pkcs11-tool --module "$SOFTHSM_MODULE" -L > "$T/softhsm-slots.txt" 2>/dev/null
grep -q rombsr-release "$T/softhsm-slots.txt" || fail "the test token itself is missing"
capture_run "$T/capture.conf" pkcs11-tool --module "$SOFTHSM_MODULE" -L > "$T/capture-slots.txt" 2>/dev/null || true
! grep -q rombsr-release "$T/capture-slots.txt" || fail "the capture environment reaches the SoftHSM2 token"

# Objects: before login certificates and public keys only; after login a
# private-key object per key, whose private values are sensitive.
capture_run "$T/capture.conf" "${P11[@]}" -L > "$T/slots.txt"
grep -q 'token label *: rombsr-capture' "$T/slots.txt" || fail "no rombsr-capture token"
[ -e "$CAP_ALIAS" ] || fail "alias $CAP_ALIAS missing"
capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_ALIAS" --list-objects > "$T/public.txt"
[ "$(grep -c '^Certificate Object' "$T/public.txt")" -eq 11 ] || fail "expected 11 certificates"
[ "$(grep -c '^Public Key Object' "$T/public.txt")" -eq 11 ] || fail "expected 11 public keys"
! grep -q '^Private Key Object' "$T/public.txt" || fail "private objects visible without login"
capture_run "$T/capture.conf" "${P11[@]}" --login --pin anything --list-objects > "$T/all.txt"
[ "$(grep -c '^Private Key Object' "$T/all.txt")" -eq 11 ] || fail "expected 11 private-key objects"
grep -A4 '^Private Key Object; RSA' "$T/all.txt" > "$T/priv.txt"
grep -q 'Access: *sensitive, always sensitive, never extractable' "$T/priv.txt" ||
	fail "private key objects are not sensitive/never extractable"
# Reading the private key itself yields nothing (CKR_ATTRIBUTE_SENSITIVE
# is checked directly by t-capture-rules).
capture_run "$T/capture.conf" "${P11[@]}" --login --pin x --read-object --type privkey --id "$RSA_ID" \
	-o "$T/priv.der" >/dev/null 2>&1 || true
[ ! -s "$T/priv.der" ] || fail "a private key was readable"

# pkcs11-tool's self test, without and with login (signs and verifies
# through the module: placeholders must verify for exactly their data).
for login in "" "--login --pin 0000"; do
	# shellcheck disable=SC2086
	capture_run "$T/capture.conf" "${P11[@]}" $login --test > "$T/test.txt" 2>&1 || {
		cat "$T/test.txt"
		fail "pkcs11-tool --test $login failed"
	}
	grep -q '^No errors' "$T/test.txt" || { cat "$T/test.txt"; fail "pkcs11-tool --test $login reported errors"; }
done
rm -f "$T/journal.jsonl"

# Inputs: data, its SHA-256 DigestInfo, and an EMSA-PKCS1-v1_5 block of it
# (what avbtool's signing helper sends with CKM_RSA_X_509).
printf 'capture test payload\n' > "$T/data"
openssl dgst -sha256 -binary "$T/data" > "$T/digest"
python3 - "$T/digest" "$T/digestinfo" "$T/block" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
info = bytes.fromhex('3031300d060960864801650304020105000420') + d
open(sys.argv[2], 'wb').write(info)
open(sys.argv[3], 'wb').write(b'\x00\x01' + b'\xff' * (512 - 3 - len(info)) + b'\x00' + info)
PY

sign_all() { # CONFIG SUFFIX
	local cfg=$1 s=$2
	capture_run "$cfg" "${P11[@]}" --login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" -i "$T/data" -o "$T/rsa.$s"
	capture_run "$cfg" "${P11[@]}" --login --pin x --sign -m SHA256-RSA-PKCS-PSS --id "$RSA_ID" -i "$T/data" -o "$T/pss.$s"
	capture_run "$cfg" "${P11[@]}" --login --pin x --sign -m RSA-PKCS --id "$RSA_ID" -i "$T/digestinfo" -o "$T/raw.$s"
	capture_run "$cfg" "${P11[@]}" --login --pin x --sign -m RSA-X-509 --id "$RSA_ID" -i "$T/block" -o "$T/x509.$s"
	capture_run "$cfg" "${P11[@]}" --login --pin x --sign -m ECDSA-SHA256 --id "$EC_ID" -i "$T/data" -o "$T/ec.$s"
	capture_run "$cfg" "${P11[@]}" --login --pin x --sign -m ECDSA --id "$EC_ID" -i "$T/digest" -o "$T/ecraw.$s"
}

# Capture: placeholders of the real length, distinct per operation, each
# operation recorded once.
sign_all "$T/capture.conf" ph 2>/dev/null
[ "$(journal_lines)" -eq 6 ] || fail "expected 6 journal entries, got $(journal_lines)"
for f in rsa pss raw x509; do [ "$(stat -c %s "$T/$f.ph")" -eq 512 ] || fail "$f placeholder is not 512 bytes"; done
for f in ec ecraw; do [ "$(stat -c %s "$T/$f.ph")" -eq 64 ] || fail "$f placeholder is not 64 bytes"; done
cmp -s "$T/rsa.ph" "$T/raw.ph" && fail "two operations got the same placeholder"
capture_run "$T/capture.conf" "${P11[@]}" --login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" -i "$T/data" \
	-o "$T/rsa.ph2" 2>/dev/null
cmp -s "$T/rsa.ph" "$T/rsa.ph2" && fail "the same operation twice got the same placeholder"
grep -q '"mechanism":"CKM_SHA256_RSA_PKCS","tbs":"'"$(od -An -tx1 -v "$T/digest" | tr -d " \n")"'"' "$T/journal.jsonl" ||
	fail "the journal does not hold the SHA-256 of the data"
grep -q '"program":"/usr/bin/pkcs11-tool"' "$T/journal.jsonl" || fail "the journal does not name the program"
# A placeholder is no signature.
if openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/rsa.ph" "$T/data" >/dev/null 2>&1; then
	fail "a placeholder verified as a real signature"
fi

# Sign the journal through the HSM layer, then replay.
sign_journal "$T/journal.jsonl" "$T/sigs.json" 2>/dev/null
capture_config "$T/replay.conf" replay "$T/sigs.json"
sign_all "$T/replay.conf" sig 2>/dev/null
openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/rsa.sig" "$T/data" >/dev/null || fail "RSA replay"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify "$T/platform.pub" \
	-signature "$T/pss.sig" "$T/data" >/dev/null || fail "PSS replay"
openssl pkeyutl -verify -pubin -inkey "$T/platform.pub" -pkeyopt digest:sha256 -in "$T/digest" \
	-sigfile "$T/raw.sig" >/dev/null || fail "CKM_RSA_PKCS replay"
cmp -s "$T/raw.sig" "$T/rsa.sig" || fail "CKM_RSA_PKCS over the DigestInfo differs from CKM_SHA256_RSA_PKCS"
cmp -s "$T/x509.sig" "$T/rsa.sig" || fail "CKM_RSA_X_509 over the padded block differs from PKCS#1 v1.5"
for f in ec ecraw; do
	python3 - "$T/$f.sig" "$T/$f.der" <<'PY'
import sys
raw = open(sys.argv[1], 'rb').read()
def integer(b):
    b = b.lstrip(b'\0') or b'\0'
    if b[0] & 0x80:
        b = b'\0' + b
    return b'\x02' + bytes([len(b)]) + b
body = integer(raw[:32]) + integer(raw[32:])
open(sys.argv[2], 'wb').write(b'\x30' + bytes([len(body)]) + body)
PY
	openssl dgst -sha256 -verify "$T/manifest.pub" -signature "$T/$f.der" "$T/data" >/dev/null || fail "$f replay"
done
# PKCS#1 v1.5 is deterministic: the replayed signature is the token's.
SOFTHSM2_CONF=$SOFTHSM2_CONF pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login \
	--pin "$(cat "$RELEASE_PIN")" --sign -m SHA256-RSA-PKCS --id "$RSA_ID" -i "$T/data" -o "$T/direct.sig" 2>/dev/null
cmp -s "$T/direct.sig" "$T/rsa.sig" || fail "replayed signature differs from the token's own"
[ "$(journal_lines)" -eq 7 ] || fail "replay wrote to the journal"

# Replay of an operation nobody signed: refused, naming key and digest.
printf 'other payload\n' > "$T/other"
out=$(capture_run "$T/replay.conf" "${P11[@]}" --login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" \
	-i "$T/other" -o "$T/other.sig" 2>&1) && fail "replay signed an operation without a signature"
want=$(openssl dgst -sha256 -r "$T/other" | cut -d' ' -f1)
case "$out" in
*"no signature for key 'platform'"*"$want"*) echo "ok: $out" | head -1 ;;
*) fail "replay error does not name key and digest: $out" ;;
esac
echo "pkcs11-tool capture and replay ok"
