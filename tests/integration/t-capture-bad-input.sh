# Bad input to the capture module and to the journal / signature set
# readers: clear one-line errors, and nothing written half (no output file,
# no journal entry, no placeholder).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"

with_bundle
P11=(pkcs11-tool --module "$CAP_MODULE")
RSA_ID=$(bundle_id platform)
printf 'payload\n' > "$T/data"

# module_fails CONFIG "text" pkcs11-tool-args...: the client fails, the
# module said text on a "rombsr-capture:" line, no output file appeared.
module_fails() {
	local cfg=$1 want=$2 out
	shift 2
	rm -f "$T/out.sig"
	if out=$(capture_run "$cfg" "${P11[@]}" "$@" 2>&1); then
		fail "pkcs11-tool $* succeeded; expected: $want"
	fi
	printf '%s\n' "$out" | grep -F "rombsr-capture: " | grep -qF "$want" ||
		fail "no 'rombsr-capture: ...$want' line; output was: $out"
	[ ! -s "$T/out.sig" ] || fail "an output was written despite: $want"
	echo "ok: $(printf '%s\n' "$out" | grep -F 'rombsr-capture: ' | head -1)"
}

# ---- configuration ----
capture_run /nonexistent.conf true # the environment itself is fine
module_fails "$T/missing.conf" "cannot open $T/missing.conf" -L
printf 'mode = capture\nbundle = %s\njournal = j\ncolour = blue\n' "$T/bundle" > "$T/bad.conf"
module_fails "$T/bad.conf" "line 4: unknown key 'colour'" -L
printf 'mode = record\nbundle = %s\n' "$T/bundle" > "$T/bad.conf"
module_fails "$T/bad.conf" "mode must be capture or replay" -L
printf 'mode = replay\nbundle = %s\n' "$T/bundle" > "$T/bad.conf"
module_fails "$T/bad.conf" "replay mode needs 'signatures'" -L

# ---- bundle that does not match its manifest ----
cp -a "$T/bundle" "$T/good-bundle"
sed -i '2s/^.*$/MIIFAKE/' "$T/bundle/certs/media.pem"
capture_config "$T/capture.conf" capture
module_fails "$T/capture.conf" "certs/media.pem: not a PEM certificate" -L
rm -rf "$T/bundle" && cp -a "$T/good-bundle" "$T/bundle"
cp "$T/bundle/certs/shared.pem" "$T/bundle/certs/media.pem"
module_fails "$T/capture.conf" "key 'media': $T/bundle/certs/media.pem has SHA-256" -L
rm -rf "$T/bundle" && cp -a "$T/good-bundle" "$T/bundle"
python3 - "$T/bundle/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["keys"][0]["spki_sha256"] = "00" * 32
json.dump(m, open(sys.argv[1], "w"))
PY
module_fails "$T/capture.conf" "key 'platform': the certificate's key has SHA-256" -L
rm -rf "$T/bundle" && cp -a "$T/good-bundle" "$T/bundle"

# ---- signing requests the module refuses, none journaled ----
module_fails "$T/capture.conf" "key 'platform': mechanism 0x6 is not supported" \
	--login --pin x --sign -m SHA1-RSA-PKCS --id "$RSA_ID" -i "$T/data" -o "$T/out.sig"
# (pkcs11-tool checks PSS digest lengths itself; t-capture-rules sends
# the module a short PSS digest directly.)
head -c 33 /dev/zero > "$T/short"
module_fails "$T/capture.conf" "key 'manifest': CKM_ECDSA needs a digest (20 to 64 bytes), got 33 bytes" \
	--login --pin x --sign -m ECDSA --id "$(bundle_id manifest)" -i "$T/short" -o "$T/out.sig"
module_fails "$T/capture.conf" "CKM_RSA_PKCS input of 33 bytes is not a DigestInfo" \
	--login --pin x --sign -m RSA-PKCS --id "$RSA_ID" -i "$T/short" -o "$T/out.sig"
# pkcs11-tool cannot name a key the token does not have: ask for a
# CKA_ID nobody has and get no signature.
rm -f "$T/out.sig"
if capture_run "$T/capture.conf" "${P11[@]}" --login --pin x --sign -m SHA256-RSA-PKCS --id 0badc0de \
	-i "$T/data" -o "$T/out.sig" >/dev/null 2>&1 && [ -s "$T/out.sig" ]; then
	fail "signed with an unknown key"
