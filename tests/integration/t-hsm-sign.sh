# The HSM layer's signatures verify with openssl against the exported
# certificates: RSA PKCS#1 v1.5 and PSS with SHA-256 and SHA-512, ECDSA P-256.
. "$(dirname "$0")/lib.sh"

with_keys
"$ROMBSR_SIGN" export-public --out "$T/bundle"
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/rsa.pub"
openssl x509 -in "$T/bundle/certs/manifest.pem" -pubkey -noout > "$T/ec.pub"
head -c 100000 /dev/urandom > "$T/data"
d256=$(openssl dgst -sha256 -binary "$T/data" | od -An -tx1 | tr -d ' \n')
d512=$(openssl dgst -sha512 -binary "$T/data" | od -An -tx1 | tr -d ' \n')
release=(pkcs11:token=rombsr-release "$T/state/pins/release.pin")
sign() { "$TOOLS/hsm-sign" "$SOFTHSM_MODULE" "$@"; }

sign "${release[@]}" platform rsa-pkcs1-sha256 "$d256" "$T/s1"
openssl dgst -sha256 -verify "$T/rsa.pub" -signature "$T/s1" "$T/data"
sign "${release[@]}" platform rsa-pkcs1-sha512 "$d512" "$T/s2"
openssl dgst -sha512 -verify "$T/rsa.pub" -signature "$T/s2" "$T/data"
sign "${release[@]}" platform rsa-pss-sha256 "$d256" "$T/s3"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify "$T/rsa.pub" -signature "$T/s3" "$T/data"
sign "${release[@]}" platform rsa-pss-sha512 "$d512" "$T/s4"
openssl dgst -sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 -verify "$T/rsa.pub" -signature "$T/s4" "$T/data"
sign pkcs11:token=rombsr-manifest "$T/state/pins/manifest.pin" manifest ecdsa-sha256 "$d256" "$T/s5"
openssl dgst -sha256 -verify "$T/ec.pub" -signature "$T/s5" "$T/data"
# PKCS#1 v1.5 is deterministic: the same digest gives the same bytes.
sign "${release[@]}" platform rsa-pkcs1-sha256 "$d256" "$T/s1b"
cmp "$T/s1" "$T/s1b"

# A signature over other data must not verify (the checks above can fail).
printf 'other' > "$T/other"
openssl dgst -sha256 -verify "$T/rsa.pub" -signature "$T/s1" "$T/other" >/dev/null 2>&1 && fail "verified wrong data"

# Refusals, each one clear line, no signature file written.
expect_fail "needs a 32-byte digest" sign "${release[@]}" platform rsa-pkcs1-sha256 "${d256}00" "$T/bad1"
expect_fail "no key labelled 'nosuchkey'" sign "${release[@]}" nosuchkey rsa-pkcs1-sha256 "$d256" "$T/bad2"
expect_fail "cannot make ecdsa-sha256" sign "${release[@]}" platform ecdsa-sha256 "$d256" "$T/bad3"
expect_fail "CKR_PIN_INCORRECT" sign pkcs11:token=rombsr-manifest "$T/state/pins/release.pin" manifest ecdsa-sha256 "$d256" "$T/bad4"
expect_fail "no token matches" sign pkcs11:token=nosuchtoken "$T/state/pins/release.pin" platform rsa-pss-sha256 "$d256" "$T/bad5"
ls "$T"/bad* >/dev/null 2>&1 && fail "a refused signing wrote a file"
echo "hsm sign ok"
