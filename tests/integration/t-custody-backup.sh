# Backup and restore (docs/custody.md, docs/formats/backup.md): the release
# keys wrapped under the trusted wrap key with an admin-signed manifest;
# restored into a fresh token after its wrap key is rebuilt from shares, an
# APK signed by the restored token verifies with the same certificate, and
# an EC P-384 key of the key set comes back as itself (ec-p384, 384 bits in
# the manifest) and signs a SHA-384 digest that its certificate verifies.
# Refused, with nothing left behind: an existing folder, a key that cannot
# be wrapped, a signer who is not a pinned admin, a token that holds keys or
# lacks the wrap key, a manifest or file that was changed, a certificate
# that is not its key's (the keys imported before it are taken out again).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/custody-lib.sh"

custody_provision
gpg_identity admin
gpg_identity other
printf '[queue]\n\tadmin = %s\n' "$FPR_ADMIN" >> "$ROMBSR_CONFIG"
custody_ids 3
"$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 3 "${RECIPIENTS[@]}" --out "$T/shares" 2>/dev/null
"$ROMBSR_SIGN" keygen --wrappable --key platform 2>/dev/null
"$ROMBSR_SIGN" keygen --wrappable --key media 2>/dev/null
# The built-in set and one P-384 release key.
P384=devices/x/attestation
jq --arg l "$P384" '.keys += [{label: $l, algorithm: "ec-p384", authority: "release", purpose: "attestation"}]' \
	"$TOP/src/common/keyset_default.json" > "$T/keyset.json"
printf '[keyset]\n\tfile = %s\n' "$T/keyset.json" >> "$ROMBSR_CONFIG"
"$ROMBSR_SIGN" keygen --wrappable --key "$P384" 2>/dev/null || fail "keygen of the P-384 key"
p384_before=$("$ROMBSR_SIGN" keys --key "$P384" | tail -n 1)
case "$p384_before" in "$P384 release "*" ec-p384 "*) ;; *) fail "the P-384 key: $p384_before" ;; esac

# An APK signed by the original token, and its certificate.
"$TOP/scripts/make-sample-apk.sh" org.rombsr.test.app "$T/app.apk"
sign_apk() {
	sunpkcs11_config rombsr-release "$T/p11.cfg"
	apksigner_p11 sign --ks NONE --ks-type PKCS11 --ks-pass "file:$T/state/pins/release.pin" \
		--provider-class sun.security.pkcs11.SunPKCS11 --provider-arg "$T/p11.cfg" --provider-pos 1 \
		--ks-key-alias platform --out "$1" "$T/app.apk"
	apksigner verify --print-certs "$1" | sed -n 's/.*certificate SHA-256 digest: //p'
}
before=$(sign_apk "$T/before.apk")
[ -n "$before" ] || fail "no certificate digest before"