fi
[ "$(journal_lines)" -eq 0 ] || fail "refused requests were journaled"
# A journal that cannot be written: the client gets an error, no placeholder.
mkdir "$T/journal-dir"
printf 'mode = capture\nbundle = %s\njournal = %s\n' "$T/bundle" "$T/journal-dir" > "$T/dirj.conf"
module_fails "$T/dirj.conf" "cannot open journal $T/journal-dir" \
	--login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" -i "$T/data" -o "$T/out.sig"

# ---- a good journal of three operations, then broken copies ----
for i in 1 2 3; do
	printf 'payload %d\n' "$i" > "$T/data$i"
	capture_run "$T/capture.conf" "${P11[@]}" --login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" \
		-i "$T/data$i" -o "$T/ph$i" 2>/dev/null
done
[ "$(journal_lines)" -eq 3 ] || fail "expected 3 entries"
cp "$T/journal.jsonl" "$T/good.jsonl"

sed '2s/"sig_len":512/"sig_len":256/' "$T/good.jsonl" > "$T/j.jsonl"
expect_fail "j.jsonl line 2: check value does not match" sign_journal "$T/j.jsonl" "$T/sigs.json"
[ ! -e "$T/sigs.json" ] || fail "a signature set was written from a corrupt journal"
head -c -40 "$T/good.jsonl" > "$T/j.jsonl"
expect_fail "j.jsonl line 3: truncated entry" sign_journal "$T/j.jsonl" "$T/sigs.json"
[ ! -e "$T/sigs.json" ] || fail "a signature set was written from a truncated journal"
# A well-formed entry (its check value recomputed) for a key no token has.
python3 - "$T/good.jsonl" "$T/j.jsonl" <<'PY'
import hashlib, sys
line = open(sys.argv[1]).readline().rstrip("\n")
body = line[: -len(',"sha256":"') - 64 - 2].replace('"label":"platform"', '"label":"nosuchkey"')
open(sys.argv[2], "w").write(body + ',"sha256":"' + hashlib.sha256(body.encode()).hexdigest() + '"}\n')
PY
expect_fail "no token holds key 'nosuchkey'" sign_journal "$T/j.jsonl" "$T/sigs.json"
[ ! -e "$T/sigs.json" ] || fail "a signature set was written for an unknown key"

# ---- signature sets ----
sign_journal "$T/good.jsonl" "$T/sigs.json" 2>/dev/null
cp "$T/sigs.json" "$T/good-sigs.json"
capture_config "$T/replay.conf" replay "$T/sigs.json"
head -c 300 "$T/good-sigs.json" > "$T/sigs.json"
module_fails "$T/replay.conf" "$T/sigs.json line" -L
# A signature that is not the key's: refused at use, not handed out.
python3 - "$T/good-sigs.json" "$T/sigs.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
sig = s["signatures"][0]["signature"]
s["signatures"][0]["signature"] = sig[:-2] + ("00" if sig[-2:] != "00" else "01")
json.dump(s, open(sys.argv[2], "w"))
PY
module_fails "$T/replay.conf" "does not verify" \
	--login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" -i "$T/data1" -o "$T/out.sig"
# A signature for a key the bundle does not have.
python3 - "$T/good-sigs.json" "$T/sigs.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["signatures"][1]["spki_sha256"] = "ab" * 32
json.dump(s, open(sys.argv[2], "w"))
PY
module_fails "$T/replay.conf" "is for key 'platform' (abababababababab...), not in the bundle" -L
sed 's/"version": 1/"version": 2/' "$T/good-sigs.json" > "$T/sigs.json"
module_fails "$T/replay.conf" "unsupported version" -L
# Replay with a missing signature: key and digest named.
cp "$T/good-sigs.json" "$T/sigs.json"
module_fails "$T/replay.conf" "replay: no signature for key 'platform' (" \
	--login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" -i "$T/data" -o "$T/out.sig"
capture_run "$T/replay.conf" "${P11[@]}" --login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" \
	-i "$T/data2" -o "$T/out.sig" 2>/dev/null
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/platform.pub"
openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/out.sig" "$T/data2" >/dev/null ||
	fail "the good signature set does not replay"
echo "bad input refused"
