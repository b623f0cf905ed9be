# rombsr-avb-signing-helper, driven the way AOSP's avbtool drives a
# --signing_helper (ALGORITHM KEY_PATH, the PKCS#1 v1.5 block on stdin, the
# signature on stdout) and a --signing_helper_with_files (the block in a
# file the helper overwrites). avbtool itself is not a Debian package, so
# this script plays its part, byte for byte as its documentation says:
# first against SoftHSM2, then on a build node through the capture module,
# the real sign node and replay, and last the refusals (a block never
# signed in replay, a private key file, a block that is not PKCS#1 v1.5).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_bundle
# avbtool hands the helper a padded hash, never the vbmeta: the starter
# policy's `data` rule for the AVB keys refuses that (policy-data), so a
# team on avbtool drops it, as here (docs/avb.md).
printf '{"defaults": {}, "format": "rombsr.policy", "serial": 1, "version": 1}\n' > "$T/policy.json"
QUEUE_POLICY="$T/policy.json"
with_queue
sign_config
HELPER="$ROMBSR_BUILD/rombsr-avb-signing-helper"
cp "$T/bundle/certs/avb_root.pem" "$T/avb_root.pem"
openssl x509 -in "$T/avb_root.pem" -pubkey -noout > "$T/avb_root.pub"

# block DATA OUT: what avbtool hands the helper for SHA256_RSA4096.
block() {
	python3 - "$1" "$2" <<'PY'
import hashlib, sys
d = hashlib.sha256(open(sys.argv[1], 'rb').read()).digest()
info = bytes.fromhex('3031300d060960864801650304020105000420') + d
open(sys.argv[2], 'wb').write(b'\x00\x01' + b'\xff' * (512 - 3 - len(info)) + b'\x00' + info)
PY
}
printf 'vbmeta header and auxiliary block one\n' > "$T/data1"
printf 'vbmeta header and auxiliary block two\n' > "$T/data2"
block "$T/data1" "$T/block1"
block "$T/data2" "$T/block2"

# On a token directly.
ROMBSR_AVB_HELPER_URI="pkcs11:token=rombsr-release?module-path=$SOFTHSM_MODULE&pin-source=file:$RELEASE_PIN" \
	"$HELPER" SHA256_RSA4096 "$T/avb_root.pub" < "$T/block1" > "$T/direct.sig" || fail "the helper on SoftHSM2"
openssl dgst -sha256 -verify "$T/avb_root.pub" -signature "$T/direct.sig" "$T/data1" >/dev/null ||
	fail "openssl does not verify the helper's signature"
echo "ok: the helper signs on SoftHSM2 with the key that has the public key avbtool was given"

# The build's part, the same for capture and replay: one call in each mode.
cat > "$T/avb-build.sh" <<SH
set -e
export ROMBSR_AVB_HELPER_URI="pkcs11:token=rombsr-capture?module-path=$CAP_MODULE"
"$HELPER" SHA256_RSA4096 "$T/avb_root.pem" < "$T/block1" > "$T/out1.sig"
cp "$T/block2" "$T/out2.sig"
"$HELPER" SHA256_RSA4096 "$T/avb_root.pem" "$T/out2.sig"
SH
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" bash "$T/avb-build.sh" || fail "the helper against the capture module"
[ "$(journal_lines)" -eq 2 ] || fail "expected 2 captured blocks, got $(journal_lines)"
[ "$(jq -r .mechanism "$T/journal.jsonl" | sort -u)" = CKM_RSA_X_509 ] || fail "not captured as CKM_RSA_X_509"
[ "$(stat -c %s "$T/out2.sig")" -eq 512 ] || fail "the file was not replaced by a 512-byte placeholder"
id=$(submit_journal "$BUILD_CONF")
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
grep -q '1 signed' "$T/pass.txt" || fail "pass: $(cat "$T/pass.txt")"
apply_build --request "$id" --out "$T/sigs.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
	${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/avb-build.sh" || fail "apply and replay"
openssl dgst -sha256 -verify "$T/avb_root.pub" -signature "$T/out1.sig" "$T/data1" >/dev/null || fail "stdin mode"
openssl dgst -sha256 -verify "$T/avb_root.pub" -signature "$T/out2.sig" "$T/data2" >/dev/null || fail "file mode"
echo "ok: both protocols captured, signed by the sign node and replayed"

# Refusals.
capture_config "$T/replay.conf" replay "$T/sigs.json"
printf 'a block nobody signed\n' > "$T/data3"
block "$T/data3" "$T/block3"
helper_replay() {
	capture_run "$T/replay.conf" env ROMBSR_AVB_HELPER_URI="pkcs11:token=rombsr-capture?module-path=$CAP_MODULE" \
		"$HELPER" "$@"
}
# The module says which operation it has no signature for, the helper why.
out=$(helper_replay SHA256_RSA4096 "$T/avb_root.pem" "$T/block3" 2>&1) && fail "a block never signed was replayed"
grep -q "^rombsr-avb-signing-helper: this block was never signed" <<<"$out" || fail "replay of a new block: $out"
grep -q "replay: no signature for key 'avb_root'" <<<"$out" || fail "replay of a new block: $out"
echo "ok: refused in replay: a block never signed"
cmp -s "$T/block3" <(block "$T/data3" /dev/stdout) || fail "a refused block file was changed"
openssl genrsa -out "$T/private.pem" 2048 2>/dev/null
expect_fail "holds a private key" helper_replay SHA256_RSA4096 "$T/private.pem" "$T/block1"
head -c 512 /dev/urandom > "$T/junk"
expect_fail "is not a PKCS#1 v1.5 SHA256 block: refused" helper_replay SHA256_RSA4096 "$T/avb_root.pem" "$T/junk"
expect_fail "SHA512_RSA4096 takes a 512-byte block" helper_replay SHA512_RSA4096 "$T/avb_root.pem" "$T/data1"
expect_fail "is not a PKCS#1 v1.5 SHA512 block" helper_replay SHA512_RSA4096 "$T/avb_root.pem" "$T/block1"
expect_fail "ROMBSR_AVB_HELPER_URI is not set" "$HELPER" SHA256_RSA4096 "$T/avb_root.pem" "$T/block1"
expect_fail "usage" "$HELPER" SHA256_RSA4096
echo "avb helper ok"
