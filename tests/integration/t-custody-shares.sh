# The wrap key's Shamir ceremony (docs/custody.md, docs/formats/wrap-key-share.md):
# recipients validated before anything is written; the key held in locked,
# non-dumpable memory and never in a file; age decrypts each share with its
# custodian's identity (X25519 and ssh-ed25519); gfcombine combines the raw
# shares of any three into the same key; restore takes any three and refuses,
# by share file, too few, corrupt, foreign, duplicated and mixed shares.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/custody-lib.sh"

custody_provision
custody_ids 4
ssh-keygen -q -t ed25519 -N '' -C custodian5 -f "$T/ssh5"
RECIPIENTS+=(--recipient "$(cat "$T/ssh5.pub")")
no_wrap_key() { [ "$(release_objects secrkey)" -eq 0 ] || fail "$1: the token holds a wrap key"; }
nothing_written() {
	[ ! -e "$T/shares" ] || fail "$1: $T/shares exists"
	ls -d "$T"/shares.tmp-* >/dev/null 2>&1 && fail "$1: a scratch folder was left"
	no_wrap_key "$1"
}

# Bad recipients and counts: refused before anything exists.
bad=("${RECIPIENTS[@]:0:8}")
expect_fail "does not parse" "$ROMBSR_SIGN" wrap-key create --threshold 3 --shares 5 "${bad[@]}" \
	--recipient age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq --out "$T/shares"
nothing_written "unparseable age recipient"
expect_fail "neither an age X25519 recipient" "$ROMBSR_SIGN" wrap-key create --threshold 3 --shares 5 "${bad[@]}" \
	--recipient "ssh-rsa AAAAB3Nza" --out "$T/shares"
nothing_written "ssh-rsa recipient"
expect_fail "4 recipients for 5 shares" "$ROMBSR_SIGN" wrap-key create --threshold 3 --shares 5 "${bad[@]}" --out "$T/shares"
expect_fail "--threshold must be at least 2" "$ROMBSR_SIGN" wrap-key create --threshold 6 --shares 5 \
	"${RECIPIENTS[@]}" --out "$T/shares"
nothing_written "bad threshold"

# The ceremony, held while the key is in memory: not dumpable, locked,
# left out of core dumps, and nothing in --out yet.
ROMBSR_TEST_CEREMONY_HOLD="$T/go" "$ROMBSR_SIGN" wrap-key create --threshold 3 --shares 5 "${RECIPIENTS[@]}" \
	--out "$T/shares" 2>"$T/create.log" &
create_pid=$!
for _ in $(seq 250); do grep -q 'test hold' "$T/create.log" && break; sleep 0.02; done
grep -q 'test hold: pid [0-9]* holds the key, dumpable 0$' "$T/create.log" || fail "no hold or dumpable: $(cat "$T/create.log")"
pid=$(sed -n 's/.*test hold: pid \([0-9]*\) .*/\1/p' "$T/create.log")
locked=$(awk '/^VmLck:/{print $2}' "/proc/$pid/status")
[ "$locked" -gt 0 ] || fail "the ceremony locks no memory (VmLck $locked kB)"
awk '/^VmFlags:/ && / lo / && / dd /{n++} END{exit n ? 0 : 1}' "/proc/$pid/smaps" ||
	fail "no mapping of the ceremony is both locked (lo) and left out of dumps (dd)"
[ ! -e "$T/shares" ] || fail "shares visible before the key is in the token"
echo "ok: while held: dumpable 0, VmLck ${locked} kB, a locked MADV_DONTDUMP mapping"
touch "$T/go"
wait "$create_pid" || fail "wrap-key create failed: $(cat "$T/create.log")"
ls "$T"/shares.tmp-* >/dev/null 2>&1 && fail "scratch folder left"
[ "$(ls "$T/shares" | wc -l)" -eq 6 ] || fail "not 5 shares and a listing: $(ls "$T/shares")"
[ "$(stat -c %a "$T/shares/share-1.age")" = 600 ] || fail "share file not 0600"
[ "$(release_objects secrkey)" -eq 1 ] || fail "no wrap key in the token"
secret_id=$(awk '$1=="secret-id"{print $2}' "$T/shares/shares.txt")

