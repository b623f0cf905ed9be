# A planned key rotation (rombsr-sign hsm-rotate-keys, docs/incident-response.md
# "Rotating a key"), with real parts only: an app signed with media's old
# key through the capture module and the sign node; media rotated in
# SoftHSM2 (the old key kept as media@<hex>, which Java's SunPKCS11 lists
# on the token as that alias with its certificate); export-public publishes both;
# unmodified `apksigner rotate` makes the signing-certificate lineage
# through the capture module, the real sign node signs its node with the
# retired key, apply replays it; apksigner signs the update (v3, new key,
# --lineage) in the same way; `apksigner verify --print-certs` shows the
# new certificate as its v3 signer, `apksigner lineage --print-certs` (from
# the lineage file and from the APK) the old one, then the new one.
# Refusals: a key the set lacks, the audit key, a URI of another token or
# with a PIN, a key without certificate, a second rotation, a key missing
# from its token, and an HSM failure midway (undone): nothing changed in
# the token each time; at the sign node a
# retired key asked for anything but its lineage node, or asked for under
# its old label by a build with the old bundle (retired-key), a
# lineage node by a current key (lineage-signer), naming another key
# (lineage-successor) or another algorithm than it is signed with
# (lineage-algorithm).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

with_bundle
with_queue
sign_config
capture_sunpkcs11_config "$T/cap.cfg"
P11=(--ks NONE --ks-type PKCS11 --ks-pass pass:any)
PROVIDER=(--provider-class sun.security.pkcs11.SunPKCS11 --provider-arg "$T/cap.cfg" --provider-pos 1)

# through BUNDLE ROUND SIGSET OUT-APK-OR-FILE apksigner-args...: one
# capture run with BUNDLE (signatures of SIGSET answered), its request
# signed by the sign node, applied; sets ID and writes $T/sigs-ROUND.json.
through() {
	local bundle=$1 round=$2 sigs=$3; shift 3
	rm -f "$T/journal.jsonl"
	capture_config "$T/capture.conf" capture "$sigs"
	sed -i "s|^bundle = .*|bundle = $bundle|" "$T/capture.conf"
	capture_run "$T/capture.conf" apksigner_p11 "$@" >"$T/apksigner.out" 2>&1 ||
		fail "apksigner $1 against the capture module: $(grep -v '^\s*at ' "$T/apksigner.out" | head -3)"
	ID=$(submit_journal user)
	sign_once
	[ "$(response_of "$ID" | jq -r .status)" = signed ] || fail "round $round: $(response_of "$ID" | jq -c .reason)"
	"$ROMBSR" --config "$BUILD_CONF" apply --bundle "$bundle" --request "$ID" ${sigs:+--merge "$sigs"} \
		--out "$T/sigs-$round.json" --replay-config "$T/replay.conf" >/dev/null || fail "apply of round $round"
}

# The app as released before the rotation: media's old key, v2 + v3.
"$TOP/scripts/make-sample-apk.sh" org.rombsr.rotate "$T/app.apk" 28
OLD_SIGN=(sign "${PROVIDER[@]}" "${P11[@]}" --ks-key-alias media --v1-signing-enabled false
	--v4-signing-enabled false --out "$T/old.apk" "$T/app.apk")
through "$T/bundle" old "" "${OLD_SIGN[@]}"
capture_run "$T/replay.conf" apksigner_p11 "${OLD_SIGN[@]}" >/dev/null 2>&1 || fail "replay of the old APK"
OLD_CERT=$(jq -r '.keys[] | select(.label == "media") | .certificate_sha256' "$T/bundle/manifest.json")
OLD_FPR=$(jq -r '.keys[] | select(.label == "media") | .spki_sha256' "$T/bundle/manifest.json")
apksigner verify --print-certs "$T/old.apk" | grep -q "certificate SHA-256 digest: $OLD_CERT" ||
	fail "the old APK is not signed with media's old certificate"
echo "ok: the app as released, signed by media's old key"

# Refusals, nothing changed in the token.
"$ROMBSR_SIGN" keys > "$T/keys-before.txt"
expect_fail "the key set has no key 'nosuch'" "$ROMBSR_SIGN" hsm-rotate-keys --key nosuch
expect_fail "key 'audit' signs the audit log's checkpoints" "$ROMBSR_SIGN" hsm-rotate-keys --key audit
expect_fail "not the release authority's token" \
	"$ROMBSR_SIGN" hsm-rotate-keys --key 'pkcs11:token=rombsr-manifest;object=media'
expect_fail "a URI carrying a PIN is refused" "$ROMBSR_SIGN" hsm-rotate-keys --key 'pkcs11:object=media;pin-value=1'
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$(cat "$RELEASE_PIN")" \
	--delete-object --type cert --label networkstack >/dev/null 2>&1 || fail "deleting networkstack's certificate"
