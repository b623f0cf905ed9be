# rombsr avb on a build node, the whole way: the build runs the avb
# commands against the capture module (no key anywhere on the build side),
# submits the two captured vbmeta signatures (avb_root for vbmeta,
# avb_intermediate for the chained vbmeta_system), the real sign node signs
# them in SoftHSM2 and logs them, apply replays the same build script, and
# `rombsr avb verify` checks the chain with the root key the device trusts.
# The replayed images are byte for byte what the build would make again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_bundle
with_queue
sign_config
openssl x509 -in "$T/bundle/certs/avb_root.pem" -pubkey -noout > "$T/root.pub"
mkdir -p "$T/in/tree" "$T/out"
head -c 700001 /dev/urandom > "$T/in/boot.img"
for i in $(seq 8); do head -c $((i * 10007)) /dev/urandom > "$T/in/tree/f$i"; done
mke2fs -q -t ext4 -b 4096 -d "$T/in/tree" "$T/in/system.img" 4M 2>/dev/null

# The build's signing step, the same script for capture and for replay:
# from the unsigned inputs to the signed images in $T/out.
cat > "$T/build.sh" <<SH
set -e
cd "$T/out"
cp "$T/in/boot.img" "$T/in/system.img" .
key() { printf 'pkcs11:token=rombsr-capture;object=%s?module-path=%s' "\$1" "$CAP_MODULE"; }
"$ROMBSR" avb extract-public-key --key "\$(key avb_intermediate)" --output intermediate.bin
"$ROMBSR" avb add-hash-footer --image boot.img --partition-name boot --partition-size 1048576
"$ROMBSR" avb add-hashtree-footer --image system.img --partition-name system --partition-size 6291456 \
	--salt-seed "sample/phone:14/T1/1:user/release-keys"
"$ROMBSR" avb make-vbmeta --output vbmeta_system.img --key "\$(key avb_intermediate)" \
	--rollback-index 2 --rollback-index-location 1 --include-descriptors-from-image system.img
"$ROMBSR" avb make-vbmeta --output vbmeta.img --key "\$(key avb_root)" --rollback-index 2 \
	--include-descriptors-from-image boot.img --chain-partition vbmeta_system:1:intermediate.bin
SH
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" bash "$T/build.sh" || fail "the build against the capture module"
[ "$(journal_lines)" -eq 2 ] || fail "expected 2 captured signatures, got $(journal_lines)"
[ "$(jq -r "select(.data != null) | .label" "$T/journal.jsonl" | wc -l)" -eq 2 ] || fail "the journal does not carry the vbmeta data"
cp "$T/journal.jsonl" "$T/round1.jsonl"
jq -r '.label + " " + .mechanism' "$T/journal.jsonl" | sort > "$T/ops"
printf 'avb_intermediate CKM_SHA256_RSA_PKCS\navb_root CKM_SHA256_RSA_PKCS\n' | cmp -s - "$T/ops" ||
	fail "captured: $(cat "$T/ops")"
expect_fail "partition 'vbmeta': avb vbmeta: bad SHA256_RSA4096 signature" \
	"$ROMBSR" avb verify --image "$T/out/vbmeta.img" --key "$T/root.pub"
echo "ok: captured 2 vbmeta signatures; the placeholder images do not verify"

id=$(submit_journal "$BUILD_CONF")
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
grep -q '1 signed' "$T/pass.txt" || fail "pass: $(cat "$T/pass.txt")"
A=$(auditor auditor)
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --request "$id" --type signature --json > "$T/entries"
[ "$(wc -l < "$T/entries")" -eq 2 ] || fail "the log holds $(wc -l < "$T/entries") signatures of the request, not 2"