# Interop: age decrypts each share with its custodian's identity, X25519
# and ssh-ed25519 alike; another custodian's identity does not.
mkdir "$T/raw"
for i in 1 2 3 4 5; do
	id="$T/id$i"; [ "$i" -eq 5 ] && id="$T/ssh5"
	age -d -i "$id" -o "$T/raw/share-$i.txt" "$T/shares/share-$i.age" || fail "age -d failed on share $i"
	head -1 "$T/raw/share-$i.txt" | grep -qx 'rombsr-wrap-key-share v1' || fail "share $i is not format v1"
	grep -qx "secret-id $secret_id" "$T/raw/share-$i.txt" || fail "share $i has another secret ID"
	grep -qx "index $i" "$T/raw/share-$i.txt" || fail "share $i has another index"
	sed -n 's/^share //p' "$T/raw/share-$i.txt" | xxd -r -p > "$T/raw/key.$(printf %03d "$i")"
done
age -d -i "$T/id1" "$T/shares/share-2.age" >/dev/null 2>&1 && fail "custodian 1 decrypted share 2"
# gfcombine, any three of five, gives one key: the one whose check value
# our shares carry (SHA-256 of the domain, the secret ID and the key).
check=$(sed -n 's/^secret-check //p' "$T/raw/share-1.txt")
for combo in "1 2 3" "1 2 4" "1 2 5" "1 3 4" "1 3 5" "1 4 5" "2 3 4" "2 3 5" "2 4 5" "3 4 5"; do
	files=(); for i in $combo; do files+=("$T/raw/key.$(printf %03d "$i")"); done
	gfcombine -o "$T/raw/combined" "${files[@]}"
	got=$( { printf 'rombsr wrap-key check v1\0'; printf %s "$secret_id" | xxd -r -p; cat "$T/raw/combined"; } |
		sha256sum | cut -d' ' -f1)
	[ "$got" = "$check" ] || fail "gfcombine of shares $combo gives another key"
done
echo "ok: gfcombine combines any 3 of 5 into the key of the check value"

# The key never reached a file: not the state, the token's own files (the
# wrap key is a private object there, stored encrypted), the shares.
python3 - "$T/raw/combined" "$T/state" "$T/shares" <<'PY' || fail "the wrap key is in a file"
import os, sys
key = open(sys.argv[1], "rb").read()
needles = [key, key.hex().encode(), key.hex().upper().encode()]
for top in sys.argv[2:]:
    for d, _, files in os.walk(top):
        for f in files:
            data = open(os.path.join(d, f), "rb").read()
            if any(n in data for n in needles):
                print("key found in", os.path.join(d, f)); sys.exit(1)
PY
echo "ok: the key is in no file of the state, the tokens or the shares"

# Restore into a fresh token: each refusal names the share and leaves the
# token without a wrap key.
ids=(--identity "$T/id1" --identity "$T/id2" --identity "$T/id3" --identity "$T/id4" --identity "$T/ssh5")
S="$T/shares"
expect_fail "holds a wrap key already" "$ROMBSR_SIGN" wrap-key restore --share "$S/share-1.age" \
	--share "$S/share-2.age" --share "$S/share-3.age" "${ids[@]}"