"$ROMBSR_SIGN" keys > "$T/keys-before.txt"
expect_fail "key 'networkstack' has no certificate in token 'rombsr-release'" \
	"$ROMBSR_SIGN" hsm-rotate-keys --key networkstack
"$ROMBSR_SIGN" keys | cmp -s - "$T/keys-before.txt" || fail "a refused rotation changed the token"
# The HSM fails once the old key is relabelled (tests/p11-fault in front of
# SoftHSM2): while generating the new key, or while the token signs its
# certificate. The old key gets its label back, the new one's parts go.
cp "$ROMBSR_CONFIG" "$T/fault-rombsr.conf"
printf '[authority "release"]\n\tmodule = %s\n' "$ROMBSR_BUILD/tests/librombsr-p11-fault.so" >> "$T/fault-rombsr.conf"
for rule in 'fail C_GenerateKeyPair CKR_DEVICE_MEMORY times=0' 'fail C_Sign CKR_DEVICE_MEMORY times=0'; do
	printf 'module %s\n%s\n' "$SOFTHSM_MODULE" "$rule" > "$T/fault.conf"
	! ROMBSR_P11_FAULT_CONFIG="$T/fault.conf" "$ROMBSR_SIGN" --config "$T/fault-rombsr.conf" \
		hsm-rotate-keys --key media >/dev/null 2>"$T/fault.err" || fail "rotation succeeded under '$rule'"
	tail -n 1 "$T/fault.err" | grep -q "^rombsr-sign hsm-rotate-keys: media: nothing rotated: .*CKR_DEVICE_MEMORY" ||
		fail "under '$rule': $(cat "$T/fault.err")"
	"$ROMBSR_SIGN" keys | cmp -s - "$T/keys-before.txt" || fail "a failed rotation changed the token: $(cat "$T/fault.err")"
	echo "ok: undone: $(tail -n 1 "$T/fault.err")"
done

# The rotation: media by its PKCS#11 URI.
"$ROMBSR_SIGN" hsm-rotate-keys --key 'pkcs11:token=rombsr-release;object=media' > "$T/rotate.txt" 2>"$T/rotate.err" ||
	fail "hsm-rotate-keys: $(cat "$T/rotate.err")"
RETIRED="media@${OLD_FPR:0:16}"
grep -q "^rotated media in token 'rombsr-release': new key [0-9a-f]\{64\}; the old key $OLD_FPR is kept as '$RETIRED'" \
	"$T/rotate.txt" || fail "rotate said: $(cat "$T/rotate.txt")"
"$ROMBSR_SIGN" keys > "$T/keys-after.txt"
grep -q "^$RETIRED  *release   rsa-4096  $OLD_FPR " "$T/keys-after.txt" || fail "keys: $(cat "$T/keys-after.txt")"
NEW_FPR=$(awk '$1 == "media" {print $4}' "$T/keys-after.txt")
[ -n "$NEW_FPR" ] && [ "$NEW_FPR" != "$OLD_FPR" ] || fail "media has no new key: $(cat "$T/keys-after.txt")"
echo "ok: media rotated: new key ${NEW_FPR:0:16}..., the old one kept as $RETIRED"
# Java's SunPKCS11 on the token itself: the alias is the CKA_LABEL, and the
# relabelled key is still paired with its certificate (same CKA_ID).
sunpkcs11_config rombsr-release "$T/token.cfg"
keytool -list -keystore NONE -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11 \
	-providerArg "$T/token.cfg" -storepass "$(cat "$RELEASE_PIN")" > "$T/keytool.txt" 2>&1 || fail "keytool: $(cat "$T/keytool.txt")"
colons=$(echo "$OLD_CERT" | tr a-f A-F | sed 's/../&:/g; s/:$//')
grep -A1 "^$RETIRED, PrivateKeyEntry," "$T/keytool.txt" | grep -q "(SHA-256): $colons" ||
	fail "SunPKCS11 does not show $RETIRED with the old certificate: $(cat "$T/keytool.txt")"
echo "ok: SunPKCS11 on SoftHSM2 lists $RETIRED as a private key entry with the old certificate"
expect_fail "key 'media' was rotated already: its predecessor '$RETIRED' is still in token 'rombsr-release'" \
	"$ROMBSR_SIGN" hsm-rotate-keys --key media
"$ROMBSR_SIGN" keys | cmp -s - "$T/keys-after.txt" || fail "a second rotation changed the token"

# The new bundle holds both (networkstack gets its certificate back
# first: export-public publishes whole key sets only); the capture module
# and SunPKCS11 see the retired key under its label.
"$ROMBSR_SIGN" keygen --key networkstack 2>&1 | grep -q "^networkstack: certificate made" ||
	fail "keygen did not give networkstack its certificate back"
