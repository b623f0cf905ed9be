# Release manifests (docs/formats/release-manifest.md):
# (a) made directly on SoftHSM2 with the manifest key, verified by
#     `manifest verify` and independently by openssl over DSSE's PAE;
# (b) through the real flow: captured against the capture module, submitted
#     to the manifest authority, signed by `rombsr-sign sign --once`, applied
#     with a replay of the same command: the same bytes on every replay, the
#     signature in the audit log;
# (c) refusals: a release key (by create, and by the sign node when the
#     request goes to the release authority), missing, duplicate and
#     tampered artifacts, tampered fields, unknown fields, bad options.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

A="$ROMBSR_ARTIFACT"
with_bundle
openssl x509 -in "$T/bundle/certs/manifest.pem" -pubkey -noout > "$T/manifest.pub"
mkdir -p "$T/out" "$T/other"
printf 'boot image\n' > "$T/out/boot.img"
printf 'system image\n' > "$T/out/system.img"
head -c 100000 /dev/urandom > "$T/out/vendor.img"
printf 'another boot image\n' > "$T/other/boot.img"
ARTS=("$T/out/system.img" "$T/out/boot.img" "$T/out/vendor.img")
RELEASE=(--product sample_phone --device sample --version 14.0.1 --rollback 1=7 --rollback 0=3 --time 1790000000)

create_on() { # MODULE KEY_URI PIN_FILE OUT [args]: manifest create with RELEASE's fields
	local module=$1 key=$2 pin=$3 out=$4; shift 4
	"$A" manifest create --key "$key" --module "$module" ${pin:+--pin-file "$pin"} "${RELEASE[@]}" --out "$out" "$@"
}
create_direct() { create_on "$SOFTHSM_MODULE" "pkcs11:token=rombsr-manifest;object=manifest" "$MANIFEST_PIN" "$@"; }
verify() { "$A" manifest verify --bundle "$T/bundle" "$@"; }

# ---- (a) directly on SoftHSM2 ----
create_direct "$T/release.json" "${ARTS[@]}" || fail "manifest create on SoftHSM2"
verify --in "$T/release.json" --artifacts "$T/out" > "$T/verify.txt" || fail "verify: $(cat "$T/verify.txt")"
grep -q '^release manifest ok: product sample_phone, device sample, version 14.0.1, 2026-09-21T14:13:20Z$' \
	"$T/verify.txt" || fail "summary: $(cat "$T/verify.txt")"
grep -q '^3 artifacts, 2 rollback indexes; every artifact matches' "$T/verify.txt" || fail "summary: $(cat "$T/verify.txt")"
"$A" manifest verify --cert "$T/bundle/certs/manifest.pem" --in "$T/release.json" >/dev/null || fail "verify --cert"
"$A" manifest verify --cert "$T/manifest.pub" --in "$T/release.json" >/dev/null || fail "verify with a PEM public key"
echo "ok: created on SoftHSM2 and verified (bundle, certificate, public key, artifacts)"

# Independently: the payload is the canonical JSON of the release, the
# keyid the SHA-256 of the key's SPKI, and openssl verifies the DER
# signature over DSSE's PAE with SHA-256.
python3 - "$T/release.json" "$T/pae.bin" "$T/sig.der" "$T/payload.json" <<'PY'
import base64, hashlib, json, sys
env = json.load(open(sys.argv[1]))
assert sorted(env) == ["payload", "payloadType", "signatures"], env.keys()
t = env["payloadType"].encode()
assert t == b"application/vnd.rombsr.release-manifest+json"
body = base64.b64decode(env["payload"], validate=True)
m = json.loads(body)
assert json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == body, "not canonical"
assert m["format"] == "rombsr.release-manifest" and m["version"] == 1
assert [a["name"] for a in m["artifacts"]] == ["boot.img", "system.img", "vendor.img"], m["artifacts"]
assert m["rollback_indexes"] == [{"index": 3, "location": 0}, {"index": 7, "location": 1}]
assert len(env["signatures"]) == 1
open(sys.argv[2], "wb").write(b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body))
open(sys.argv[3], "wb").write(base64.b64decode(env["signatures"][0]["sig"], validate=True))
open(sys.argv[4], "wb").write(body)
PY
openssl dgst -sha256 -verify "$T/manifest.pub" -signature "$T/sig.der" "$T/pae.bin" >/dev/null ||
	fail "openssl does not verify the signature over the PAE"