# A second split, for the mixed-splits case, then fresh tokens.
"$ROMBSR_SIGN" hsm-provision --force >/dev/null 2>&1
"$ROMBSR_SIGN" wrap-key create --threshold 3 --shares 5 "${RECIPIENTS[@]}" --out "$T/other" 2>/dev/null
"$ROMBSR_SIGN" hsm-provision --force >/dev/null 2>&1
no_wrap_key "fresh token"
reencrypt() { # TEXT_FILE OUT_FILE CUSTODIAN_NUMBER
	age -r "$(age-keygen -y "$T/id$3")" -o "$2" "$1"
}
# A corrupt share: one digit of its share line changed.
sed 's/^\(share \)\(.\)/\1x\2/; s/^share x0/share 1/; s/^share x[^0]/share 0/' "$T/raw/share-2.txt" > "$T/bad2.txt"
cmp -s "$T/bad2.txt" "$T/raw/share-2.txt" && fail "corruption did not change the share"
reencrypt "$T/bad2.txt" "$T/corrupt-2.age" 2
# A forged share: changed and its integrity line recomputed; only the check
# value of the secret catches it.
python3 - "$T/raw/share-3.txt" "$T/forged3.txt" <<'PY'
import hashlib, sys
lines = open(sys.argv[1]).read().splitlines(keepends=True)
out = []
for l in lines[:-1]:
    if l.startswith("share "):
        v = bytearray(bytes.fromhex(l.split()[1])); v[0] ^= 1; l = "share " + v.hex() + "\n"
    out.append(l)
body = "".join(out)
open(sys.argv[2], "w").write(body + "integrity " + hashlib.sha256(body.encode()).hexdigest() + "\n")
PY
reencrypt "$T/forged3.txt" "$T/forged-3.age" 3
printf 'not a share\n' > "$T/hello.txt"
reencrypt "$T/hello.txt" "$T/hello.age" 1
expect_fail "2 shares given ($S/share-1.age, …); this split needs 3" "$ROMBSR_SIGN" wrap-key restore \
	--share "$S/share-1.age" --share "$S/share-4.age" "${ids[@]}"
expect_fail "$T/corrupt-2.age: the share is corrupt" "$ROMBSR_SIGN" wrap-key restore \
	--share "$S/share-1.age" --share "$T/corrupt-2.age" --share "$S/share-3.age" "${ids[@]}"
expect_fail "do not combine to the secret they were split from" "$ROMBSR_SIGN" wrap-key restore \
	--share "$S/share-1.age" --share "$S/share-2.age" --share "$T/forged-3.age" "${ids[@]}"
expect_fail "$T/other/share-3.age is a share of secret" "$ROMBSR_SIGN" wrap-key restore \
	--share "$S/share-1.age" --share "$S/share-2.age" --share "$T/other/share-3.age" "${ids[@]}"
expect_fail "$S/share-2.age and $S/share-2.age are the same share (index 2)" "$ROMBSR_SIGN" wrap-key restore \
	--share "$S/share-1.age" --share "$S/share-2.age" --share "$S/share-2.age" "${ids[@]}"
expect_fail "$T/hello.age: not a ROMbsr wrap-key share" "$ROMBSR_SIGN" wrap-key restore \
	--share "$S/share-1.age" --share "$T/hello.age" --share "$S/share-3.age" "${ids[@]}"
expect_fail "$T/raw/share-1.txt does not decrypt with the identities given" "$ROMBSR_SIGN" wrap-key restore \
	--share "$T/raw/share-1.txt" --share "$S/share-2.age" --share "$S/share-3.age" "${ids[@]}"
expect_fail "$S/share-4.age does not decrypt with the identities given" "$ROMBSR_SIGN" wrap-key restore \
	--share "$S/share-1.age" --share "$S/share-2.age" --share "$S/share-4.age" --identity "$T/id1" --identity "$T/id2"
no_wrap_key "after the refused restores"

# Any three, here with the ssh-ed25519 custodian's: the same wrap key (ID).
"$ROMBSR_SIGN" wrap-key restore --share "$S/share-5.age" --share "$S/share-2.age" --share "$S/share-4.age" \
	--identity "$T/ssh5" --identity "$T/id2" --identity "$T/id4" 2>"$T/restore.log"
grep -q "wrap key $secret_id rebuilt from 3 shares" "$T/restore.log" || fail "restore said: $(cat "$T/restore.log")"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$(cat "$T/state/pins/release.pin")" \
	--list-objects --type secrkey 2>/dev/null |
	grep -q "ID: *$secret_id" || fail "the token's wrap key does not carry the secret ID"
echo "wrap-key shares ok"
