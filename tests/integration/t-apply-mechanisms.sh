# rombsr apply checks a signature of every kind the capture module records
# (docs/capture.md, "Mechanisms"): PKCS#1 v1.5 with the module's hash and
# over a raw DigestInfo, PSS with the module's hash and over a raw digest,
# a raw X.509 block, ECDSA with the module's hash and over a raw digest.
# pkcs11-tool captures them, the sign node's stand-in signs them in the
# HSM, apply verifies and replays them (openssl verifies the results), and
# for each one a set with that signature altered is refused by name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_apply_queue
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

# One script for capture and replay alike: apply runs it after --.
cat > "$T/sign-all.sh" <<SH
set -e
s=\$1
p11() { pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign "\$@" 2>/dev/null; }
rsa=$(bundle_id platform)
ec=$(bundle_id manifest)
p11 -m SHA256-RSA-PKCS --id "\$rsa" -i "$T/data" -o "$T/rsa.\$s"
p11 -m SHA384-RSA-PKCS --id "\$rsa" -i "$T/data" -o "$T/rsa384.\$s"
p11 -m RSA-PKCS --id "\$rsa" -i "$T/digestinfo" -o "$T/raw.\$s"
p11 -m SHA256-RSA-PKCS-PSS --id "\$rsa" -i "$T/data" -o "$T/pss.\$s"
p11 -m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 --salt-len 32 --id "\$rsa" -i "$T/digest" -o "$T/pssraw.\$s"
p11 -m RSA-X-509 --id "\$rsa" -i "$T/block" -o "$T/x509.\$s"
p11 -m ECDSA-SHA256 --id "\$ec" -i "$T/data" -o "$T/ec.\$s"
p11 -m ECDSA --id "\$ec" -i "$T/digest" -o "$T/ecraw.\$s"
SH
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" bash "$T/sign-all.sh" ph || fail "capture with pkcs11-tool"
[ "$(journal_lines)" -eq 8 ] || fail "expected 8 captured operations, got $(journal_lines)"

id=$(submit_journal "$BUILD_CONF")
jq -r '.operations[].mechanism' <(git -C "$T/queue.git" show "main:$(req_path "$id")") | sort > "$T/mechs"
[ "$(sort -u "$T/mechs" | wc -l)" -eq 8 ] || fail "the request does not hold 8 mechanisms: $(cat "$T/mechs")"
respond_and_push "$T/sign-clone" "$id"
apply_build --request "$id" --out "$T/sigs.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
	${CAP_ENV[@]+"${CAP_ENV[@]}"} bash "$T/sign-all.sh" sig || fail "apply and replay"

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
