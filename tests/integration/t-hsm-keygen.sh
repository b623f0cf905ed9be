# keygen: the whole key set in the token, each key with a certificate of the
# same CKA_ID and label, private keys sensitive and never extractable, the
# manifest key in a token of its own; re-running keeps every key.
. "$(dirname "$0")/lib.sh"

with_keys
pin=$(cat "$T/state/pins/release.pin")
objects=$(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$pin" --list-objects)
for label in platform media shared networkstack sdk_sandbox bluetooth testkey avb_root avb_intermediate ota_key; do
	key_id=$(printf '%s\n' "$objects" | awk -v l="$label" '/^Private Key Object/{p=1;next} /^[A-Z]/{p=0} p && $1=="label:" {lab=$2} p && $1=="ID:" && lab==l {print $2; lab=""}')
	cert_id=$(printf '%s\n' "$objects" | awk -v l="$label" '/^Certificate Object/{p=1;next} /^[A-Z]/{p=0} p && $1=="label:" {lab=$2} p && $1=="ID:" && lab==l {print $2; lab=""}')
	[ -n "$key_id" ] || fail "no private key $label"
	[ "$key_id" = "$cert_id" ] || fail "$label: key ID $key_id, certificate ID '$cert_id'"
done
printf '%s\n' "$objects" | grep -q "label: *manifest" && fail "manifest key in the release token"
[ "$(printf '%s\n' "$objects" | grep -c '^Private Key Object')" -eq 10 ] || fail "not 10 release keys"
[ "$(printf '%s\n' "$objects" | grep -A4 '^Private Key Object' | grep -c 'sensitive, always sensitive, never extractable')" -eq 10 ] ||
	fail "a private key is extractable or not sensitive"

mpin=$(cat "$T/state/pins/manifest.pin")
mobjects=$(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-manifest --login --pin "$mpin" --list-objects)
printf '%s\n' "$mobjects" | grep -q '^Private Key Object; EC' || fail "no EC key in the manifest token"
[ "$(printf '%s\n' "$mobjects" | grep -c '^Private Key Object')" -eq 1 ] || fail "manifest token holds other keys"
# The release PIN does not open the manifest token.
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-manifest --login --pin "$pin" --list-objects >/dev/null 2>&1 &&
	fail "the release PIN opens the manifest token"

# The certificates are signed by the keys themselves.
"$ROMBSR_SIGN" export-public --out "$T/bundle"
for pem in "$T"/bundle/certs/*.pem; do
	openssl verify -check_ss_sig -partial_chain -CAfile "$pem" "$pem" >/dev/null || fail "$pem does not verify"
done

# Re-running changes nothing.
"$ROMBSR_SIGN" keygen 2>"$T/again.log"
[ "$(grep -c 'present, kept' "$T/again.log")" -eq 12 ] || fail "keygen re-run did not keep all keys: $(cat "$T/again.log")"
again=$(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$pin" --list-objects)
[ "$(printf '%s\n' "$again" | sort)" = "$(printf '%s\n' "$objects" | sort)" ] || fail "keygen re-run changed the token"

# keys lists every key with its fingerprint, matching the bundle.
"$ROMBSR_SIGN" keys > "$T/keys.txt"
[ "$(tail -n +2 "$T/keys.txt" | wc -l)" -eq 12 ] || fail "keys does not list 12 keys (11 of the key set and the audit key)"
fp=$(awk '$1=="platform"{print $4}' "$T/keys.txt")
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
	sha256sum | grep -q "^$fp " || fail "keys fingerprint of platform is not the SPKI SHA-256"
grep -q '^manifest  *manifest  *ec-p256 ' "$T/keys.txt" || fail "manifest key line wrong"
echo "keygen ok"