export_backup() { "$ROMBSR_SIGN" backup export --gnupg-home "$T/gpg-admin" "$@"; }
no_scratch() { ls -d "$T"/*.tmp-* >/dev/null 2>&1 && fail "$1: a scratch folder was left"; true; }
expect_fail "--admin-key $FPR_OTHER is not a pinned admin" export_backup --out "$T/bk" --admin-key "$FPR_OTHER"
"$ROMBSR_SIGN" keygen --key testkey 2>/dev/null
expect_fail "key 'testkey' cannot be wrapped (CKR_KEY_UNEXTRACTABLE)" export_backup --out "$T/bk"
[ ! -e "$T/bk" ] || fail "a refused export left $T/bk"
no_scratch "refused export"
"$TOOLS/hsm-delete-key" "$SOFTHSM_MODULE" pkcs11:token=rombsr-release "$T/state/pins/release.pin" testkey
export_backup --out "$T/bk" 2>"$T/export.log"
grep -q "3 keys of token 'rombsr-release' backed up" "$T/export.log" || fail "export said: $(cat "$T/export.log")"
expect_fail "exists already" export_backup --out "$T/bk"
jq -e --arg l "$P384" '.format == "rombsr-backup" and .version == 1 and (.keys | length) == 3 and
	([.keys[] | select(.label == $l) | "\(.algorithm) \(.bits) \(.wrapped)"] == ["ec-p384 384 keys/devices+x+attestation.wrapped"])' \
	"$T/bk/manifest.json" >/dev/null || fail "manifest: $(cat "$T/bk/manifest.json")"
(cd "$T/bk" && jq -r '.keys[] | "\(.wrapped_sha256)  \(.wrapped)\n\(.certificate_sha256)  \(.certificate)"' manifest.json |
	sha256sum -c --quiet) || fail "the manifest's SHA-256s do not match its files"
GNUPGHOME="$T/gpg-admin" gpg --batch --verify "$T/bk/manifest.json.asc" "$T/bk/manifest.json" 2>/dev/null ||
	fail "gpg does not verify the manifest's signature"

expect_fail "holds 3 keys and 3 certificates already" "$ROMBSR_SIGN" backup restore --from "$T/bk"
"$ROMBSR_SIGN" hsm-provision --force >/dev/null 2>&1
expect_fail "holds no wrap key: restore wrap key" "$ROMBSR_SIGN" backup restore --from "$T/bk"
"$ROMBSR_SIGN" wrap-key restore --share "$T/shares/share-3.age" --share "$T/shares/share-1.age" \
	--identity "$T/id1" --identity "$T/id3" 2>/dev/null

# Tampered backups, each in a copy.
tampered() { rm -rf "$T/bad"; cp -a "$T/bk" "$T/bad"; }
tampered; sed -i 's/"bits": 4096/"bits": 2048/' "$T/bad/manifest.json"
expect_fail "the manifest's signature does not verify (bad signature)" "$ROMBSR_SIGN" backup restore --from "$T/bad"
tampered; printf 'x' >> "$T/bad/keys/media.wrapped"
expect_fail "$T/bad/keys/media.wrapped does not match the SHA-256 in the signed manifest" \
	"$ROMBSR_SIGN" backup restore --from "$T/bad"
tampered
GNUPGHOME="$T/gpg-other" gpg --batch --yes --armor --detach-sign -o "$T/bad/manifest.json.asc" "$T/bad/manifest.json" 2>/dev/null
GNUPGHOME="$T/gpg-other" gpg --batch --armor --export "$FPR_OTHER" > "$T/bad/admin.asc" 2>/dev/null
expect_fail "is signed by $FPR_OTHER, who is not a pinned admin" "$ROMBSR_SIGN" backup restore --from "$T/bad"
# Signed by the admin, but media's certificate is platform's: platform is
# imported first, then taken out again.
tampered
cp "$T/bk/certs/platform.der" "$T/bad/certs/media.der"
sum=$(sha256sum "$T/bad/certs/media.der" | cut -d' ' -f1)
jq --arg s "$sum" '(.keys[] | select(.label == "media") | .certificate_sha256) = $s' "$T/bk/manifest.json" \
	> "$T/bad/manifest.json"
GNUPGHOME="$T/gpg-admin" gpg --batch --yes --armor --detach-sign -o "$T/bad/manifest.json.asc" "$T/bad/manifest.json" 2>/dev/null
expect_fail "key 'media': certs/media.der is not the certificate of key 'media'" "$ROMBSR_SIGN" backup restore --from "$T/bad"
# The P-384 key paired with another P-384 key's certificate: its point is
# not in the token, so the key signs and the certificate's key must verify.
tampered
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj /CN=other -keyout "$T/other.key" \
	-outform der -out "$T/bad/certs/devices+x+attestation.der" 2>/dev/null
sum=$(sha256sum "$T/bad/certs/devices+x+attestation.der" | cut -d' ' -f1)
jq --arg s "$sum" --arg l "$P384" '(.keys[] | select(.label == $l) | .certificate_sha256) = $s' "$T/bk/manifest.json" \
	> "$T/bad/manifest.json"
GNUPGHOME="$T/gpg-admin" gpg --batch --yes --armor --detach-sign -o "$T/bad/manifest.json.asc" "$T/bad/manifest.json" 2>/dev/null
expect_fail "key '$P384': certs/devices+x+attestation.der is not the certificate of key '$P384'" \
	"$ROMBSR_SIGN" backup restore --from "$T/bad"
[ "$(release_objects privkey)" -eq 0 ] && [ "$(release_objects cert)" -eq 0 ] ||
	fail "a refused restore left keys in the token"
echo "ok: every refused restore left the token without keys"

"$ROMBSR_SIGN" backup restore --from "$T/bk" 2>"$T/restore.log" || fail "restore: $(cat "$T/restore.log")"
grep -q "3 keys restored into token 'rombsr-release'" "$T/restore.log" || fail "restore said: $(cat "$T/restore.log")"
after=$(sign_apk "$T/after.apk")
apksigner verify "$T/after.apk" || fail "the APK signed by the restored token does not verify"
[ "$after" = "$before" ] || fail "certificate before $before, after $after"
echo "ok: APK signed by the restored token verifies with certificate $after"
[ "$("$ROMBSR_SIGN" keys --key "$P384" | tail -n 1)" = "$p384_before" ] || fail "the restored P-384 key differs"
printf 'attestation\n' > "$T/data"
"$TOOLS/hsm-sign" "$SOFTHSM_MODULE" pkcs11:token=rombsr-release "$T/state/pins/release.pin" "$P384" ecdsa-sha384 \
	"$(openssl dgst -sha384 -r "$T/data" | cut -d' ' -f1)" "$T/p384.sig" || fail "the restored P-384 key does not sign"
openssl x509 -inform der -in "$T/bk/certs/devices+x+attestation.der" -pubkey -noout > "$T/p384.pub"
openssl dgst -sha384 -verify "$T/p384.pub" -signature "$T/p384.sig" "$T/data" >/dev/null ||
	fail "the restored P-384 key's signature does not verify with its certificate"
echo "ok: the restored P-384 key signs a SHA-384 digest, verified with its certificate"
# The restored keys are wrappable under the trusted key only, like the originals.
"$TOOLS/hsm-wrap-probe" "$SOFTHSM_MODULE" pkcs11:token=rombsr-release "$T/state/pins/release.pin" platform > "$T/probe.txt"
grep -qx 'wrap-with-untrusted-key: refused CKR_KEY_NOT_WRAPPABLE' "$T/probe.txt" || fail "restored key: $(cat "$T/probe.txt")"
grep -qx 'read-private-exponent: refused CKR_ATTRIBUTE_SENSITIVE' "$T/probe.txt" || fail "restored key: $(cat "$T/probe.txt")"
grep -q '^wrap-with-trusted-key: ok [0-9]* bytes$' "$T/probe.txt" || fail "restored key: $(cat "$T/probe.txt")"
echo "backup ok"
