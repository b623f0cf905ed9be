# Every mechanism of the request table (docs/formats/request.md) through
# the real sign node: PKCS#1 v1.5 with the module's hash and over a raw
# DigestInfo, PSS with the module's hash and over a raw digest, a raw X.509
# block (a 512-byte PKCS#1 v1.5 block of an RSA-4096 key), ECDSA with the
# module's hash and over a raw digest. pkcs11-tool captures them,
# `rombsr sign --once` signs them in the HSM, logs and publishes them, the
# audit log verifies and holds every signature, apply verifies and replays
# them (openssl verifies the results), and for each one a set with that
# signature altered is refused by name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_bundle
with_queue
sign_config
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/platform.pub"
openssl x509 -in "$T/bundle/certs/manifest.pem" -pubkey -noout > "$T/manifest.pub"

printf 'apply mechanisms payload\n' > "$T/data"
openssl dgst -sha256 -binary "$T/data" > "$T/digest"
python3 - "$T/digest" "$T/digestinfo" "$T/block" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
info = bytes.fromhex('3031300d060960864801650304020105000420') + d
open(sys.argv[2], 'wb').write(info)
open(sys.argv[3], 'wb').write(b'\x00\x01' + b'\xff' * (512 - 3 - len(info)) + b'\x00' + info)
PY

# One script per authority, for capture and replay alike: apply runs it
# after --. The release key set is RSA-4096 (platform), the manifest
# authority's key is EC P-256; one request asks one authority.
cat > "$T/sign-rsa.sh" <<SH
set -e
s=\$1
p11() { pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign "\$@" 2>/dev/null; }
rsa=$(bundle_id platform)
p11 -m SHA256-RSA-PKCS --id "\$rsa" -i "$T/data" -o "$T/rsa.\$s"
p11 -m SHA384-RSA-PKCS --id "\$rsa" -i "$T/data" -o "$T/rsa384.\$s"
p11 -m RSA-PKCS --id "\$rsa" -i "$T/digestinfo" -o "$T/raw.\$s"
p11 -m SHA256-RSA-PKCS-PSS --id "\$rsa" -i "$T/data" -o "$T/pss.\$s"
p11 -m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 --salt-len 32 --id "\$rsa" -i "$T/digest" -o "$T/pssraw.\$s"
p11 -m RSA-X-509 --id "\$rsa" -i "$T/block" -o "$T/x509.\$s"
SH
cat > "$T/sign-ec.sh" <<SH
set -e
s=\$1
p11() { pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign "\$@" 2>/dev/null; }
ec=$(bundle_id manifest)
p11 -m ECDSA-SHA256 --id "\$ec" -i "$T/data" -o "$T/ec.\$s"
p11 -m ECDSA --id "\$ec" -i "$T/digest" -o "$T/ecraw.\$s"
SH
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" bash "$T/sign-rsa.sh" ph || fail "capture RSA with pkcs11-tool"
[ "$(journal_lines)" -eq 6 ] || fail "expected 6 captured RSA operations, got $(journal_lines)"
mv "$T/journal.jsonl" "$T/rsa.jsonl"
capture_run "$T/capture.conf" bash "$T/sign-ec.sh" ph || fail "capture ECDSA with pkcs11-tool"
[ "$(journal_lines)" -eq 2 ] || fail "expected 2 captured ECDSA operations, got $(journal_lines)"
mv "$T/journal.jsonl" "$T/ec.jsonl"

submit_as() { # JOURNAL AUTHORITY
	"$ROMBSR" --config "$BUILD_CONF" submit --journal "$1" --product sample_phone --build-id "MECH.$RANDOM" \
		--source-commit "$(printf '%040d' 5)" --build-type user --authority "$2"
}
id=$(submit_as "$T/rsa.jsonl" release)
id_ec=$(submit_as "$T/ec.jsonl" manifest)
{ req_of() { git -C "$T/queue.git" show "main:$(req_path "$1")"; }
  req_of "$id"; req_of "$id_ec"; } | jq -r '.operations[].mechanism' | sort > "$T/mechs"
[ "$(sort -u "$T/mechs" | wc -l)" -eq 8 ] || fail "the requests do not hold 8 mechanisms: $(cat "$T/mechs")"

"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
grep -q '^sign: 2 responses published (2 signed, 0 rejected), 8 operations, 8 HSM operations' "$T/pass.txt" ||
	fail "pass: $(cat "$T/pass.txt") $(cat "$T/pass.err")"
