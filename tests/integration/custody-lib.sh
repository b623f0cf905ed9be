# Sourced by the t-custody-* tests (docs/custody.md): fresh tokens, age
# custodians, and a wrap key split among them.

# A provisioned state without keys ($T/state), its config and SOFTHSM2_CONF.
custody_provision() {
	new_config "$T/state"
	"$ROMBSR_SIGN" hsm-provision >/dev/null 2>&1 || fail "hsm-provision failed"
	export SOFTHSM2_CONF="$T/state/softhsm2.conf"
}

# custody_ids N: age identities $T/id1..N; RECIPIENTS holds --recipient
# arguments for them.
custody_ids() {
	RECIPIENTS=()
	for i in $(seq "$1"); do
		age-keygen -o "$T/id$i" 2>/dev/null
		RECIPIENTS+=(--recipient "$(age-keygen -y "$T/id$i")")
	done
}

# The number of objects of a type (privkey, secrkey, cert) in the release
# token, as pkcs11-tool lists them.
release_objects() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login \
		--pin "$(cat "$T/state/pins/release.pin")" --list-objects --type "$1" 2>/dev/null | grep -c '^[A-Z]' || true
}

# capacity_sign_script LABELS OUT: a build script (bash OUT SUFFIX) that
# signs $T/data once with each key of LABELS through pkcs11-tool, in that
# order, key L's signature going to $T/<L with / as +>.SUFFIX (the
# */attestation keys are EC, ECDSA; the others RSA PKCS#1 v1.5).
capacity_sign_script() {
	local l
	{
		echo 'set -e'
		echo "p11() { pkcs11-tool --module '$CAP_MODULE' --login --pin x --sign \"\$@\" 2>/dev/null; }"
		for l in $1; do
			case "$l" in
			*/attestation) echo "p11 -m ECDSA-SHA256 --id $(bundle_id "$l") -i '$T/data' -o '$T/${l//\//+}.'\$1" ;;
			*) echo "p11 -m SHA256-RSA-PKCS --id $(bundle_id "$l") -i '$T/data' -o '$T/${l//\//+}.'\$1" ;;
			esac
		done
	} > "$2"
}

# capacity_verify LABELS: each key's $T/<file>.sig verifies over $T/data
# with the certificate the bundle ($T/bundle) holds for it.
capacity_verify() {
	local l f
	for l in $1; do
		f=${l//\//+}
		openssl x509 -in "$T/bundle/certs/$f.pem" -pubkey -noout > "$T/$f.pub"
		case "$l" in
		*/attestation) python3 - "$T/$f.sig" "$T/$f.der" <<'PY' || fail "$l: raw ECDSA to DER"
import sys
raw = open(sys.argv[1], 'rb').read(); n = len(raw) // 2
def i(b):
    b = b.lstrip(b'\0') or b'\0'
    if b[0] & 0x80: b = b'\0' + b
    return b'\x02' + bytes([len(b)]) + b
body = i(raw[:n]) + i(raw[n:])
open(sys.argv[2], 'wb').write(b'\x30' + bytes([len(body)]) + body)
PY
			openssl dgst -sha256 -verify "$T/$f.pub" -signature "$T/$f.der" "$T/data" >/dev/null ;;
		*) openssl dgst -sha256 -verify "$T/$f.pub" -signature "$T/$f.sig" "$T/data" >/dev/null ;;
		esac || fail "$l: the applied signature does not verify with its certificate"
	done
}

# capacity_request PAYLOAD: a request of one signature of $T/data (holding
# PAYLOAD) with each release key of $T/keyset.json, captured by the build
# script $T/sign.sh (capacity_sign_script); prints its ID.
capacity_labels() { jq -r '.keys[] | select(.authority == "release") | .label' "$T/keyset.json"; }
capacity_request() {
	printf '%s\n' "$1" > "$T/data"
	capacity_sign_script "$(capacity_labels)" "$T/sign.sh"
	capture_config "$T/capture.conf" capture
	rm -f "$T/journal.jsonl"
	capture_run "$T/capture.conf" bash "$T/sign.sh" ph || fail "capture over the release keys"
	submit_journal userdebug
}

# capacity_apply ID: the request's response applied by the build script,
# and each signature verified with its key's certificate (capacity_verify).
capacity_apply() {
	"$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" --request "$1" --out "$T/sigs.json" -- \
		env SOFTHSM2_CONF="$T/no-token.conf" ${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign.sh" sig >/dev/null \
		2>"$T/apply.err" || fail "apply: $(cat "$T/apply.err")"
	capacity_verify "$(capacity_labels)"
}

# capacity_restore TOKEN COUNT: after a fresh token is made, with the
# keys listed before in $T/keys-before.txt: the wrap key from two shares, a
# restore refused while the store holds the keys (nothing left in the
# token), then the backup $T/backup restored: RESIDENT keys into token TOKEN
# (the command COUNT prints how many release keys it holds) and
# STORED_ONLY into the store, file for file as they were, the same keys.
capacity_restore() {
	local token=$1 count=$2 f
	"$ROMBSR_SIGN" wrap-key restore --share "$T/shares/share-1.age" --share "$T/shares/share-2.age" \
		--identity "$T/id1" --identity "$T/id2" >/dev/null 2>&1 || fail "wrap-key restore"
	expect_fail "the wrapped store already holds key" "$ROMBSR_SIGN" backup restore --from "$T/backup"
	[ "$($count)" -eq 0 ] || fail "a refused restore left keys in the token"
	mv "$T/state/wrapped/release" "$T/old-store"
	"$ROMBSR_SIGN" backup restore --from "$T/backup" 2>"$T/restore.log" || fail "restore: $(cat "$T/restore.log")"
	grep -q "^$RESIDENT keys restored into token '$token'" "$T/restore.log" || fail "restore: $(cat "$T/restore.log")"
	grep -q "^$STORED_ONLY keys restored into the wrapped store" "$T/restore.log" || fail "restore: $(cat "$T/restore.log")"
	[ "$($count)" -eq "$RESIDENT" ] || fail "the restored token holds $($count) keys"
	"$ROMBSR_SIGN" keys --authority release | sort > "$T/keys-after.txt"
	diff "$T/keys-before.txt" "$T/keys-after.txt" || fail "the restored keys differ"
	[ "$(find "$T/state/wrapped/release" -name '*.json' | wc -l)" -eq "$STORED_ONLY" ] || fail "not $STORED_ONLY store files"
	for f in "$T"/state/wrapped/release/*.json; do
		cmp -s "$f" "$T/old-store/${f##*/}" || fail "restored store file ${f##*/} differs from the original"
	done
}

# capacity_pass ID OUT UNWRAPS EVICTIONS: one sign --once pass of the
# sign node ($SIGN_CONF) that signs request ID over the $KEYS release keys
# with UNWRAPS keys unwrapped from the store and EVICTIONS evicted (its
# output in OUT), then the response applied and verified (capacity_apply).
capacity_pass() {
	local id=$1 out=$2
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$out" 2>"$out.err" || fail "sign --once: $(cat "$out.err")"
	grep -q "^sign: 1 responses published (1 signed, 0 rejected), $KEYS operations, $KEYS HSM operations" "$out" ||
		fail "pass: $(cat "$out") $(cat "$out.err")"
	grep -q "^sign: $3 keys unwrapped from the wrapped store, $4 evicted" "$out" || fail "unwraps: $(cat "$out")"
	capacity_apply "$id"
}
