# rombsr apply refuses every response it cannot trust or use, with one
# line, exit 3 for a failed verification (1 for a rejection or nothing to
# apply yet), and writes nothing: altered signature bytes, the wrong key,
# a key outside the bundle, reordered or missing signatures, a rejection,
# a response for another request, another request commit or another sign
# node, a truncated one, one committed by the build node (on a queue
# without the hook, which would have refused the push), a rewritten
# history, and a tampered earlier round. Also: --timeout waits for the
# response, and a command after -- runs in replay mode with its exit status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_apply_queue
capture_journal
RSA_ID=$(bundle_id platform)
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/platform.pub"

# Nothing to apply yet.
id=$(submit_journal "$BUILD_CONF")
refused 1 "no response to request $id yet" "$T/out.json" apply_build --request "$id" --out "$T/out.json"
refused 1 "no response to request $id after 1 s" "$T/out.json" apply_build --request "$id" --out "$T/out.json" \
	--timeout 1
refused 1 "request 20000101$(printf '%024d' 0) is not in the queue" "$T/out.json" apply_build \
	--request "20000101$(printf '%024d' 0)" --out "$T/out.json"
refused 1 "is not a request ID" "$T/out.json" apply_build --request XYZ --out "$T/out.json"
# 32 hex digits, but no date: the form of IDs before they were dated.
refused 1 "is not a request ID" "$T/out.json" apply_build --request "$(printf '%032d' 0)" --out "$T/out.json"

# The good case, with apply already waiting when the response lands.
apply_build --request "$id" --out "$T/good.json" --replay-config "$T/replay.conf" --timeout 60 > "$T/good.out" &
waiting=$!
sleep 1
respond_and_push "$T/sign-clone" "$id"
wait "$waiting" || fail "apply did not pick up the response while waiting"
grep -q "^applied request $id: 2 signatures verified" "$T/good.out" || fail "apply output: $(cat "$T/good.out")"
[ "$(jq -r .format "$T/good.json")" = rombsr.capture-signatures ] || fail "not a signature set"
[ "$(jq '.signatures | length' "$T/good.json")" -eq 2 ] || fail "expected 2 signatures"
grep -qx 'mode = replay' "$T/replay.conf" || fail "replay config mode"
grep -qx "bundle = $(realpath "$T/bundle")" "$T/replay.conf" || fail "replay config bundle"
grep -qx "signatures = $(realpath "$T/good.json")" "$T/replay.conf" || fail "replay config signatures"
# The set is the one the sign side's stand-in makes from the journal
# (PKCS#1 v1.5 is deterministic).
sign_journal "$T/journal.jsonl" "$T/reference.json" 2>/dev/null
cmp <(jq -S '.signatures | sort_by(.tbs)' "$T/good.json") <(jq -S '.signatures | sort_by(.tbs)' "$T/reference.json") ||
	fail "apply's signature set differs from the one signed from the journal"
# Replay through the capture module: real signatures, verified by openssl.
apply_build --request "$id" --out "$T/good2.json" -- env SOFTHSM2_CONF="$T/no-token.conf" ${CAP_ENV[@]+"${CAP_ENV[@]}"} \
	pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m SHA256-RSA-PKCS --id "$RSA_ID" \
	-i "$T/artifact1.bin" -o "$T/artifact1.sig" >/dev/null 2>&1 || fail "replay through apply failed"
openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/artifact1.sig" "$T/artifact1.bin" >/dev/null ||
	fail "replayed signature does not verify"
# The command's exit status is apply's, and it sees the replay config.
rc=0
apply_build --request "$id" --out "$T/good3.json" -- sh -c \
	'grep -qx "mode = replay" "$ROMBSR_CAPTURE_CONFIG" && exit 7; exit 1' >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 7 ] || fail "apply returned $rc, the command exited 7"
