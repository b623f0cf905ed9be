# More keys than a YubiHSM 2 holds (docs/custody.md, "More keys than the
# token holds"; docs/yubihsm.md, "Keys beyond the device's room"), on the
# emulator limited to 18 objects: a device's ten release keys and their
# certificates would not fit beside the role keys. With hsm.capacity 5 and
# hsm.unwrap-slots 2, keygen keeps 3 release keys on the device and all 10
# wrapped on disk (exported by the backup key, IDs never given twice); the
# real sign node signs a request over all 10 through the loader key
# (Import Wrapped, then Delete Object to evict), apply's signatures verify
# with the keys' certificates, and the device holds no copy afterwards. A
# copy a stopped signer left on the device is taken as loaded, not imported
# twice; a device fuller than the capacity says is coped with by evicting
# more; a copy that is not its certificate's key, and a missing loader
# PIN file, stop the signer with a clear error. A backup restored onto a
# second device puts 3 keys on it and 7 into the store, as they were;
# hsm-revoke removes a stored key's file and a key from the device.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/keyset-lib.sh"
. "$(dirname "$0")/custody-lib.sh"
. "$(dirname "$0")/yubihsm-lib.sh"

CAPACITY=5 SLOTS=2 KEYS=10
RESIDENT=$((CAPACITY - SLOTS)) STORED_ONLY=$((KEYS - CAPACITY + SLOTS))
keyset_file 1 "$T/keyset.json"
capacity_conf() { printf '[keyset]\n\tfile = %s\n[hsm]\n\tcapacity = %s\n\tunwrap-slots = %s\n' "$T/keyset.json" \
	"$CAPACITY" "$SLOTS"; }
# Asymmetric keys on the device whose label is a release key's.
device_release_keys() {
	python3 -c 'import json,sys
print(sum(1 for o in json.load(open(sys.argv[1]))["objects"]
          if o["type"] == 3 and bytes.fromhex(o["label"]).rstrip(b"\0").startswith(b"devices/")))' "$T/emu.state"
}

start_emu --max-objects 18
new_config "$T/state"
yh_section >> "$T/rombsr.conf"
capacity_conf >> "$T/rombsr.conf"
"$ROMBSR_SIGN" hsm-provision --backend yubihsm > "$T/provision.log" 2>&1 || fail "provision: $(cat "$T/provision.log")"
grep -q "created the rombsr-loader authentication key (0x0006), its PIN in $T/state/pins/yubihsm-loader.pin" \
	"$T/provision.log" || fail "provision: $(cat "$T/provision.log")"

# Keys beyond the capacity need the custody wrap key on the device.
expect_fail "holds no wrap key" "$ROMBSR_SIGN" keygen --authority release
[ "$(device_release_keys)" -eq 0 ] || fail "a refused keygen made keys"
custody_ids 2
"$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 2 "${RECIPIENTS[@]}" --out "$T/shares" >/dev/null 2>&1 ||
	fail "wrap-key create"
"$ROMBSR_SIGN" keygen > "$T/keygen.txt" 2>&1 || fail "keygen: $(tail -3 "$T/keygen.txt")"
[ "$(device_release_keys)" -eq "$RESIDENT" ] || fail "the device holds $(device_release_keys) release keys"
[ "$(find "$T/state/wrapped/release" -name '*.json' | wc -l)" -eq "$KEYS" ] || fail "not $KEYS wrapped files"
[ "$(grep -c ': kept wrapped in .* only' "$T/keygen.txt")" -eq "$STORED_ONLY" ] || fail "keygen: $(cat "$T/keygen.txt")"
jq -e '.mechanism == "YUBIHSM_AES_CCM_WRAP"' "$T/state/wrapped/release/devices+d001+ota.json" >/dev/null ||
	fail "a stored key's mechanism: $(jq -c . "$T/state/wrapped/release/devices+d001+ota.json")"
