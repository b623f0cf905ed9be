# rombsr audit-proof: the proof of a signature entry is checked without
# rombsr — tests/tools/audit-proof-check.py (Python's standard library) for
# the entry, the inclusion path and the checkpoint, openssl for the audit
# key's ECDSA signature over the checkpoint, the public key taken from the
# bundle's audit.vkey — and every kind of damage to the proof fails one of
# the two checks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

audit_queue
A=$(auditor auditor)
Q="$T/queue.git"
VKEY="$T/bundle/audit.vkey"
CHECK="$TOP/tests/tools/audit-proof-check.py"
queue_entries "$Q" > "$T/all.jsonl"
total=$(wc -l < "$T/all.jsonl")

# third_party PROOF DIR: both checks; prints nothing, returns non-zero on
# the first that fails.
third_party() {
	python3 "$CHECK" "$1" "$VKEY" --origin rombsr.local/audit --extract "$2" >/dev/null 2>&1 &&
		openssl pkey -pubin -inform DER -in "$2/spki.der" -out "$2/pub.pem" 2>/dev/null &&
		openssl dgst -sha256 -verify "$2/pub.pem" -signature "$2/sig.der" "$2/body" >/dev/null 2>&1
}

"$ROMBSR" --config "$A" audit-proof --repo "$Q" --request "$REQ_SIGNED1" --op 1 > "$T/p1" 2>"$T/p1.err" ||
	fail "audit-proof: $(cat "$T/p1.err")"
