# Keys beyond the token's capacity (docs/custody.md, "More keys than the
# token holds"): with hsm.capacity 8 and hsm.unwrap-slots 3, keygen of 20
# release keys leaves 5 in the token and keeps every key wrapped in the
# store; keys, export-public and backup export see all 20; a request over
# all 20 keys, in an order that makes the signer evict, is signed by the
# real sign node (unwraps and evictions counted), applied, and every
# signature verifies with its key's certificate. A store file swapped for
# another key's is refused, and so is one whose certificate holds a key of
# another kind than the set's; hsm-revoke removes a stored key's file; bad
# capacity settings are refused; a store file wrapped under another wrap key
# is refused by keygen.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/keyset-lib.sh"
. "$(dirname "$0")/custody-lib.sh"

# bench/capacity.sh runs it larger (CAPACITY_DEVICES=20 CAPACITY=40).
DEVICES=${CAPACITY_DEVICES:-2} CAPACITY=${CAPACITY:-8} SLOTS=${CAPACITY_SLOTS:-3}
KEYS=$((10 * DEVICES)) RESIDENT=$((CAPACITY - SLOTS))
STORED_ONLY=$((KEYS - RESIDENT))
# The last device's keys are the last made: kept only on disk.
LAST=$(printf 'd%03d' "$DEVICES")
keyset_file "$DEVICES" "$T/keyset.json"
custody_provision
capacity_conf() { printf '[keyset]\n\tfile = %s\n[hsm]\n\tcapacity = %s\n\tunwrap-slots = %s\n' "$T/keyset.json" \
	"$CAPACITY" "$SLOTS"; }
capacity_conf >> "$ROMBSR_CONFIG"

# Bad settings: one line each, naming the key.
cp "$ROMBSR_CONFIG" "$T/bad.conf"
printf '\tunwrap-slots = %s\n' $((CAPACITY + 1)) >> "$T/bad.conf"
expect_fail "hsm.unwrap-slots ($((CAPACITY + 1))) must not exceed hsm.capacity ($CAPACITY)" "$ROMBSR_SIGN" --config "$T/bad.conf" keys
printf '[core]\n\tstate-dir = %s\n[hsm]\n\tunwrap-slots = 2\n' "$T/state" > "$T/bad2.conf"
expect_fail "hsm.unwrap-slots needs hsm.capacity" "$ROMBSR_SIGN" --config "$T/bad2.conf" keys
printf '[core]\n\tstate-dir = %s\n[hsm]\n\tcapacity = 0\n' "$T/state" > "$T/bad3.conf"
expect_fail "hsm.capacity: a count from 1 to 65536 expected" "$ROMBSR_SIGN" --config "$T/bad3.conf" keys

# Without a wrap key, keys beyond the capacity have nowhere to go: refused
# before any key is made.
expect_fail "token 'rombsr-release' holds no wrap key" "$ROMBSR_SIGN" keygen --authority release
[ "$(release_objects privkey)" -eq 0 ] || fail "a refused keygen made keys"

custody_ids 2
"$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 2 "${RECIPIENTS[@]}" --out "$T/shares" >/dev/null 2>&1 ||
	fail "wrap-key create"
start=$(date +%s.%N)
"$ROMBSR_SIGN" keygen > "$T/keygen.txt" 2>&1 || fail "keygen: $(tail -3 "$T/keygen.txt")"
echo "ok: keygen of $KEYS release keys with capacity $CAPACITY in $(echo "$(date +%s.%N) - $start" | bc) s"
[ "$(release_objects privkey)" -eq "$RESIDENT" ] || fail "the release token holds $(release_objects privkey) keys"
[ "$(find "$T/state/wrapped/release" -name '*.json' | wc -l)" -eq "$KEYS" ] || fail "not $KEYS wrapped files"
[ ! -e "$T/state/wrapped/manifest" ] || fail "the manifest authority (1 key) got a store"
[ "$(stat -c %a "$T/state/wrapped/release/devices+d002+ota.json")" = 600 ] || fail "a wrapped file is not 0600"
jq -e '.format == "rombsr.wrapped-key" and .version == 1 and .label == "devices/d002/ota" and
	.authority == "release" and .mechanism == "CKM_AES_KEY_WRAP_PAD"' \
	"$T/state/wrapped/release/devices+d002+ota.json" >/dev/null || fail "wrapped file fields"