spki=$(openssl pkey -pubin -in "$T/manifest.pub" -outform DER | sha256sum | cut -d' ' -f1)
[ "$(jq -r '.signatures[0].keyid' "$T/release.json")" = "$spki" ] || fail "keyid is not the SPKI SHA-256"
for f in boot system vendor; do
	want=$(sha256sum "$T/out/$f.img" | cut -d' ' -f1)
	[ "$(jq -r ".artifacts[] | select(.name == \"$f.img\") | .sha256" "$T/payload.json")" = "$want" ] ||
		fail "$f.img: SHA-256 in the manifest differs from sha256sum"
done
echo "ok: openssl verifies the signature over the PAE; keyid and artifact digests independently checked"

# The same inputs give the same payload (ECDSA on SoftHSM2 is randomized:
# only the signature differs); SOURCE_DATE_EPOCH stands for --time.
RELEASE=(--product sample_phone --device sample --version 14.0.1 --rollback 0=3 --rollback 1=7)
SOURCE_DATE_EPOCH=1790000000 create_direct "$T/again.json" "$T/out/vendor.img" "$T/out/boot.img" \
	"$T/out/system.img" || fail "create with SOURCE_DATE_EPOCH"
[ "$(jq -r .payload "$T/again.json")" = "$(jq -r .payload "$T/release.json")" ] ||
	fail "the same release in another order gives another payload"
expect_fail "give the release's time with --time UNIX or SOURCE_DATE_EPOCH" env -u SOURCE_DATE_EPOCH \
	"$A" manifest create --key "pkcs11:token=rombsr-manifest;object=manifest" --module "$SOFTHSM_MODULE" \
	--pin-file "$MANIFEST_PIN" "${RELEASE[@]}" --out "$T/no.json" "${ARTS[@]}"
[ ! -e "$T/no.json" ] || fail "written without a time"
RELEASE+=(--time 1790000000)
echo "ok: deterministic payload, SOURCE_DATE_EPOCH, no clock"

# ---- (c) refusals of create: nothing written ----
not_written() { # OUT TEXT command...
	local out=$1; shift
	expect_fail "$@"
	[ ! -e "$out" ] || fail "$out was written although create refused"
	! compgen -G "$out.tmp*" >/dev/null || fail "a temporary file of $out was left"
}
N="$T/refused.json"
not_written "$N" "key 'ota_key' belongs to the release authority: a release manifest is signed by the manifest authority's key only" \
	create_on "$SOFTHSM_MODULE" "pkcs11:token=rombsr-release;object=ota_key" "$RELEASE_PIN" "$N" "${ARTS[@]}"
not_written "$N" "artifact: cannot read $T/out/missing.img" create_direct "$N" "${ARTS[@]}" "$T/out/missing.img"
not_written "$N" "two artifacts are named 'boot.img'" create_direct "$N" "${ARTS[@]}" "$T/other/boot.img"
not_written "$N" "--rollback '7': not LOCATION=INDEX" create_direct "$N" --rollback 7 "${ARTS[@]}"
not_written "$N" "--rollback location: '32' is not a whole number from 0 to 31" create_direct "$N" --rollback 32=1 "${ARTS[@]}"
not_written "$N" "--rollback index: '-1' is not a whole number" create_direct "$N" --rollback 2=-1 "${ARTS[@]}"
not_written "$N" "rollback index location 1 is given twice" create_direct "$N" --rollback 1=8 "${ARTS[@]}"
not_written "$N" "usage: manifest create" create_direct "$N"
not_written "$N" "--product: 1 to 128 bytes" create_direct "$N" --product "" "${ARTS[@]}"
not_written "$N" "manifest.device: control character" create_direct "$N" --device "$(printf 'a\tb')" "${ARTS[@]}"

# ---- (c) refusals of verify: exit 3 for the document and the files ----
V="$T/never-written"
jq '. + {extra: 1}' "$T/release.json" > "$T/bad.json"
refused 3 "bad.json: malformed envelope: envelope: unknown field 'extra'" "$V" verify --in "$T/bad.json"
jq '.payloadType = "application/vnd.in-toto+json"' "$T/release.json" > "$T/bad.json"
refused 3 "envelope.payloadType: 'application/vnd.in-toto+json' is not" "$V" verify --in "$T/bad.json"
jq '.signatures += .signatures' "$T/release.json" > "$T/bad.json"
refused 3 "envelope.signatures: 2 signatures; a release manifest has exactly one" "$V" verify --in "$T/bad.json"
# A field of the manifest changed (product), the signature kept.
python3 - "$T/release.json" "$T/bad.json" <<'PY'
import base64, json, sys
env = json.load(open(sys.argv[1]))
m = json.loads(base64.b64decode(env["payload"]))
m["product"] = "other_phone"
env["payload"] = base64.b64encode(json.dumps(m, sort_keys=True, separators=(",", ":")).encode()).decode()
json.dump(env, open(sys.argv[2], "w"))
PY
refused 3 "bad.json: the signature does not verify with the manifest key" "$V" verify --in "$T/bad.json"
# The signature of another key: the platform key's fingerprint as keyid.
jq --arg k "$(jq -r '.keys[] | select(.label == "platform") | .spki_sha256' "$T/bundle/manifest.json")" \
	'.signatures[0].keyid = $k' "$T/release.json" > "$T/bad.json"
refused 3 "not by the manifest key" "$V" verify --in "$T/bad.json"
jq '.signatures[0].sig |= ("AA" + .[2:])' "$T/release.json" > "$T/bad.json"
refused 3 "envelope.signatures[0].sig: not a DER ECDSA signature" "$V" verify --in "$T/bad.json"

# Properly signed by the manifest key, but with a field the format does not
# have: refused by the schema, not by the signature.
python3 - "$T/payload.json" "$T/unknown.json" "$T/unknown.pae" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["channel"] = "beta"
body = json.dumps(m, sort_keys=True, separators=(",", ":")).encode()
open(sys.argv[2], "wb").write(body)
t = b"application/vnd.rombsr.release-manifest+json"
open(sys.argv[3], "wb").write(b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body))
PY
openssl dgst -sha256 -binary "$T/unknown.pae" > "$T/unknown.digest"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-manifest --login --pin "$(cat "$MANIFEST_PIN")" \
	--sign -m ECDSA --label manifest -i "$T/unknown.digest" -o "$T/unknown.sig" 2>/dev/null ||
	fail "pkcs11-tool could not sign with the manifest key"