cat "$T/p1"
# Line 2 is the entry, byte for byte: the second signature of the request.
want=$(python3 -c '
import json, sys
sigs = [l for l in open(sys.argv[1]) if json.loads(l).get("request_id") == sys.argv[2] and json.loads(l)["type"] == "signature"]
sys.stdout.write(sigs[1])' "$T/all.jsonl" "$REQ_SIGNED1")
[ "$(sed -n 2p "$T/p1")" = "$want" ] || fail "line 2 is not the signature entry: $(sed -n 2p "$T/p1")"
[ "$(head -1 "$T/p1")" = rombsr.audit-proof@v1 ] || fail "header"
python3 "$CHECK" "$T/p1" "$VKEY" --origin rombsr.local/audit --extract "$T/x1" || fail "the Python check refused a good proof"
openssl pkey -pubin -inform DER -in "$T/x1/spki.der" -out "$T/x1/pub.pem" || fail "the vkey's key is not one openssl reads"
openssl dgst -sha256 -verify "$T/x1/pub.pem" -signature "$T/x1/sig.der" "$T/x1/body" ||
	fail "openssl refused the checkpoint signature"
# The public key the check used is the audit key the HSM holds.
[ "$(sha256sum < "$T/x1/spki.der" | cut -d' ' -f1)" = "$("$ROMBSR_SIGN" keys --authority audit | awk '$1 == "audit" {print $4}')" ] ||
	fail "audit.vkey's key is not the HSM's audit key"

# --index gives the same proof; every entry of a 13-leaf tree (first, last,
# both sides of every split) passes both checks.
idx=$(sed -n 2p "$T/p1" | jq .index)
"$ROMBSR" --config "$A" audit-proof --repo "$Q" --index "$idx" > "$T/p1b" 2>/dev/null || fail "--index $idx"
cmp -s "$T/p1" "$T/p1b" || fail "--index and --request/--op give different proofs"
for i in $(seq 0 $((total - 1))); do
	"$ROMBSR" --config "$A" audit-proof --repo "$Q" --index "$i" > "$T/pi" 2>/dev/null || fail "--index $i"
	third_party "$T/pi" "$T/xi-$i" || fail "the proof of entry $i does not check"
done
echo "ok: proofs of all $total entries check without rombsr"

# Damage: each must fail (the Merkle part in Python, what only the
# signature binds — the tree size — in openssl).
refused_by() { # PROOF: which check refused it
	local why
	if why=$(python3 "$CHECK" "$1" "$VKEY" 2>&1 >/dev/null); then echo "openssl"; else echo "$why"; fi
}
damaged() { # NAME SED-ARGS...
	local name=$1; shift
	sed "$@" "$T/p1" > "$T/bad-$name"
	cmp -s "$T/p1" "$T/bad-$name" && fail "$name: the damage changed nothing"
	if third_party "$T/bad-$name" "$T/xb-$name"; then fail "$name: a damaged proof passed"; fi
	echo "ok: $name refused by $(refused_by "$T/bad-$name")"
}
# flip_hash NAME LINE: one bit of the base64 hash on LINE flipped, still
# canonical base64.
flip_hash() {
	python3 - "$T/p1" "$2" > "$T/bad-$1" <<'PY'
import base64, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
n = int(sys.argv[2]) - 1
raw = bytearray(base64.b64decode(lines[n]))
raw[0] ^= 0x80
lines[n] = base64.b64encode(bytes(raw))
sys.stdout.buffer.write(b"\n".join(lines))
PY
	if third_party "$T/bad-$1" "$T/xb-$1"; then fail "$1: a damaged proof passed"; fi
	echo "ok: $1 refused by $(refused_by "$T/bad-$1")"
}
# One byte of the entry flipped: the first digit of signature_sha256.
d=$(sed -n 2p "$T/p1" | sed 's/.*"signature_sha256":"\(.\).*/\1/')
[ "$d" = 0 ] && e=1 || e=0
damaged entry-byte -e "2s/\"signature_sha256\":\"$d/\"signature_sha256\":\"$e/"
damaged entry-index -e "2s/\"index\":$idx,/\"index\":$((idx + 1)),/"
damaged proof-index -e "4s/^index $idx\$/index $((idx - 1))/"
flip_hash path-hash 5
damaged path-dropped -e '5d'
cp_line=$(grep -n '^rombsr.local/audit$' "$T/p1" | cut -d: -f1)
flip_hash root $((cp_line + 2))
damaged size -e "$((cp_line + 1))s/^$total\$/$((total + 1))/"
# The signature: the Merkle part still holds, openssl must refuse it.
python3 - "$T/p1" > "$T/bad-signature" <<'PY'
import base64, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
i = max(n for n, l in enumerate(lines) if l.startswith("\u2014".encode()))
dash, name, value = lines[i].split(b" ")
raw = bytearray(base64.b64decode(value))
raw[-1] ^= 1
lines[i] = b" ".join([dash, name, base64.b64encode(bytes(raw))])
sys.stdout.buffer.write(b"\n".join(lines))
PY
python3 "$CHECK" "$T/bad-signature" "$VKEY" --extract "$T/xs" >/dev/null || fail "signature damage: the Merkle part should still hold"
if third_party "$T/bad-signature" "$T/xs"; then fail "openssl accepted a damaged checkpoint signature"; fi
echo "ok: damaged signature refused by openssl"
# Another key's vkey: no signature line of that key.
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.pem" 2>/dev/null
openssl ec -in "$T/other.pem" -pubout -outform DER -out "$T/other.spki" 2>/dev/null
python3 -c '
import base64, hashlib, sys
spki = open(sys.argv[1], "rb").read()
print("rombsr.local/audit+" + hashlib.sha256(spki).digest()[:4].hex() + "+" + base64.b64encode(b"\x02" + spki).decode())' \
	"$T/other.spki" > "$T/other.vkey"
if python3 "$CHECK" "$T/p1" "$T/other.vkey" >/dev/null 2>&1; then fail "a proof checked with another key's vkey"; fi
echo "ok: another vkey refused"

# Refusals.
expect_fail "request $REQ_REJECTED was rejected (expired, entry" \
	"$ROMBSR" --config "$A" audit-proof --repo "$Q" --request "$REQ_REJECTED" --op 0
expect_fail "request $REQ_SIGNED1 has 2 signatures (operations 0 to 1)" \
	"$ROMBSR" --config "$A" audit-proof --repo "$Q" --request "$REQ_SIGNED1" --op 2
other=$(new_id)
expect_fail "request $other has no decision in the log" "$ROMBSR" --config "$A" audit-proof --repo "$Q" --request "$other" --op 0
expect_fail "entry $total is not covered by a checkpoint" "$ROMBSR" --config "$A" audit-proof --repo "$Q" --index "$total"
expect_fail "give --request ID --op N, or --index N" "$ROMBSR" --config "$A" audit-proof --repo "$Q"
expect_fail "give --request ID --op N, or --index N" "$ROMBSR" --config "$A" audit-proof --repo "$Q" --op 1
expect_fail "give --request ID --op N, or --index N" "$ROMBSR" --config "$A" audit-proof --repo "$Q" --index 1 --op 1
expect_fail "--op: 'x' is not a whole number" "$ROMBSR" --config "$A" audit-proof --repo "$Q" --request "$REQ_SIGNED1" --op x
expect_fail "--request: 'r1' is not a request ID" "$ROMBSR" --config "$A" audit-proof --repo "$Q" --request r1 --op 0

# A tampered log gives no proof: exit 3, nothing on stdout.
git clone -q "$Q" "$T/t-edit"
c=$(git -C "$T/t-edit" ls-files audit/entries | sort | head -1)
sed -i '1s/"result":"ok"/"result":"failed"/' "$T/t-edit/$c"
git -C "$T/t-edit" -c user.name=x -c user.email=x@x commit -qam edit
rc=0
"$ROMBSR" --config "$(auditor a-edit)" audit-proof --repo "$T/t-edit" --index "$idx" > "$T/edit.out" 2>"$T/edit.err" || rc=$?
[ "$rc" -eq 3 ] && [ ! -s "$T/edit.out" ] || fail "tampered log: exit $rc, $(cat "$T/edit.err")"
echo "audit proof ok"
