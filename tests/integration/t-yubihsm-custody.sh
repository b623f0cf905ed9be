# Key custody on a YubiHSM 2 (the emulator): the ceremony's wrap key put
# on the device as an AES-256-CCM wrap key; the release keys exported with
# the device's own Export Wrapped by the backup key (the signing key may
# not); a second, freshly provisioned device gets the wrap key back from
# two shares and the keys from the backup, which pair with their
# certificates and sign through the real sign node as the first device's
# certificate says. Refused: a device that holds keys, a blob
# changed by one byte (the device's AES-CCM tag), a backup of another
# kind of token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/keyset-lib.sh"
. "$(dirname "$0")/custody-lib.sh"
. "$(dirname "$0")/yubihsm-lib.sh"

# The built-in key set's two release keys, and the other authorities'.
jq '.keys |= map(select(.label == "platform" or .label == "media" or .authority != "release"))' \
	"$TOP/src/common/keyset_default.json" > "$T/keyset.json"
start_emu
new_config "$T/state"
yh_section >> "$T/rombsr.conf"
printf '[keyset]\n\tfile = %s\n' "$T/keyset.json" >> "$T/rombsr.conf"
"$ROMBSR_SIGN" hsm-provision --backend yubihsm > /dev/null 2>&1 || fail "provision"
gpg_identity admin
printf '[queue]\n\tadmin = %s\n' "$FPR_ADMIN" >> "$ROMBSR_CONFIG"
custody_ids 3
"$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 3 "${RECIPIENTS[@]}" --out "$T/shares" 2>"$T/ceremony.log" ||
	fail "wrap-key create: $(cat "$T/ceremony.log")"
python3 -c 'import json,sys
w = [o for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == 4]
assert len(w) == 1 and bytes.fromhex(w[0]["label"]).startswith(b"wrap:") and w[0]["algorithm"] == 42, w' \
	"$T/emu.state" || fail "no AES-256-CCM wrap key labelled wrap:<id> on the device"
expect_fail "holds a wrap key already" "$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 3 "${RECIPIENTS[@]}" \
	--out "$T/shares2"
"$ROMBSR_SIGN" keygen --key platform 2>/dev/null || fail "keygen platform"
"$ROMBSR_SIGN" keygen --key media 2>/dev/null || fail "keygen media"
"$ROMBSR_SIGN" keys | awk '$1 == "platform" || $1 == "media"' > "$T/keys-before"
[ "$(wc -l < "$T/keys-before")" -eq 2 ] || fail "keys: $(cat "$T/keys-before")"

# The signing key may not export; the backup key does.
url="http://127.0.0.1:$EMU_PORT"
"$ROMBSR_SIGN" backup export --gnupg-home "$T/gpg-admin" --out "$T/bk" 2>"$T/export.log" ||
	fail "export: $(cat "$T/export.log")"
grep -q "2 keys of token 'yubihsm-1234567' backed up" "$T/export.log" || fail "export said: $(cat "$T/export.log")"
[ "$(jq -r .mechanism "$T/bk/manifest.json")" = YUBIHSM_AES_CCM_WRAP ] || fail "the manifest's mechanism"
expect_fail "insufficient permissions" "$ROMBSR_SIGN" backup export --gnupg-home "$T/gpg-admin" --out "$T/bk2" \
	--pin-file "$T/state/pins/release.pin"
[ ! -e "$T/bk2" ] || fail "a refused export left $T/bk2"

# A second device, provisioned afresh: no wrap key yet, then the wrap key
# from two of the three shares.
stop_emu
mv "$T/emu.state" "$T/first.state"
start_emu --serial 7654321
sed -i "s|127.0.0.1:[0-9]*$|127.0.0.1:$EMU_PORT|" "$T/rombsr.conf"
mkdir -p "$T/first-pins" && mv "$T/state/pins/"* "$T/first-pins/"
"$ROMBSR_SIGN" hsm-provision --backend yubihsm > /dev/null 2>&1 || fail "provision the second device"
expect_fail "holds no wrap key: restore wrap key" "$ROMBSR_SIGN" backup restore --from "$T/bk"
"$ROMBSR_SIGN" wrap-key restore --share "$T/shares/share-3.age" --share "$T/shares/share-1.age" \
	--identity "$T/id1" --identity "$T/id3" 2>"$T/wrap-restore.log" || fail "wrap-key restore: $(cat "$T/wrap-restore.log")"