python3 - "$T/release.json" "$T/unknown.json" "$T/unknown.sig" "$T/bad.json" <<'PY'
import base64, json, sys
def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b
env = json.load(open(sys.argv[1]))
raw = open(sys.argv[3], "rb").read()
seq = der_int(raw[:32]) + der_int(raw[32:])
env["payload"] = base64.b64encode(open(sys.argv[2], "rb").read()).decode()
env["signatures"][0]["sig"] = base64.b64encode(b"\x30" + bytes([len(seq)]) + seq).decode()
json.dump(env, open(sys.argv[4], "w"))
PY
refused 3 "signed but malformed manifest: manifest: unknown field 'channel'" "$V" verify --in "$T/bad.json"

# The artifacts: one altered, one missing.
cp -a "$T/out" "$T/shipped"
printf 'system image!\n' > "$T/shipped/system.img"
refused 3 "artifact 'system.img' differs from the manifest" "$V" verify --in "$T/release.json" --artifacts "$T/shipped"
cp "$T/out/system.img" "$T/shipped/system.img"
rm "$T/shipped/boot.img"
refused 3 "artifact 'boot.img' is missing from $T/shipped" "$V" verify --in "$T/release.json" --artifacts "$T/shipped"
# Keys that are not the manifest authority's: refused before reading.
refused 1 "key 'ota_key' belongs to the release authority: a release manifest verifies only with the manifest authority's key" \
	"$V" verify --label ota_key --in "$T/release.json"
refused 1 "platform.pem is not an EC P-256 key" "$V" \
	"$A" manifest verify --cert "$T/bundle/certs/platform.pem" --in "$T/release.json"
echo "ok: every refusal of create and verify"

# ---- (b) through the real flow ----
with_queue
sign_config
capture_config "$T/capture.conf" capture
CAP_KEY="pkcs11:token=rombsr-capture;object=manifest"
create_cap() { create_on "$CAP_MODULE" "$CAP_KEY" "" "$@"; }
capture_run "$T/capture.conf" create_cap "$T/captured.json" "${ARTS[@]}" 2>"$T/capture.err" ||
	fail "capture: $(cat "$T/capture.err")"
grep -q "captured: the signature is the capture module's placeholder" "$T/capture.err" ||
	fail "capture said: $(cat "$T/capture.err")"
[ "$(journal_lines)" -eq 1 ] || fail "expected one captured operation, got $(journal_lines)"
jq -e '.label == "manifest" and .mechanism == "CKM_ECDSA" and .sig_len == 64' "$T/journal.jsonl" >/dev/null ||
	fail "captured: $(cat "$T/journal.jsonl")"
