# The audit log in the queue: a sign node's passes leave entries and signed
# checkpoints beside the responses; audit-verify on a clone checks them
# clean, and finds each kind of tampering (edited, reordered, deleted
# entries, a checkpoint re-signed by another key, a response that does not
# match the log, a missing response) and a fork signed with the real audit
# key (made here straight through the HSM, as a stolen key would).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

audit_queue
A=$(auditor audit-main)
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" > "$T/ok.txt" || fail "audit-verify of a clean queue"
cat "$T/ok.txt"
grep -q '^audit ok: .* 3 responses and 4 signatures match the log, latest checkpoint' "$T/ok.txt" ||
	fail "audit-verify summary: $(cat "$T/ok.txt")"
# Each response carries its place in the log and a proof.
resp=$(git -C "$T/queue.git" ls-tree -r --name-only main responses | head -1)
git -C "$T/queue.git" show "main:$resp" | jq -e '.audit.index >= 0 and (.audit.proof | length) > 3' >/dev/null ||
	fail "response without an audit proof"
# Without a trusted key nothing is accepted.
printf '[core]\n\tstate-dir = %s\n' "$T/nokey" > "$T/nokey.conf"
expect_fail "no audit verifier key" "$ROMBSR" --config "$T/nokey.conf" audit-verify --repo "$T/queue.git"

# tamper NAME: a working clone to damage; audit-verify must then exit 3.
tamper() {
	rm -rf "$T/t-$1"
	git clone -q "$T/queue.git" "$T/t-$1"
}
commit_tamper() {
	git -C "$T/t-$1" -c user.name=x -c user.email=x@x commit -qam "$1" 2>/dev/null ||
		git -C "$T/t-$1" -c user.name=x -c user.email=x@x commit -q -m "$1"
}
expect_insecure() { # WANT NAME
	local out rc=0
	out=$("$ROMBSR" --config "$(auditor "a-$2")" audit-verify --repo "$T/t-$2" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -eq 3 ] || fail "$2: exit $rc, expected 3: $out"
	case "$out" in *"$1"*) ;; *) fail "$2: error lacks '$1': $out" ;; esac
	echo "ok: $2: $out"
}
first_chunk() { git -C "$T/t-$1" ls-files audit/entries | sort | head -1; }
last_chunk() { git -C "$T/t-$1" ls-files audit/entries | sort | tail -1; }

tamper edit
sed -i '1s/"result":"ok"/"result":"failed"/' "$T/t-edit/$(first_chunk edit)"
commit_tamper edit
expect_insecure "tampered with from entry 0" edit

tamper reorder
c="$T/t-reorder/$(first_chunk reorder)"
{ sed -n 2p "$c"; sed -n 1p "$c"; sed -n '3,$p' "$c"; } > "$c.new" && mv "$c.new" "$c"
commit_tamper reorder
expect_insecure "tampered with from entry 0" reorder

tamper delete
git -C "$T/t-delete" rm -q "$(last_chunk delete)"
commit_tamper delete
expect_insecure "are missing" delete

tamper gap
c=$(first_chunk gap)
sed -i '2d' "$T/t-gap/$c"
commit_tamper gap
expect_insecure "starts at entry" gap

# A checkpoint signed by a key that is not the audit key.
tamper resign
cp=$(git -C "$T/t-resign" ls-files audit/checkpoints | sort | tail -1)
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.pem" 2>/dev/null
head -n 3 "$T/t-resign/$cp" > "$T/body"
openssl dgst -sha256 -sign "$T/other.pem" -out "$T/other.sig" "$T/body"
openssl ec -in "$T/other.pem" -pubout -outform DER -out "$T/other.spki" 2>/dev/null
python3 - "$T/body" "$T/other.spki" "$T/other.sig" > "$T/t-resign/$cp" <<'PY'
import base64, hashlib, sys
body, spki, sig = (open(p, "rb").read() for p in sys.argv[1:4])
sys.stdout.write(body.decode() + "\n\u2014 rombsr.local/audit " +
                 base64.b64encode(hashlib.sha256(spki).digest()[:4] + sig).decode() + "\n")
PY
commit_tamper resign
expect_insecure "no signature from a trusted key" resign

# A response whose audit index points elsewhere, and a missing response.
tamper response
jq '.audit.index += 1' "$T/t-response/$resp" > "$T/r.json" && mv "$T/r.json" "$T/t-response/$resp"
commit_tamper response
expect_insecure "$resp" response
tamper noresponse
git -C "$T/t-noresponse" rm -q "$resp"
commit_tamper noresponse
expect_insecure "has no response in the queue" noresponse

# A fork: the same size, another last entry, signed by the real audit key
# straight through the HSM. The auditor that accepted the real checkpoint
# reports both.
tamper fork
c="$T/t-fork/$(last_chunk fork)"
python3 - "$c" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
e = json.loads(lines[-1])
e["detail" if "detail" in e else "request_commit"] = ("forged" if "detail" in e else "f" * 40)
lines[-1] = json.dumps(e, sort_keys=True, separators=(",", ":"))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
cp=$(git -C "$T/t-fork" ls-files audit/checkpoints | sort | tail -1)
python3 - "$T/t-fork" > "$T/fork.txt" <<'PY'
import base64, hashlib, subprocess, sys
root = sys.argv[1]
files = sorted(subprocess.run(["git", "-C", root, "ls-files", "audit/entries"], capture_output=True, text=True).stdout.split())
leaves = [l for f in files for l in open(f"{root}/{f}", "rb").read().split(b"\n")[:-1]]
def mth(d):
    if len(d) == 1:
        return hashlib.sha256(b"\0" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\1" + mth(d[:k]) + mth(d[k:])).digest()
print(len(leaves), base64.b64encode(mth(leaves)).decode())
PY
read -r size root < "$T/fork.txt"
[ "$cp" = "$(git -C "$T/t-fork" ls-files audit/checkpoints | grep "/$(printf '%020d' "$size")$")" ] ||
	fail "the newest checkpoint does not cover the whole log"
printf 'rombsr.local/audit\n%s\n%s\n' "$size" "$root" > "$T/fork-body"
digest=$(sha256sum "$T/fork-body" | cut -d' ' -f1)
"$ROMBSR_BUILD/tools/hsm-sign" "$SOFTHSM_MODULE" pkcs11:token=rombsr-audit "$T/state/pins/audit.pin" audit \
	ecdsa-sha256 "$digest" "$T/fork.sig" || fail "hsm-sign with the audit key"
keyid=$(cut -d+ -f2 "$T/bundle/audit.vkey")
python3 - "$T/fork-body" "$keyid" "$T/fork.sig" > "$T/t-fork/$cp" <<'PY'
import base64, sys
body = open(sys.argv[1]).read()
sig = bytes.fromhex(sys.argv[2]) + open(sys.argv[3], "rb").read()
sys.stdout.write(body + "\n\u2014 rombsr.local/audit " + base64.b64encode(sig).decode() + "\n")
PY
commit_tamper fork
rc=0
"$ROMBSR" --config "$A" audit-verify --repo "$T/t-fork" > /dev/null 2> "$T/fork.err" || rc=$?
cat "$T/fork.err"
[ "$rc" -eq 3 ] || fail "fork: exit $rc"
grep -q "FORK" "$T/fork.err" && grep -q "accepted earlier: origin rombsr.local/audit, $size entries" "$T/fork.err" &&
	grep -q "now signed: origin rombsr.local/audit, $size entries" "$T/fork.err" || fail "fork not reported with both checkpoints"

# The real queue still verifies for the auditor that saw the fork attempt.
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "the real log after the fork attempt"
echo "audit queue ok"