grep -q "^devices/$LAST/ota: kept wrapped in .* only" "$T/keygen.txt" || fail "keygen did not say a key left the token"
"$ROMBSR_SIGN" keygen > "$T/keygen2.txt" 2>&1 || fail "keygen again"
[ "$(grep -c 'kept wrapped in .*, kept$' "$T/keygen2.txt")" -eq "$STORED_ONLY" ] ||
	fail "keygen again: $(cat "$T/keygen2.txt")"
[ "$(release_objects privkey)" -eq "$RESIDENT" ] || fail "keygen again changed the token"
# A store file wrapped under another wrap key than the token's cannot be
# unwrapped by it: keygen must not count it as the key's copy (a key kept
# only on disk, and one the token keeps), but refuses it naming the file,
# as a security failure, with the store and the token left as they were.
wk=$(jq -r .wrap_key_id "$T/state/wrapped/release/devices+$LAST+ota.json")
other=$(printf '%s' "$wk" | tr 0-9a-f 1-9a-f0)
first=$(jq -r '[.keys[] | select(.authority == "release")][0].label' "$T/keyset.json")
for l in "devices/$LAST/ota" "$first"; do
	f=$T/state/wrapped/release/${l//\//+}.json
	cp "$f" "$T/planted.saved"
	jq --arg w "$other" '.wrap_key_id = $w' "$T/planted.saved" > "$f"
	(cd "$T/state/wrapped/release" && sha256sum ./*) > "$T/store-before.txt"
	# keygen reports each key it passes on stderr: the refusal is the last line.
	rc=0
	"$ROMBSR_SIGN" keygen >/dev/null 2>"$T/planted.err" || rc=$?
	[ "$rc" -eq 3 ] || fail "keygen over a file under another wrap key exited $rc, not 3 (security)"
	[ "$(tail -n 1 "$T/planted.err")" = "rombsr-sign keygen: $f is wrapped under wrap key $other, not under wrap key $wk that token 'rombsr-release' holds" ] ||
		fail "keygen over a file under another wrap key said: $(cat "$T/planted.err")"
	[ "$(grep -c '^rombsr-sign' "$T/planted.err")" -eq 1 ] || fail "more than one error: $(cat "$T/planted.err")"
	echo "ok: refused: $(tail -n 1 "$T/planted.err")"
	(cd "$T/state/wrapped/release" && sha256sum ./*) | diff "$T/store-before.txt" - || fail "a refused keygen changed the store"
	[ "$(find "$T/state/wrapped/release" -type f | wc -l)" -eq "$KEYS" ] || fail "a refused keygen left files behind"
	[ "$(release_objects privkey)" -eq "$RESIDENT" ] || fail "a refused keygen changed the token"
	cp "$T/planted.saved" "$f"
done
"$ROMBSR_SIGN" keygen >/dev/null 2>&1 || fail "keygen after the planted files were put back"
echo "ok: a store file wrapped under another wrap key is refused, store and token unchanged"
"$ROMBSR_SIGN" keys > "$T/keys.txt" || fail "keys"
! grep -q missing "$T/keys.txt" || fail "keys missing: $(cat "$T/keys.txt")"
[ "$(grep -c '(wrapped on disk)$' "$T/keys.txt")" -eq "$STORED_ONLY" ] || fail "keys: $(cat "$T/keys.txt")"
echo "ok: $KEYS keys, $RESIDENT in the token, $KEYS wrapped on disk"

"$ROMBSR_SIGN" export-public --out "$T/bundle" >/dev/null 2>&1 || fail "export-public"
[ "$(find "$T/bundle/certs" -type f | wc -l)" -eq $((KEYS + 1)) ] || fail "bundle certificates"

# The queue and its nodes (with_queue makes the admin identity too).
keyset_nodes "$T/keyset.json"
mkdir -p "$T/no-token"
printf 'directories.tokendir = %s\n' "$T/no-token" > "$T/no-token.conf"
with_queue
sign_config
capacity_conf >> "$SIGN_CONF"

# Backup holds the stored keys too.
printf '[queue]\n\tadmin = %s\n' "$FPR_ADMIN" >> "$ROMBSR_CONFIG"
"$ROMBSR_SIGN" backup export --gnupg-home "$T/gpg-admin" --out "$T/backup" >/dev/null 2>&1 || fail "backup export"
[ "$(jq '.keys | length' "$T/backup/manifest.json")" -eq "$KEYS" ] || fail "the backup does not hold $KEYS keys"
cmp -s <(jq -r .wrapped "$T/state/wrapped/release/devices+$LAST+ota.json" | base64 -d) \
	"$T/backup/keys/devices+$LAST+ota.wrapped" || fail "the backup's copy of a stored key differs"
echo "ok: backup export of $KEYS keys, $STORED_ONLY of them from the store"

# A build that signs with every key once, in an order that cycles through
# more keys than the 3 places: the signer unwraps and evicts.
printf 'capacity payload\n' > "$T/data"
labels=$(jq -r '.keys[] | select(.authority == "release") | .label' "$T/keyset.json")
capacity_sign_script "$labels" "$T/sign.sh"
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" bash "$T/sign.sh" ph || fail "capture over $KEYS keys"
[ "$(journal_lines)" -eq "$KEYS" ] || fail "captured $(journal_lines) operations"
# userdebug: the set's testkeys are development keys, refused in user builds.
id=$(submit_journal userdebug)
start=$(date +%s.%N)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
took=$(echo "$(date +%s.%N) - $start" | bc)
grep -q "^sign: 1 responses published (1 signed, 0 rejected), $KEYS operations, $KEYS HSM operations" "$T/pass.txt" ||
	fail "pass: $(cat "$T/pass.txt") $(cat "$T/pass.err")"
# Each key once, in key-set order: every stored key is unwrapped once, and
# all but the last SLOTS of them are evicted again.
grep -q "^sign: $STORED_ONLY keys unwrapped from the wrapped store, $((STORED_ONLY - SLOTS)) evicted" "$T/pass.txt" ||
	fail "unwraps: $(cat "$T/pass.txt")"
echo "ok: sign pass: $KEYS operations over $KEYS keys, $KEYS HSM sign operations, $STORED_ONLY unwraps," \
	"$((STORED_ONLY - SLOTS)) evictions, $took s (sign phase: $(sed -n 's/.*, sign \([0-9.]*s\),.*/\1/p' "$T/pass.txt"))"
"$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" --request "$id" --out "$T/sigs.json" -- \
	env SOFTHSM2_CONF="$T/no-token.conf" ${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign.sh" sig >/dev/null 2>"$T/apply.err" ||
	fail "apply: $(cat "$T/apply.err")"
capacity_verify "$labels"
[ "$(release_objects privkey)" -eq "$RESIDENT" ] || fail "unwrapped keys outlived the signer: $(release_objects privkey)"
echo "ok: applied, all $KEYS signatures verify with their certificates"

# A store file that holds another key's wrapped form under this label
# (both kept only on disk; new data, so not from the signing cache): the
# signer's check against the certificate refuses it.
a=$T/state/wrapped/release/devices+$LAST+media.json
b=$T/state/wrapped/release/devices+$LAST+shared.json
cp "$a" "$T/media.saved"
jq --arg w "$(jq -r .wrapped "$b")" '.wrapped = $w' "$T/media.saved" > "$a"
# The request's first operation is a good key's: the HSM signs it while
# (or before) the signer refuses the second; that signature is in the
# signing cache, so it must be in the audit log too, never handed out.
rm -f "$T/journal.jsonl"
printf 'not signed before\n' > "$T/data2"
for k in shared media; do
	capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m SHA256-RSA-PKCS \
		--id "$(bundle_id "devices/$LAST/$k")" -i "$T/data2" -o "$T/x.ph" 2>/dev/null || fail "capture ($k)"
done
id=$(submit_journal user)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass2.txt" 2>&1 || echo "pass: $(cat "$T/pass2.txt")"
[ "$(response_of "$id" | jq -r '"\(.status) \(.reason.code)"')" = "rejected refused" ] && response_of "$id" | jq -r .reason.message | grep -q "does not match its certificate" ||
	fail "a swapped store file signed: $(response_of "$id" | jq -c '{status, reason, message}')"
[ "$(response_of "$id" | jq '.signatures | length')" = 0 ] || fail "a refused request handed out signatures"
git clone -q "$T/queue.git" "$T/check-refused"
cache_in_log "$T/state/signer/cache-release" "$T/check-refused" >/dev/null || fail "an HSM signature is not in the audit log"
"$ROMBSR" --config "$(auditor auditor)" audit-verify --repo "$T/queue.git" > "$T/verify.out" 2>&1 ||
	fail "audit-verify: $(cat "$T/verify.out")"
grep -q ", 1 signatures of rejected requests never handed out" "$T/verify.out" ||
	fail "audit-verify does not account for the good key's signature: $(cat "$T/verify.out")"
cp "$T/media.saved" "$a"
echo "ok: a store file holding another key's wrapped form is refused; the other key's signature made beside it is logged, not handed out"

# A store file whose certificate holds a key of another kind than the key
# set defines for its label (an EC key under an RSA label): keys and
# export-public refuse it naming the file, as a security failure, and
# export-public writes no bundle.
cp "$a" "$T/media.saved"
jq --arg c "$(jq -r .certificate "$T/state/wrapped/release/devices+$LAST+attestation.json")" '.certificate = $c' \
	"$T/media.saved" > "$a"
cp "$a" "$T/media.planted"
want="$a: the stored key 'devices/$LAST/media' is ec-p256, not rsa-2048 as the key set defines"
expect_fail "$want" "$ROMBSR_SIGN" keys
rc=0
"$ROMBSR_SIGN" keys >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "keys over a stored key of another kind exited $rc, not 3 (security)"
expect_fail "$want" "$ROMBSR_SIGN" export-public --out "$T/bundle-bad"
[ ! -e "$T/bundle-bad" ] || fail "a refused export-public left $T/bundle-bad"
cmp -s "$a" "$T/media.planted" || fail "a refused keys or export-public changed the store file"
cp "$T/media.saved" "$a"
"$ROMBSR_SIGN" keys >/dev/null || fail "keys after the store file was put back"
echo "ok: a store file whose certificate is of another kind than the key set's is refused"

# Restore into a fresh token: the keys the token keeps go into it, the rest
# into the store, checked by unwrapping each first. A store that already
# holds the keys is refused before the token is touched.
"$ROMBSR_SIGN" keys --authority release | sort > "$T/keys-before.txt"
"$ROMBSR_SIGN" hsm-provision --force >/dev/null 2>&1 || fail "hsm-provision --force"
release_keys() { release_objects privkey; }
capacity_restore rombsr-release release_keys
echo "ok: restore put $RESIDENT keys in the token and $STORED_ONLY in the store, the same keys as before"

# hsm-revoke of a key kept only on disk: recorded, its file removed.
"$ROMBSR_SIGN" --config "$SIGN_CONF" hsm-revoke --key "pkcs11:token=rombsr-release;object=devices%2F$LAST%2Fota" --reason "capacity test" \
	--admin-key "$FPR_ADMIN" --admin-gpg-home "$T/gpg-admin" > "$T/revoke.txt" 2>&1 ||
	fail "hsm-revoke: $(cat "$T/revoke.txt")"
[ ! -e "$T/state/wrapped/release/devices+$LAST+ota.json" ] || fail "hsm-revoke left the wrapped copy"
"$ROMBSR_SIGN" keys --key "devices/$LAST/ota" | grep -q missing || fail "the revoked key is still listed"
echo "capacity ok"