refused 3 "captured.json: the signature does not verify" "$V" verify --in "$T/captured.json"
# A release key through the capture module: refused before any signing.
expect_fail "key 'ota_key' belongs to the release authority" capture_run "$T/capture.conf" \
	create_on "$CAP_MODULE" "pkcs11:token=rombsr-capture;object=ota_key" "" "$T/no.json" "${ARTS[@]}"
[ "$(journal_lines)" -eq 1 ] && [ ! -e "$T/no.json" ] || fail "the refused release key left a trace"

submit_to() { # AUTHORITY
	"$ROMBSR" --config "$BUILD_CONF" submit --journal "$T/journal.jsonl" --product sample_phone \
		--build-id "MANIFEST.$RANDOM" --source-commit "$(printf '%040d' 9)" --build-type user --authority "$1" \
		--artifact "$T/out/boot.img=boot.img" --artifact "$T/out/system.img=system.img" \
		--artifact "$T/out/vendor.img=vendor.img"
}
id=$(submit_to manifest)
cross=$(submit_to release)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>"$T/pass.err" || fail "sign --once: $(cat "$T/pass.err")"
grep -q '^sign: 2 responses published (1 signed, 1 rejected), 1 operations, 1 HSM operations' "$T/pass.txt" ||
	fail "pass: $(cat "$T/pass.txt") $(cat "$T/pass.err")"
[ "$(response_of "$cross" | jq -r .reason.code)" = wrong-authority ] ||
	fail "the release authority did not refuse the manifest key: $(response_of "$cross")"
refused 1 "wrong-authority: operation 0: key 'manifest' belongs to the manifest authority, the request to release" \
	"$T/cross-sigs.json" apply_build --request "$cross" --out "$T/cross-sigs.json"
echo "ok: the sign node signs the manifest for the manifest authority only (wrong-authority for release)"

replay() { # OUT: apply, replaying the same create
	apply_build --request "$id" --out "$T/sigs.json" -- env SOFTHSM2_CONF="$T/no-token.conf" \
		${CAP_ENV[@]+"${CAP_ENV[@]}"} "$A" manifest create --key "$CAP_KEY" --module "$CAP_MODULE" \
		"${RELEASE[@]}" --out "$1" "${ARTS[@]}"
}
replay "$T/release-flow.json" || fail "apply and replay"
verify --in "$T/release-flow.json" --artifacts "$T/out" >/dev/null || fail "the replayed manifest does not verify"
replay "$T/release-flow2.json" || fail "second apply"
cmp -s "$T/release-flow.json" "$T/release-flow2.json" || fail "a second replay wrote other bytes"
[ "$(jq -r .payload "$T/release-flow.json")" = "$(jq -r .payload "$T/release.json")" ] ||
	fail "the flow's payload differs from the one made directly"
echo "ok: captured, signed by the sign node, replayed by apply; verified; the same bytes on a second replay"

# The audit log holds this signature: the digest of the PAE and the
# SHA-256 of the raw r||s that the envelope's DER encodes.
Au=$(auditor auditor)
"$ROMBSR" --config "$Au" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"
"$ROMBSR" --config "$Au" audit-show --repo "$T/queue.git" --request "$id" --type signature --json > "$T/entries"
python3 - "$T/release-flow.json" "$T/entries" "$T/sigs.json" <<'PY'
import base64, hashlib, json, sys
env = json.load(open(sys.argv[1]))
entries = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
assert len(entries) == 1, entries
e = entries[0]
t = env["payloadType"].encode()
body = base64.b64decode(env["payload"])
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
assert e["digest"] == hashlib.sha256(pae).hexdigest(), "the logged digest is not the PAE's"
assert e["key_label"] == "manifest" and e["mechanism"] == "CKM_ECDSA", e
der = base64.b64decode(env["signatures"][0]["sig"])
def ints(d):
    assert d[0] == 0x30
    i, out = 2, []
    while i < len(d):
        n = d[i + 1]
        out.append(int.from_bytes(d[i + 2:i + 2 + n], "big"))
        i += 2 + n
    return out
r, s = ints(der)
raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
assert e["signature_sha256"] == hashlib.sha256(raw).hexdigest(), "the envelope's signature is not the logged one"
assert e["key_fingerprint"] == env["signatures"][0]["keyid"]
sig = json.load(open(sys.argv[3]))["signatures"][0]["signature"]
assert bytes.fromhex(sig) == raw
PY
echo "ok: the audit log holds the manifest's signature (digest of the PAE, signature, key)"
echo "manifest ok"