# One byte of a blob changed: the device's tag refuses it, nothing stays.
rm -rf "$T/bad" && cp -a "$T/bk" "$T/bad"
flip_byte "$T/bad/keys/media.wrapped" 20
sha=$(sha256sum "$T/bad/keys/media.wrapped" | cut -d' ' -f1)
jq --arg s "$sha" '(.keys[] | select(.label == "media") | .wrapped_sha256) = $s' "$T/bk/manifest.json" > "$T/bad/manifest.json"
GNUPGHOME="$T/gpg-admin" gpg --batch --yes --armor --detach-sign --local-user "$FPR_ADMIN" \
	-o "$T/bad/manifest.json.asc" "$T/bad/manifest.json" 2>/dev/null
"$ROMBSR_SIGN" backup restore --from "$T/bad" > /dev/null 2> "$T/bad.log" && fail "a changed blob was imported"
grep -q "importing 'media'" "$T/bad.log" || fail "changed blob: $(cat "$T/bad.log")"
[ -z "$("$ROMBSR_SIGN" keys 2>/dev/null | awk '($1 == "platform" || $1 == "media") && !/missing/')" ] ||
	fail "a refused restore left keys on the device: $(cat "$T/bad.log")"

"$ROMBSR_SIGN" backup restore --from "$T/bk" 2>"$T/restore.log" || fail "restore: $(cat "$T/restore.log")"
grep -q "2 keys restored into token 'yubihsm-7654321'" "$T/restore.log" || fail "restore said: $(cat "$T/restore.log")"
"$ROMBSR_SIGN" keys | awk '$1 == "platform" || $1 == "media"' > "$T/keys-after"
diff "$T/keys-before" "$T/keys-after" > /dev/null || fail "the restored keys differ: $(diff "$T/keys-before" "$T/keys-after")"
expect_fail "holds 2 keys and 2 certificates already" "$ROMBSR_SIGN" backup restore --from "$T/bk"

# The restored platform key signs through the real sign node on the second
# device (its manifest and audit keys made there), and the signature
# verifies with the certificate the first device made.
python3 -c 'import json,sys
c = [o for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == 1 and
     bytes.fromhex(o["label"]).rstrip(b"\0") == b"platform"]
sys.exit(len(c) != 1 or bytes.fromhex(c[0]["data"]) != open(sys.argv[2], "rb").read())' \
	"$T/emu.state" "$T/bk/certs/platform.der" || fail "the restored certificate differs"
for a in manifest audit; do
	"$ROMBSR_SIGN" keygen --authority "$a" > /dev/null 2>&1 || fail "keygen $a on the second device"
done
yh_keyset_node "$T/keyset.json"
capture_journal
id=$(submit_journal user --artifact "$T/artifact1.bin=a1")
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/sign.txt" 2>&1 || fail "sign: $(cat "$T/sign.txt")"
[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "not signed: $(response_of "$id" | jq -c .reason)"
openssl x509 -inform DER -in "$T/bk/certs/platform.der" -pubkey -noout > "$T/platform-first.pub"
artifact_sigs_verify "$id" "$T/platform-first.pub"
echo "ok: the restored key signs through the sign node on the second device, as the first device's certificate says"

# A SoftHSM2 backup is not for a YubiHSM.
jq '.mechanism = "CKM_AES_KEY_WRAP_PAD"' "$T/bk/manifest.json" > "$T/other.json"
rm -rf "$T/bad" && cp -a "$T/bk" "$T/bad" && cp "$T/other.json" "$T/bad/manifest.json"
GNUPGHOME="$T/gpg-admin" gpg --batch --yes --armor --detach-sign --local-user "$FPR_ADMIN" \
	-o "$T/bad/manifest.json.asc" "$T/bad/manifest.json" 2>/dev/null
expect_fail "this backup was wrapped with CKM_AES_KEY_WRAP_PAD; 'yubihsm-7654321' wraps with YUBIHSM_AES_CCM_WRAP" \
	"$ROMBSR_SIGN" backup restore --from "$T/bad"
echo "yubihsm custody ok"