# A tampered earlier round is refused before anything is fetched.
python3 - "$T/good.json" "$T/tampered.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["signatures"][1]["signature"]
d["signatures"][1]["signature"] = s[:100] + ("0" if s[100] != "0" else "1") + s[101:]
json.dump(d, open(sys.argv[2], "w"))
PY
refused 3 "signatures[1]: key 'platform'" "$T/out.json" apply_build --request "$id" --out "$T/out.json" \
	--merge "$T/tampered.json"

# flip FILE N: alters one byte of signature N of a response.
flip() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["signatures"][int(sys.argv[2])]["signature"]
d["signatures"][int(sys.argv[2])]["signature"] = s[:200] + ("0" if s[200] != "0" else "1") + s[201:]
json.dump(d, open(sys.argv[1], "w"), indent=2, sort_keys=True)
PY
}

# Signature bytes altered after signing: the sign key committed it, so the
# hook lets it in; apply does not.
id=$(submit_journal "$BUILD_CONF")
make_response "$T/sign-clone" "$id" "$T/r.json"
flip "$T/r.json" 1
push_response "$T/sign-clone" "$id" "$T/r.json" || fail "the hook refused a response by the sign key"
spki=$(jq -r '.keys[] | select(.label == "platform") | .spki_sha256' "$T/bundle/manifest.json")
refused 3 "operation 1: key 'platform' (${spki:0:16}...): CKM_SHA256_RSA_PKCS signature does not verify" "$T/out.json" \
	apply_build --request "$id" --out "$T/out.json"

# Signed in the HSM, but with another bundle key than the operation names.
id=$(submit_journal "$BUILD_CONF")
respond_and_push "$T/sign-clone" "$id" --sign-with media
refused 3 "operation 0: key 'platform'" "$T/out.json" apply_build --request "$id" --out "$T/out.json"

# Signed by a key that is in no bundle.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$T/foreign.pem" 2>/dev/null
id=$(submit_journal "$BUILD_CONF")
make_response "$T/sign-clone" "$id" "$T/r.json"
python3 - "$T/r.json" "$T/foreign.pem" <<'PY'
import json, subprocess, sys
d = json.load(open(sys.argv[1]))
for s in d["signatures"]:
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", sys.argv[2], "-pkeyopt", "digest:sha256"],
                         input=bytes.fromhex(s["tbs"]), capture_output=True, check=True).stdout
    s["signature"] = sig.hex()
json.dump(d, open(sys.argv[1], "w"), indent=2, sort_keys=True)
PY
push_response "$T/sign-clone" "$id" "$T/r.json" || fail "push refused"
refused 3 "signature does not verify" "$T/out.json" apply_build --request "$id" --out "$T/out.json"

# The same, claiming the foreign key as the operation's key.
foreign_spki=$(openssl pkey -in "$T/foreign.pem" -pubout -outform DER | sha256sum | cut -d' ' -f1)
altered "$T/sign-clone" ".signatures[0].spki_sha256 = \"$foreign_spki\"" \
	"signature 0 is not for operation 0 (key 'platform', CKM_SHA256_RSA_PKCS): it names another key fingerprint"
# Good signatures, in another order than the request's operations.
altered "$T/sign-clone" '.signatures |= reverse' \
	"signature 0 is not for operation 0 (key 'platform', CKM_SHA256_RSA_PKCS): it signs another digest"
# A signature missing.
altered "$T/sign-clone" 'del(.signatures[1])' "carries 1 signatures for 2 operations"

# A rejection: the reason, exit 1.
id=$(submit_journal "$BUILD_CONF")
respond_and_push "$T/sign-clone" "$id" --reject testkey-in-release "the testkey never signs a release build"
refused 1 "request $id was rejected by sign node $FPR_SIGN: testkey-in-release: the testkey never signs a release build" \
	"$T/out.json" apply_build --request "$id" --out "$T/out.json"

# A response committed by the build node: the hook refuses the push.
id=$(submit_journal "$BUILD_CONF")
queue_clone_as build "$QUEUE_URL" "$T/build-clone"
make_response "$T/sign-clone" "$id" "$T/r.json"
if push_response "$T/build-clone" "$id" "$T/r.json" build; then
	fail "the hook accepted a response committed by the build node"