# Every key has an ID of its own: a key kept on disk comes back under its
# ID, so no other key or certificate on the device (the manifest and audit
# keys were made after the release keys left) may have been given it.
python3 - "$T/emu.state" "$T"/state/wrapped/release/*.json <<'PY' || fail "a key ID was given twice"
import json, sys
objects = [o for o in json.load(open(sys.argv[1]))["objects"] if o["type"] in (1, 3)]
files = [json.load(open(f)) for f in sys.argv[2:]]
by_id = {int(f["id"], 16): f["label"] for f in files}
assert len(by_id) == len(files), "two store files name one ID"
keys = [o["id"] for o in objects if o["type"] == 3]
assert len(set(keys)) == len(keys), keys
assert len(set(by_id) & set(keys)) == 3, (sorted(by_id), keys)
for o in objects:
    label = bytes.fromhex(o["label"]).rstrip(b"\0").decode()
    assert by_id.get(o["id"], label) == label, "ID %d holds %s, kept on disk for %s" % (o["id"], label, by_id[o["id"]])
PY
"$ROMBSR_SIGN" keygen > "$T/keygen2.txt" 2>&1 || fail "keygen again: $(cat "$T/keygen2.txt")"
[ "$(grep -c 'kept wrapped in .*, kept$' "$T/keygen2.txt")" -eq "$STORED_ONLY" ] || fail "keygen again: $(cat "$T/keygen2.txt")"
"$ROMBSR_SIGN" keys > "$T/keys.txt" || fail "keys"
[ "$(grep -c '(wrapped on disk)$' "$T/keys.txt")" -eq "$STORED_ONLY" ] || fail "keys: $(cat "$T/keys.txt")"
# The loader may neither sign with a key nor export it.
platform_id=$(jq -r .id "$T/state/wrapped/release/devices+d001+platform.json")
wrap_id=$(python3 -c 'import json,sys
print([o["id"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == 4][0])' "$T/emu.state")
expect_fail "insufficient permissions" "$TOOLS/yh-as" "http://127.0.0.1:$EMU_PORT" \
	"$T/state/pins/yubihsm-loader.pin" sign "0x$platform_id"
expect_fail "insufficient permissions" "$TOOLS/yh-as" "http://127.0.0.1:$EMU_PORT" \
	"$T/state/pins/yubihsm-loader.pin" export "$wrap_id" 3 "0x$platform_id"
echo "ok: keygen of $KEYS release keys: $RESIDENT on the device, $KEYS wrapped on disk, IDs never given twice"

yh_keyset_node "$T/keyset.json"
capacity_conf >> "$SIGN_CONF"

# A build that signs with every key once: the signer brings each stored key
# onto the device and evicts all but the last two.
id=$(capacity_request 'capacity payload')
capacity_pass "$id" "$T/pass.txt" "$STORED_ONLY" $((STORED_ONLY - SLOTS))
[ "$(device_release_keys)" -eq "$RESIDENT" ] || fail "the signer left $(( $(device_release_keys) - RESIDENT )) copies on the device"
# Every Import Wrapped and signature is in the device's log, bound into ours.
git clone -q "$T/queue.git" "$T/clone"
"$ROMBSR" --config "$(auditor auditor)" audit-verify --repo "$T/clone" > "$T/verify.txt" 2>&1 ||
	fail "audit-verify: $(cat "$T/verify.txt")"
queue_entries "$T/clone" > "$T/entries.jsonl"
[ "$(jq -c "select(.type == \"device-log\" and .request_id == \"$id\")" "$T/entries.jsonl" | wc -l)" -eq "$KEYS" ] ||
	fail "the device's $KEYS signatures are not bound to request $id"
! grep -q '"device-log-anomaly"' "$T/entries.jsonl" || fail "an anomaly: $(grep device-log-anomaly "$T/entries.jsonl")"
echo "ok: the sign node signed over $KEYS keys through 18 objects: $STORED_ONLY imports, every signature verifies and is in the device log"

# A device fuller than hsm.capacity says (one object less: room for one
# copy, not two): the import refused for want of room is tried again after
# an eviction, and the signer goes on with one place.
restart_emu --max-objects 17
id=$(capacity_request 'capacity payload, a fuller device')
capacity_pass "$id" "$T/full.txt" "$STORED_ONLY" $((STORED_ONLY - 1))
restart_emu --max-objects 18
echo "ok: a device with room for one copy instead of two: $STORED_ONLY imports, $((STORED_ONLY - 1)) evictions, all signed"

# A signer that stopped without evicting leaves its copy: the next one takes
# it as loaded (one import fewer: the request uses it first of the stored
# keys, before it could be evicted) and takes it away at its end.
last=devices/d001/networkstack
jq -r .wrapped "$T/state/wrapped/release/${last//\//+}.json" | base64 -d > "$T/left.blob"
"$TOOLS/yh-as" "http://127.0.0.1:$EMU_PORT" "$T/state/pins/yubihsm-loader.pin" import "$wrap_id" "$T/left.blob" \
	>/dev/null || fail "importing a copy as a stopped signer would have"
[ "$(device_release_keys)" -eq $((RESIDENT + 1)) ] || fail "the copy is not on the device"
id=$(capacity_request 'capacity payload 2')
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass2.txt" 2>"$T/pass2.err" || fail "sign --once: $(cat "$T/pass2.err")"
grep -q "^sign: 1 responses published (1 signed, 0 rejected)" "$T/pass2.txt" || fail "pass 2: $(cat "$T/pass2.txt")"
grep -q "^sign: $((STORED_ONLY - 1)) keys unwrapped from the wrapped store" "$T/pass2.txt" ||
	fail "the copy left on the device was not taken as loaded: $(cat "$T/pass2.txt")"
[ "$(device_release_keys)" -eq "$RESIDENT" ] || fail "the copy outlived the next signer"
echo "ok: a copy left on the device is taken as loaded and removed"

# A copy left on the device that is not the key its stored certificate
# names (the store file's certificate swapped for another key's): the
# signer refuses to start, as a security failure, and nothing is signed.
ota=$T/state/wrapped/release/devices+d001+ota.json
jq -r .wrapped "$ota" | base64 -d > "$T/ota.blob"
"$TOOLS/yh-as" "http://127.0.0.1:$EMU_PORT" "$T/state/pins/yubihsm-loader.pin" import "$wrap_id" "$T/ota.blob" \
	>/dev/null || fail "importing ota's copy"
cp "$ota" "$T/ota.saved"
jq --arg c "$(jq -r .certificate "$T/state/wrapped/release/devices+d001+media.json")" '.certificate = $c' \
	"$T/ota.saved" > "$ota"
id=$(capacity_request 'capacity payload 3')
expect_fail "the copy of 'devices/d001/ota' left on yubihsm-1234567 is not the key of its stored certificate" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once
[ -z "$(git -C "$T/queue.git" ls-tree -r --name-only main | grep "$(resp_path "$id")")" ] ||
	fail "a response was published over a wrong copy"
cp "$T/ota.saved" "$ota"

# Without the loader's PIN file the signer cannot bring a key in: it does
# not start, and says why.
mv "$T/state/pins/yubihsm-loader.pin" "$T/loader.pin"
expect_fail "the YubiHSM's loader PIN file $T/state/pins/yubihsm-loader.pin is missing" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once
mv "$T/loader.pin" "$T/state/pins/yubihsm-loader.pin"
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass4.txt" 2>"$T/pass4.err" || fail "sign --once: $(cat "$T/pass4.err")"
grep -q "^sign: 1 responses published (1 signed, 0 rejected)" "$T/pass4.txt" || fail "pass 4: $(cat "$T/pass4.txt")"
[ "$(device_release_keys)" -eq "$RESIDENT" ] || fail "copies outlived the signer: $(device_release_keys)"
echo "ok: a wrong copy and a missing loader PIN stop the signer, with a clear error"

# The backup key's backup holds the stored keys too; restored onto a second
# device, the first three keys go onto it and the other seven, each checked
# on the device and deleted again, into the store, as they were.
printf '[queue]\n\tadmin = %s\n' "$FPR_ADMIN" >> "$ROMBSR_CONFIG"
"$ROMBSR_SIGN" backup export --gnupg-home "$T/gpg-admin" --out "$T/backup" 2>"$T/export.log" ||
	fail "backup export: $(cat "$T/export.log")"
[ "$(jq '.keys | length' "$T/backup/manifest.json")" -eq "$KEYS" ] || fail "the backup does not hold $KEYS keys"
cmp -s <(jq -r .wrapped "$ota" | base64 -d) "$T/backup/keys/devices+d001+ota.wrapped" ||
	fail "the backup's copy of a stored key differs from the store's"
"$ROMBSR_SIGN" keys --authority release | sort > "$T/keys-before.txt"
stop_emu
mv "$T/emu.state" "$T/first.state"
start_emu --max-objects 18 --serial 7654321
sed -i "s|127.0.0.1:[0-9]*$|127.0.0.1:$EMU_PORT|" "$T/rombsr.conf" "$SIGN_CONF"
mkdir -p "$T/first-pins" && mv "$T/state/pins/"* "$T/first-pins/"
"$ROMBSR_SIGN" hsm-provision --backend yubihsm > /dev/null 2>&1 || fail "provision the second device"
capacity_restore yubihsm-7654321 device_release_keys
echo "ok: restore put $RESIDENT keys on a second device and $STORED_ONLY in the store, the same keys as before"

# hsm-revoke on the device, as the administrator: a key kept on disk loses
# its file, a key on the device is deleted with its certificate.
for k in ota platform; do
	"$ROMBSR_SIGN" --config "$SIGN_CONF" hsm-revoke --key "pkcs11:token=rombsr-release;object=devices%2Fd001%2F$k" \
		--reason "capacity test" --admin-key "$FPR_ADMIN" --admin-gpg-home "$T/gpg-admin" > "$T/revoke.txt" 2>&1 ||
		fail "hsm-revoke $k: $(cat "$T/revoke.txt")"
	"$ROMBSR_SIGN" keys --key "devices/d001/$k" | grep -q missing || fail "the revoked key $k is still listed"
done
[ ! -e "$T/state/wrapped/release/devices+d001+ota.json" ] || fail "hsm-revoke left the wrapped copy"
[ "$(device_release_keys)" -eq $((RESIDENT - 1)) ] || fail "hsm-revoke left platform on the device"
python3 -c 'import json,sys
objs = json.load(open(sys.argv[1]))["objects"]
sys.exit(any(bytes.fromhex(o["label"]).rstrip(b"\0") == b"devices/d001/platform" for o in objs))' "$T/emu.state" ||
	fail "hsm-revoke left platform's certificate on the device"
echo "ok: hsm-revoke removed a stored key's file and a key with its certificate from the device"
echo "yubihsm capacity ok"
