# openssl through libengine-pkcs11-openssl against the capture module:
# pkeyutl -sign (PKCS#1 v1.5 and PSS over a digest) and dgst -sign (RSA and
# ECDSA P-256 over data) are captured, signed through the HSM layer,
# replayed, and verified by openssl with the exported certificates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"

with_bundle
engine_config "$T/openssl.cnf"
RSA_KEY="pkcs11:token=rombsr-capture;object=platform;type=private"
EC_KEY="pkcs11:token=rombsr-capture;object=manifest;type=private"
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/platform.pub"
openssl x509 -in "$T/bundle/certs/manifest.pem" -pubkey -noout > "$T/manifest.pub"
printf 'an OTA payload stand-in\n' > "$T/data"
openssl dgst -sha256 -binary "$T/data" > "$T/digest"

sign_all() { # CONFIG SUFFIX
	local cfg=$1 s=$2
	capture_run "$cfg" env OPENSSL_CONF="$T/openssl.cnf" sh -c '
		set -e
		openssl pkeyutl -engine pkcs11 -keyform engine -inkey "$1" -sign -in "$3/digest" \
			-pkeyopt digest:sha256 -out "$3/pkcs1.$4"
		openssl pkeyutl -engine pkcs11 -keyform engine -inkey "$1" -sign -in "$3/digest" \
			-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -out "$3/pss.$4"
		openssl dgst -engine pkcs11 -keyform engine -sign "$1" -sha256 -out "$3/dgst.$4" "$3/data"
		openssl dgst -engine pkcs11 -keyform engine -sign "$2" -sha256 -out "$3/ec.$4" "$3/data"
	' sh "$RSA_KEY" "$EC_KEY" "$T" "$s" 2>"$T/err.txt" || { cat "$T/err.txt"; fail "openssl signing failed ($s)"; }
}

capture_config "$T/capture.conf" capture
sign_all "$T/capture.conf" ph
[ "$(journal_lines)" -eq 4 ] || fail "expected 4 journal entries, got $(journal_lines)"
grep -q '"mechanism":"CKM_ECDSA","tbs":"'"$(od -An -tx1 -v "$T/digest" | tr -d " \n")"'"' "$T/journal.jsonl" ||
	fail "the ECDSA entry does not hold the data's SHA-256"
if openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/dgst.ph" "$T/data" >/dev/null 2>&1; then
	fail "a placeholder verified"
fi

sign_journal "$T/journal.jsonl" "$T/sigs.json" 2>/dev/null
capture_config "$T/replay.conf" replay "$T/sigs.json"
sign_all "$T/replay.conf" sig
openssl pkeyutl -verify -pubin -inkey "$T/platform.pub" -pkeyopt digest:sha256 -in "$T/digest" \
	-sigfile "$T/pkcs1.sig" >/dev/null || fail "pkeyutl PKCS#1 signature does not verify"
openssl pkeyutl -verify -pubin -inkey "$T/platform.pub" -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
	-pkeyopt rsa_pss_saltlen:32 -in "$T/digest" -sigfile "$T/pss.sig" >/dev/null || fail "pkeyutl PSS signature does not verify"
openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/dgst.sig" "$T/data" >/dev/null ||
	fail "dgst RSA signature does not verify"
openssl dgst -sha256 -verify "$T/manifest.pub" -signature "$T/ec.sig" "$T/data" >/dev/null ||
	fail "dgst ECDSA P-256 signature does not verify"
# With the certificate itself, as a build node would check.
openssl x509 -in "$T/bundle/certs/manifest.pem" -noout -pubkey | cmp -s - "$T/manifest.pub" || fail "cert key mismatch"
cmp -s "$T/pkcs1.sig" "$T/dgst.sig" || fail "pkeyutl and dgst disagree on the same digest"

# Replay of other data: refused with key and digest named, no output.
printf 'something else\n' > "$T/data"
if capture_run "$T/replay.conf" env OPENSSL_CONF="$T/openssl.cnf" openssl dgst -engine pkcs11 -keyform engine \
	-sign "$EC_KEY" -sha256 -out "$T/other.sig" "$T/data" 2>"$T/err.txt"; then
	fail "replay signed data nobody signed"
fi
grep -q "no signature for key 'manifest'.*$(openssl dgst -sha256 -r "$T/data" | cut -d' ' -f1)" "$T/err.txt" ||
	fail "replay error does not name key and digest: $(cat "$T/err.txt")"
echo "openssl engine capture and replay ok"