# Logged and published: the queue's log verifies, and every signature of
# both responses is an entry with the exact bytes the HSM signed.
A=$(auditor auditor)
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" > "$T/av.txt" || fail "audit-verify"
for r in "$id" "$id_ec"; do
	"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --request "$r" --type signature --json > "$T/entries-$r"
	git -C "$T/queue.git" show "main:$(resp_path "$r")" |
		jq -r '.signatures[] | "\(.mechanism) \(.tbs)"' | sort > "$T/want-$r"
	jq -r '"\(.mechanism) \(.digest)"' "$T/entries-$r" | sort > "$T/got-$r"
	cmp -s "$T/want-$r" "$T/got-$r" || fail "request $r: the log's signatures differ from the response's"
done
grep -q "^CKM_RSA_X_509 0001ffff" "$T/got-$id" || fail "the 512-byte raw block is not in the log"
echo "ok: 8 mechanisms signed by the sign node, logged ($(cat "$T/got-$id" "$T/got-$id_ec" | wc -l) signature entries)"

apply_build --request "$id" --out "$T/sigs.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
	${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign-rsa.sh" sig || fail "apply and replay (RSA)"
apply_build --request "$id_ec" --out "$T/sigs-ec.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
	${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign-ec.sh" sig || fail "apply and replay (ECDSA)"
openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/rsa.sig" "$T/data" >/dev/null || fail "SHA256-RSA-PKCS"
openssl dgst -sha384 -verify "$T/platform.pub" -signature "$T/rsa384.sig" "$T/data" >/dev/null || fail "SHA384-RSA-PKCS"
cmp -s "$T/raw.sig" "$T/rsa.sig" || fail "RSA-PKCS over the DigestInfo differs from SHA256-RSA-PKCS"
for f in pss pssraw; do
	openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify "$T/platform.pub" \
		-signature "$T/$f.sig" "$T/data" >/dev/null || fail "$f"
done
cmp -s "$T/x509.sig" "$T/rsa.sig" || fail "RSA-X-509 over the padded block differs from PKCS#1 v1.5"
# ECDSA: raw r||s as PKCS#11 returns it, re-encoded as DER for openssl.
for f in ec ecraw; do
	printf 'asn1 = SEQUENCE:sig\n[sig]\nr = INTEGER:0x%s\ns = INTEGER:0x%s\n' \
		"$(head -c 32 "$T/$f.sig" | od -An -tx1 -v | tr -d ' \n')" \
		"$(tail -c 32 "$T/$f.sig" | od -An -tx1 -v | tr -d ' \n')" > "$T/$f.asn1"
	openssl asn1parse -genconf "$T/$f.asn1" -out "$T/$f.der" -noout
	openssl dgst -sha256 -verify "$T/manifest.pub" -signature "$T/$f.der" "$T/data" >/dev/null || fail "$f"
done
echo "ok: all 8 mechanisms verified by apply, replayed and verified by openssl"

# Each signature altered in turn (an earlier round's set): refused by
# mechanism and key, before anything is fetched.
jq -s '{signatures: (.[0].signatures + .[1].signatures)} + (.[0] | del(.signatures))' "$T/sigs.json" \
	"$T/sigs-ec.json" > "$T/all-sigs.json"
mv "$T/all-sigs.json" "$T/sigs.json"
for i in $(seq 0 7); do
	mech=$(jq -r ".signatures[$i].mechanism" "$T/sigs.json")
	key=$(jq -r ".signatures[$i].label" "$T/sigs.json")
	spki=$(jq -r ".signatures[$i].spki_sha256" "$T/sigs.json")
	python3 - "$T/sigs.json" "$T/bad.json" "$i" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["signatures"][int(sys.argv[3])]["signature"]
d["signatures"][int(sys.argv[3])]["signature"] = s[:40] + ("0" if s[40] != "0" else "1") + s[41:]
json.dump(d, open(sys.argv[2], "w"))
PY
	refused 3 "signatures[$i]: key '$key' (${spki:0:16}...): $mech signature does not verify" "$T/out.json" \
		apply_build --request "$id" --merge "$T/bad.json" --out "$T/out.json"
done
# A signature of the wrong length.
jq '.signatures[0].signature |= .[2:]' "$T/sigs.json" > "$T/bad.json"
refused 3 "signature of 511 bytes, the key makes 512-byte signatures" "$T/out.json" \
	apply_build --request "$id" --merge "$T/bad.json" --out "$T/out.json"
echo "apply mechanisms ok"
