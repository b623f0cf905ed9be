# apksigner signs through the token with Java's SunPKCS11 (alias platform)
# and apksigner verify accepts the APK: the key/certificate pairing is what
# Java needs.
. "$(dirname "$0")/lib.sh"

with_keys
"$ROMBSR_SIGN" export-public --out "$T/bundle"
"$TOP/scripts/make-sample-apk.sh" org.rombsr.test.app "$T/app.apk"
sunpkcs11_config rombsr-release "$T/p11.cfg"
apksigner_p11 sign --ks NONE --ks-type PKCS11 --ks-pass "file:$T/state/pins/release.pin" \
	--provider-class sun.security.pkcs11.SunPKCS11 --provider-arg "$T/p11.cfg" --provider-pos 1 \
	--ks-key-alias platform --out "$T/signed.apk" "$T/app.apk"
apksigner verify -v --print-certs "$T/signed.apk" > "$T/verify.txt"
grep -q '^Verifies' "$T/verify.txt" || fail "apksigner verify did not accept"
want=$(jq -r '.keys[] | select(.label=="platform") | .certificate_sha256' "$T/bundle/manifest.json")
grep -q "certificate SHA-256 digest: $want" "$T/verify.txt" || fail "APK not signed by the bundle's platform certificate"
# The unsigned APK does not verify (the check above can fail).
apksigner verify "$T/app.apk" >/dev/null 2>&1 && fail "unsigned APK verified"
echo "apksigner through the token ok"