"$ROMBSR_SIGN" export-public --out "$T/bundle2" >/dev/null 2>&1 || fail "export-public after the rotation"
[ "$(jq -r --arg l "$RETIRED" '.keys[] | select(.label == $l) | .spki_sha256' "$T/bundle2/manifest.json")" = "$OLD_FPR" ] ||
	fail "the bundle lacks the retired key"
[ "$(jq -r '.keys[] | select(.label == "media") | .spki_sha256' "$T/bundle2/manifest.json")" = "$NEW_FPR" ] ||
	fail "the bundle's media is not the new key"
[ "$(jq -r --arg l "$RETIRED" '.keys[] | select(.label == $l) | .certificate_sha256' "$T/bundle2/manifest.json")" = "$OLD_CERT" ] ||
	fail "the retired key's certificate changed"
NEW_CERT=$(jq -r '.keys[] | select(.label == "media") | .certificate_sha256' "$T/bundle2/manifest.json")
echo "ok: export-public publishes media (new) and $RETIRED"

# apksigner rotate through the capture module; the sign node signs the
# lineage node with the retired key; apply replays it.
ROTATE=(rotate "${PROVIDER[@]}" --out "$T/lineage.bin" --old-signer "${P11[@]}" --ks-key-alias "$RETIRED"
	--new-signer "${P11[@]}" --ks-key-alias media)
through "$T/bundle2" lineage "" "${ROTATE[@]}"
[ "$(jq -r 'select(.data != null) | .label' "$T/journal.jsonl")" = "$RETIRED" ] ||
	fail "the journal does not carry the lineage node: $(jq -c '{l: .label, d: (.data != null)}' "$T/journal.jsonl")"
cp "$T/journal.jsonl" "$T/lineage.jsonl"
LINEAGE_ID=$ID
rm -f "$T/lineage.bin"
capture_run "$T/replay.conf" apksigner_p11 "${ROTATE[@]}" >/dev/null 2>&1 || fail "replay of apksigner rotate"
apksigner lineage --in "$T/lineage.bin" --print-certs > "$T/lineage.txt" || fail "apksigner lineage"
grep -q "Signer #1 in lineage certificate SHA-256 digest: $OLD_CERT" "$T/lineage.txt" &&
	grep -q "Signer #2 in lineage certificate SHA-256 digest: $NEW_CERT" "$T/lineage.txt" ||
	fail "the lineage does not go from the old to the new certificate: $(cat "$T/lineage.txt")"
A=$(auditor auditor)
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --request "$LINEAGE_ID" --type understood > "$T/understood.txt" 2>/dev/null
grep -q "key_label=$RETIRED kind=apk-lineage-node digest=[0-9a-f]* content_digest=$NEW_CERT detail=\"APK signing-certificate lineage node: rotates to the certificate of key ${NEW_FPR:0:16}..., signed with RSA-PKCS1-SHA" \
	"$T/understood.txt" || fail "the lineage node is not logged as understood: $(cat "$T/understood.txt")"
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --type key-generated > "$T/generated.txt" 2>/dev/null
grep -q "key-generated key_label=media key_fingerprint=$NEW_FPR " "$T/generated.txt" || fail "the new key is not logged: $(cat "$T/generated.txt")"
! "$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --type key-revoked 2>/dev/null | grep -q "$OLD_FPR" ||
	fail "the retired key was logged as revoked"
echo "ok: lineage $OLD_CERT -> $NEW_CERT signed by the sign node with $RETIRED"

# The update: the new key, APK Signature Scheme v3 with the lineage.
NEW_SIGN=(sign "${PROVIDER[@]}" "${P11[@]}" --ks-key-alias media --lineage "$T/lineage.bin"
	--v1-signing-enabled false --v2-signing-enabled false --v4-signing-enabled false --out "$T/new.apk" "$T/app.apk")
through "$T/bundle2" update "" "${NEW_SIGN[@]}"
[ "$(jq -r .label "$T/journal.jsonl" | sort -u)" = media ] || fail "the update asked for another key than media"
rm -f "$T/new.apk"
capture_run "$T/replay.conf" apksigner_p11 "${NEW_SIGN[@]}" >/dev/null 2>&1 || fail "replay of the update"
apksigner verify -v --print-certs "$T/new.apk" > "$T/verify.txt" || fail "apksigner verify: $(cat "$T/verify.txt")"
grep -q "Verified using v3 scheme (APK Signature Scheme v3): true" "$T/verify.txt" || fail "no v3: $(cat "$T/verify.txt")"
grep -q "certificate SHA-256 digest: $NEW_CERT" "$T/verify.txt" || fail "the update's signer is not the new key"
grep -q "Number of signers: 1" "$T/verify.txt" || fail "the update has more than the new signer: $(cat "$T/verify.txt")"
# Debian's apksigner (0.9) prints the v3 signer only; the lineage inside
# the APK is printed by its lineage command, which reads it from the APK.
apksigner lineage --in "$T/new.apk" --print-certs > "$T/apk-lineage.txt" || fail "apksigner lineage of the APK"
grep -q "Signer #1 in lineage certificate SHA-256 digest: $OLD_CERT" "$T/apk-lineage.txt" &&
	grep -q "Signer #2 in lineage certificate SHA-256 digest: $NEW_CERT" "$T/apk-lineage.txt" ||
	fail "the APK's lineage is not old -> new: $(cat "$T/apk-lineage.txt")"