rm -rf "$T/out"/*
apply_build --request "$id" --out "$T/sigs.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
	${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/build.sh" || fail "apply and replay"
"$ROMBSR" avb verify --image "$T/out/vbmeta.img" --key "$T/root.pub" > "$T/verify.txt" ||
	fail "the replayed chain does not verify: $(cat "$T/verify.txt")"
grep -q "partition system: sha256 hash tree" "$T/verify.txt" || fail "verify: $(cat "$T/verify.txt")"
for f in vbmeta.img vbmeta_system.img boot.img system.img; do sha256sum < "$T/out/$f"; done > "$T/first"
apply_build --request "$id" --out "$T/sigs2.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
	${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/build.sh" || fail "a second replay"
for f in vbmeta.img vbmeta_system.img boot.img system.img; do sha256sum < "$T/out/$f"; done | cmp -s - "$T/first" ||
	fail "a second replay made other bytes"
echo "ok: signed by the sign node, logged, replayed; the chain verifies and replays identically"

# Replay of a build that asks for a vbmeta that was never signed (another
# rollback index): the module has no signature for it and the tool fails.
sed -i 's/avb_root)" --rollback-index 2/avb_root)" --rollback-index 3/' "$T/build.sh"
grep -q 'avb_root)" --rollback-index 3' "$T/build.sh" || fail "the build script was not changed"
capture_config "$T/replay.conf" replay "$T/sigs.json"
out=$(capture_run "$T/replay.conf" bash "$T/build.sh" 2>&1) && fail "a vbmeta never signed was replayed"
case "$out" in *"C_Sign"*) ;; *) fail "replay of an unsigned vbmeta said: $out" ;; esac
echo "ok: refused in replay: $(printf '%s\n' "$out" | grep C_Sign | tail -1)"

# What the sign node understood is in the log beside the signatures.
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --request "$id" --type understood > "$T/understood.txt"
[ "$(wc -l < "$T/understood.txt")" -eq 2 ] || fail "understood entries: $(cat "$T/understood.txt")"
grep -q 'key_label=avb_root kind=avb-vbmeta digest=[0-9a-f]\{64\} detail="rollback index 2 at location 0; partitions: vbmeta_system (chain) boot (hash)"' \
	"$T/understood.txt" || fail "understood: $(cat "$T/understood.txt")"
grep -q 'key_label=avb_intermediate kind=avb-vbmeta .*detail="rollback index 2 at location 1; partitions: system (hashtree)"' \
	"$T/understood.txt" || fail "understood: $(cat "$T/understood.txt")"
echo "ok: the log says what each vbmeta signed was"
# Binary transparency: the released images lead back to their entries.
"$ROMBSR" --config "$A" audit-find --repo "$T/queue.git" --artifact "$T/out/vbmeta.img" > "$T/found.txt" ||
	fail "audit-find vbmeta.img"
grep -q " signature request_id=$id .*key_label=avb_root" "$T/found.txt" || fail "audit-find: $(cat "$T/found.txt")"
grep -q " understood request_id=$id key_label=avb_root kind=avb-vbmeta" "$T/found.txt" ||
	fail "audit-find: $(cat "$T/found.txt")"
"$ROMBSR" --config "$A" audit-find --repo "$T/queue.git" --artifact "$T/out/vbmeta_system.img" > "$T/found.txt" ||
	fail "audit-find vbmeta_system.img"
grep -q "key_label=avb_intermediate" "$T/found.txt" || fail "audit-find: $(cat "$T/found.txt")"
expect_fail "no entry of the verified audit log" \
	"$ROMBSR" --config "$A" audit-find --repo "$T/queue.git" --artifact "$T/in/boot.img"
echo "ok: audit-find leads from each signed image to its entries"

# Refusals, each a request of its own through the real sign node.
# round CONFIG COMMAND...: captures COMMAND into a new journal, submits it
# and runs one pass; prints the request ID.
round() {
	rm -f "$T/journal.jsonl"
	capture_run "$T/capture.conf" "$@" >/dev/null 2>&1 || fail "capture of $*"
	local rid
	rid=$(submit_journal "$BUILD_CONF")
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/pass.err" || fail "pass: $(cat "$T/pass.err")"
	printf '%s\n' "$rid"
}
rejected() { # ID CODE
	local got
	got=$(response_of "$1" | jq -r '.status + "/" + (.reason.code // "")')
	[ "$got" = "rejected/$2" ] || fail "request $1: $got, expected rejected/$2: $(response_of "$1" | jq -c .reason)"
	echo "ok: $2: $(response_of "$1" | jq -r .reason.message)"
}
cap_key() { printf 'pkcs11:token=rombsr-capture;object=%s?module-path=%s' "$1" "$CAP_MODULE"; }
# A rollback: vbmeta at index 1 after index 2 was signed.
mkdir -p "$T/old" && cp "$T/out/boot.img" "$T/old/"
old=$(round "$ROMBSR" avb make-vbmeta --output "$T/old/vbmeta.img" --key "$(cap_key avb_root)" \
	--rollback-index 1 --include-descriptors-from-image "$T/old/boot.img")
rejected "$old" rollback
# The same index again is no rollback (a rebuild of the same release).
same=$(round "$ROMBSR" avb make-vbmeta --output "$T/old/vbmeta.img" --key "$(cap_key avb_root)" \
	--rollback-index 2 --include-descriptors-from-image "$T/old/boot.img")
[ "$(response_of "$same" | jq -r .status)" = signed ] || fail "index 2 again: $(response_of "$same" | jq -c .reason)"
# vbmeta_system's bytes (avb_intermediate's key inside) signed by avb_root.
python3 - "$T/out/vbmeta_system.img" "$T/forged.tbs" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
auth, aux = struct.unpack('>QQ', d[12:28])
open(sys.argv[2], 'wb').write(d[:256] + d[256 + auth:256 + auth + aux])
PY
forged=$(round pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m SHA256-RSA-PKCS \
	--id "$(bundle_id avb_root)" -i "$T/forged.tbs" -o "$T/forged.sig")
rejected "$forged" vbmeta-key
# A vbmeta asked of a release APK key, made consistently with it.
apk=$(round "$ROMBSR" avb make-vbmeta --output "$T/old/apk.img" --key "$(cap_key platform)" --rollback-index 5)
rejected "$apk" policy-data
# A blind digest asked of avb_root.
printf 'not a vbmeta\n' > "$T/blind"
blind=$(round pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m SHA256-RSA-PKCS \
	--id "$(bundle_id avb_root)" -i "$T/blind" -o "$T/blind.sig")
rejected "$blind" policy-data
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify after the refusals"
echo "avb flow ok"
