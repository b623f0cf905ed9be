# Keys that leave the token only wrapped (docs/custody.md): keygen
# --wrappable needs the trusted wrap key; such a key's private exponent is
# not readable, a key of one's own cannot wrap it, the trusted wrap key can
# (and the wrapped form signs again once unwrapped, the signer's copy not
# extractable); a key made without --wrappable cannot be wrapped at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/custody-lib.sh"

custody_provision
expect_fail "holds no wrap key; run 'rombsr-sign wrap-key create' first" "$ROMBSR_SIGN" keygen --wrappable --key platform
[ "$(release_objects privkey)" -eq 0 ] || fail "keygen made a key anyway"
expect_fail "the key set has no key 'nosuch'" "$ROMBSR_SIGN" keygen --key nosuch
custody_ids 3
"$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 3 "${RECIPIENTS[@]}" --out "$T/shares" 2>/dev/null
expect_fail "holds a wrap key already" "$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 3 "${RECIPIENTS[@]}" \
	--out "$T/shares2"
[ ! -e "$T/shares2" ] || fail "a refused ceremony wrote shares"

# The wrap key: AES-256, sensitive, not extractable, wrap and unwrap only.
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --list-objects --type secrkey >"$T/public.txt" 2>/dev/null
grep -q 'Secret Key' "$T/public.txt" && fail "the wrap key is visible without login: $(cat "$T/public.txt")"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$(cat "$T/state/pins/release.pin")" \
	--list-objects --type secrkey >"$T/wk.txt" 2>/dev/null
grep -q '^Secret Key Object; AES length 32' "$T/wk.txt" || fail "no AES-256 wrap key: $(cat "$T/wk.txt")"
grep -q 'Usage: *wrap, unwrap$' "$T/wk.txt" || fail "wrap key usage: $(cat "$T/wk.txt")"
grep -q 'Access: *sensitive$' "$T/wk.txt" || fail "wrap key access: $(cat "$T/wk.txt")"

"$ROMBSR_SIGN" keygen --wrappable --key platform 2>/dev/null
"$ROMBSR_SIGN" keygen --key media 2>/dev/null
probe() { "$TOOLS/hsm-wrap-probe" "$SOFTHSM_MODULE" pkcs11:token=rombsr-release "$T/state/pins/release.pin" "$1"; }
probe platform > "$T/platform.txt"
cat "$T/platform.txt"
grep -qx 'read-private-exponent: refused CKR_ATTRIBUTE_SENSITIVE' "$T/platform.txt" || fail "private exponent readable"
grep -qx 'wrap-with-untrusted-key: refused CKR_KEY_NOT_WRAPPABLE' "$T/platform.txt" || fail "an untrusted key wraps it"
grep -q '^wrap-with-trusted-key: ok [0-9]* bytes$' "$T/platform.txt" || fail "the trusted wrap key cannot wrap it"
grep -qx 'unwrap-and-sign: ok 512 bytes' "$T/platform.txt" || fail "the unwrapped key does not sign"
# The signer's session copy of a stored key signs and nothing more: the
# token must not let it out again, not even under the trusted wrap key.
grep -qx 'signer-unwrap-extractable: false' "$T/platform.txt" || fail "the signer's unwrapped key is extractable"
probe media > "$T/media.txt"
cat "$T/media.txt"
grep -qx 'read-private-exponent: refused CKR_ATTRIBUTE_SENSITIVE' "$T/media.txt" || fail "private exponent readable"
grep -qx 'wrap-with-untrusted-key: refused CKR_KEY_UNEXTRACTABLE' "$T/media.txt" || fail "media wraps"
grep -q "^wrap-with-trusted-key: refused (key 'media' cannot be wrapped (CKR_KEY_UNEXTRACTABLE)" "$T/media.txt" ||
	fail "media wraps under the trusted key"
echo "wrap ok"