fi
grep -q "only a key with the sign role may add a response" "$T/push.err" || fail "hook refusal: $(cat "$T/push.err")"
echo "ok: hook refused the build node's response"

# The rest needs a queue without the hook, where anything signed lands and
# apply alone has to refuse it.
"$ROMBSR" --config "$ADMIN_CONF" queue-init --bare "$T/nohook.git" --no-hook \
	--build "$FPR_BUILD" --sign "$FPR_SIGN" 2>/dev/null
git -C "$T/nohook.git" config daemon.receivepack true
[ ! -e "$T/nohook.git/hooks/pre-receive" ] || fail "hook installed with --no-hook"
NOHOOK_URL="git://127.0.0.1:$GIT_PORT/nohook.git"
mkdir -p "$T/node-build2"
sed -e "s|$T/node-build/state|$T/node-build2/state|" -e "s|$QUEUE_URL|$NOHOOK_URL|" "$BUILD_CONF" > "$T/node-build2/rombsr.conf"
BUILD_CONF=$T/node-build2/rombsr.conf
queue_clone_as sign "$NOHOOK_URL" "$T/sign-clone2"
queue_clone_as build "$NOHOOK_URL" "$T/build-clone2"

# A good one first, so the rewritten history below has a head to forget.
id=$(submit_journal "$BUILD_CONF")
respond_and_push "$T/sign-clone2" "$id"
apply_build --request "$id" --out "$T/good-nohook.json" >/dev/null || fail "apply on the hook-less queue"
rm -f "$T/good-nohook.json"

# The response file of one request holding the answer to another.
first=$(submit_journal "$BUILD_CONF")
second=$(submit_journal "$BUILD_CONF")
make_response "$T/sign-clone2" "$second" "$T/r.json"
push_response "$T/sign-clone2" "$first" "$T/r.json" || fail "push refused"
refused 3 "the response answers request $second, not $first" "$T/out.json" \
	apply_build --request "$first" --out "$T/out.json"
# Naming another commit than the one that carried the request, or another
# sign node than the key that committed it.
altered "$T/sign-clone2" ".request_commit = \"$(git -C "$T/sign-clone2" rev-list --max-parents=0 HEAD)\"" \
	"names request commit"
altered "$T/sign-clone2" ".sign_node = \"$FPR_OPERATOR\"" \
	"names sign node $FPR_OPERATOR but was committed by $FPR_SIGN"
# A field the format does not know, and a truncated response.
altered "$T/sign-clone2" '.signatures[0].extra = 1' "malformed response: response.signatures[0]: unknown field 'extra'"
id=$(submit_journal "$BUILD_CONF")
make_response "$T/sign-clone2" "$id" "$T/r.json"
head -c 700 "$T/r.json" > "$T/r2.json"
push_response "$T/sign-clone2" "$id" "$T/r2.json" || fail "push refused"
refused 3 "malformed response: response: not valid JSON" "$T/out.json" apply_build --request "$id" --out "$T/out.json"

# History rewritten under the build node: the head it verified is gone.
head=$(git -C "$T/sign-clone2" rev-parse HEAD)
git -C "$T/sign-clone2" push -q -f origin HEAD~1:main
refused 3 "history rewritten" "$T/out.json" apply_build --request "$id" --out "$T/out.json"
git -C "$T/sign-clone2" push -q origin "$head:main"

# Last (it poisons this queue's history): a response the build node
# committed, which only the missing hook let in.
id=$(submit_journal "$BUILD_CONF")
make_response "$T/sign-clone2" "$id" "$T/r.json"
push_response "$T/build-clone2" "$id" "$T/r.json" build || fail "push to the hook-less queue refused"
refused 3 "only a key with the sign role may add a response" "$T/out.json" \
	apply_build --request "$id" --out "$T/out.json"
echo "apply refusals ok"
