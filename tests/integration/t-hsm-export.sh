# export-public: certificates plus a versioned manifest, written whole or
# not at all.
. "$(dirname "$0")/lib.sh"

with_keys
"$ROMBSR_SIGN" export-public --out "$T/bundle"
m="$T/bundle/manifest.json"
[ "$(jq -r .format "$m")" = rombsr.public-bundle ] || fail "format"
[ "$(jq -r .version "$m")" = 1 ] || fail "version"
[ "$(jq '.keys | length' "$m")" -eq 11 ] || fail "not 11 keys"
[ "$(jq -r '.keys[] | select(.label=="manifest") | .authority' "$m")" = manifest ] || fail "manifest authority"
[ "$(jq -r '.keys[] | select(.label=="testkey") | .development' "$m")" = true ] || fail "testkey not development"
[ "$(jq -r '[.keys[] | select(.authority=="release")] | length' "$m")" -eq 10 ] || fail "release keys"
# The audit key signs checkpoints only: not offered to builds, published as
# a signed-note verifier key, recomputed here from its parts.
jq -e '.keys[] | select(.label=="audit")' "$m" >/dev/null && fail "the audit key is in the build bundle"
python3 - "$T/bundle/audit.vkey" <<'PY' || fail "audit.vkey"
import base64, hashlib, sys
name, keyid, key = open(sys.argv[1]).read().rstrip("\n").split("+", 2)
raw = base64.b64decode(key, validate=True)
assert name == "rombsr.local/audit", name
assert raw[0] == 2, "not an ECDSA (0x02) key"
assert hashlib.sha256(raw[1:]).hexdigest()[:8] == keyid, "key ID is not SHA-256(SPKI)[:4]"
assert len(raw) == 1 + 91, "not a P-256 SubjectPublicKeyInfo"
PY
jq -c '.keys[]' "$m" | while read -r k; do
	label=$(jq -r .label <<<"$k")
	cert="$T/bundle/$(jq -r .certificate <<<"$k")"
	[ "$(openssl x509 -in "$cert" -outform DER | sha256sum | cut -d' ' -f1)" = "$(jq -r .certificate_sha256 <<<"$k")" ] ||
		fail "$label: certificate_sha256"
	[ "$(openssl x509 -in "$cert" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)" = \
		"$(jq -r .spki_sha256 <<<"$k")" ] || fail "$label: spki_sha256"
done
# No private material anywhere in the bundle.
grep -rl "PRIVATE" "$T/bundle" && fail "private key material in the bundle"

# An existing bundle is kept unless --force.
expect_fail "exists; pass --force" "$ROMBSR_SIGN" export-public --out "$T/bundle"
"$ROMBSR_SIGN" export-public --out "$T/bundle" --force
[ "$(jq '.keys | length' "$m")" -eq 11 ] || fail "forced export broken"
ls "$T" | grep -q 'bundle.tmp' && fail "scratch left behind"

# A token missing a key: refused, and no bundle folder appears.
new_config "$T/empty-state"
"$ROMBSR_SIGN" hsm-provision 2>/dev/null
expect_fail "run 'rombsr-sign keygen' first" "$ROMBSR_SIGN" export-public --out "$T/bundle2"
[ ! -e "$T/bundle2" ] || fail "a half bundle was written"
ls "$T" | grep -q 'bundle2.tmp' && fail "scratch left behind"
echo "export-public ok"