# The old certificate lets the app's data pass to the new one: what lets
# the update install over the app signed with the old key.
[ "$(grep -m1 'Has installed data capability' "$T/apk-lineage.txt")" = "Has installed data capability: true" ] ||
	fail "the old certificate lacks the installed-data capability: $(cat "$T/apk-lineage.txt")"
cat "$T/verify.txt" "$T/apk-lineage.txt" | grep 'certificate SHA-256 digest' | sed 's/^/    /'
echo "ok: the update verifies (v3) with the new key and carries the lineage from the old certificate"

# The sign node: a retired key signs its lineage node and nothing else.
refused() { # JOURNAL CODE
	cp "$1" "$T/journal.jsonl"
	local id
	id=$(submit_journal user)
	sign_once
	got=$(response_of "$id" | jq -r '.status + "/" + .reason.code')
	[ "$got" = "rejected/$2" ] || fail "expected $2: $got: $(response_of "$id" | jq -c .reason)"
	echo "ok: $2: $(response_of "$id" | jq -r .reason.message)"
}
journal_for "$RETIRED" "$T/plain.jsonl" "$T/bundle2"
refused "$T/plain.jsonl" retired-key
# A build still capturing with the bundle from before the rotation.
journal_for media "$T/stale.jsonl" "$T/bundle"
refused "$T/stale.jsonl" retired-key
# A lineage node signed by a current key, and one naming another key's
# certificate signed by the retired key (pkcs11-tool through the module).
node_of() { # CERT.pem OUT [ALGORITHM-ID]
	python3 - "$1" "$2" "${3:-0x0103}" <<'PY'
import ssl, struct, sys
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())
open(sys.argv[2], 'wb').write(struct.pack('<I', len(der)) + der + struct.pack('<I', int(sys.argv[3], 16)))
PY
}
node_journal() { # LABEL DATA OUT
	local id
	id=$(jq -r --arg l "$1" '.keys[] | select(.label == $l) | .pkcs11_id' "$T/bundle2/manifest.json")
	capture_config "$T/node.conf" capture
	sed -i "s|^bundle = .*|bundle = $T/bundle2|" "$T/node.conf"
	rm -f "$T/journal.jsonl"
	capture_run "$T/node.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m SHA256-RSA-PKCS \
		--id "$id" -i "$2" -o "$T/ph" >/dev/null 2>&1 || fail "pkcs11-tool capture with $1"
	[ "$(jq -r 'select(.data != null) | .label' "$T/journal.jsonl")" = "$1" ] || fail "the node was not carried"
	mv "$T/journal.jsonl" "$3"
}
node_of "$T/bundle2/certs/media.pem" "$T/node-media"
node_journal platform "$T/node-media" "$T/by-platform.jsonl"
refused "$T/by-platform.jsonl" lineage-signer
node_of "$T/bundle2/certs/platform.pem" "$T/node-platform"
node_journal "$RETIRED" "$T/node-platform" "$T/to-platform.jsonl"
refused "$T/to-platform.jsonl" lineage-successor
# The right successor, but the node says RSA-PKCS1-SHA512 and SHA-256 signs it.
node_of "$T/bundle2/certs/media.pem" "$T/node-sha512" 0x0104
node_journal "$RETIRED" "$T/node-sha512" "$T/wrong-alg.jsonl"
refused "$T/wrong-alg.jsonl" lineage-algorithm
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"
# Last, as it leaves the key set incomplete: a key missing from its token.
for type in privkey pubkey cert; do
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$(cat "$RELEASE_PIN")" \
		--delete-object --type "$type" --label bluetooth >/dev/null 2>&1 || fail "deleting bluetooth's $type"
done
"$ROMBSR_SIGN" keys > "$T/keys-before.txt"
expect_fail "no key 'bluetooth' in token 'rombsr-release': nothing to rotate" "$ROMBSR_SIGN" hsm-rotate-keys --key bluetooth
"$ROMBSR_SIGN" keys | cmp -s - "$T/keys-before.txt" || fail "a refused rotation changed the token"
echo "key rotate ok"
