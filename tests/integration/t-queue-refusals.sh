# Every refusal of the signing queue, pushed with real git over git:// to a
# bare queue whose pre-receive hook is rombsr, with commits signed by real
# gpg keys (one throwaway GnuPG home per identity). For each: the push is
# refused with a message that says why, the queue's refs are unchanged and
# the refused commit's objects did not land; where the bad commit can sit in
# a clone, `rombsr queue-verify --repo` of that clone exits 3 naming the
# problem. Closes with `rombsr submit` refusing an unsafe artifact name
# before anything is pushed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"

with_queue
gpg_identity stranger    # in no keyring of the queue
gpg_identity build2      # a build node, revoked later
gpg_identity admin2      # listed as admin in trust.json, but pinned nowhere
QUEUE="$T/queue.git"
W="$T/work"
git_clone_as tester "$W"

HEX64=$(printf 'ab%.0s' $(seq 32))
utc() { date -u -d "${1:-now}" +%Y-%m-%dT%H:%M:%SZ; }

# request ID BUILD_NODE [JQ_FILTER]: a well-formed version 1 request on
# stdout, created on the date its ID names (see id_time), then edited by
# JQ_FILTER.
request() {
	jq -n --arg id "$1" --arg node "$2" --arg created "$(id_time "$1")" --arg expires "$(id_time "$1" '+1 day')" \
		--arg h "$HEX64" '{
		format: "rombsr.request", version: 1, id: $id, created: $created, expires: $expires,
		authority: "release", round: 1,
		build: {product: "sample_phone", build_id: "TEST.1", build_type: "user", build_node: $node,
			source_commit: "abcdef0000000000000000000000000000000007"},
		artifacts: [{name: "out/system.img", sha256: $h, size: 13}],
		operations: [{key: "platform", spki_sha256: $h, mechanism: "CKM_SHA256_RSA_PKCS", tbs: $h}]
	}' | jq "${3:-.}"
}

# put FILE: writes stdin to FILE in the working clone and stages it.
put() {
	mkdir -p "$(dirname "$W/$1")"
	cat > "$W/$1"
	git -C "$W" add "$1"
}

# sign_commit WHO MESSAGE: commits what is staged, signed by WHO's key.
sign_commit() {
	GNUPGHOME="$T/gpg-$1" git -C "$W" -c user.signingkey="$(gpg_fpr "$1")" -c user.name="$1" \
		-c user.email="$1@rombsr.test" commit -q -S -m "$2"
}

reset_work() {
	git -C "$W" checkout -q main
	git -C "$W" fetch -q origin
	git -C "$W" reset -q --hard origin/main
	git -C "$W" clean -qfdx
}

queue_refs() { git -C "$QUEUE" for-each-ref --format='%(refname) %(objectname)'; }

push_ok() {
	git -C "$W" push -q origin HEAD:refs/heads/main 2>"$T/push.err" || fail "push refused: $(cat "$T/push.err")"
	[ "$(git -C "$QUEUE" rev-parse main)" = "$(git -C "$W" rev-parse HEAD)" ] || fail "push did not land"
}

# push_refused WANT [REFSPEC]: pushing from the working clone is refused by
# the hook with a message containing WANT; nothing lands.
push_refused() {
	local want=$1 spec=${2:-HEAD:refs/heads/main}
	local before out rc=0 pushed had=0 line
	before=$(queue_refs)
	pushed=$(git -C "$W" rev-parse HEAD)
	git -C "$QUEUE" cat-file -e "$pushed^{commit}" 2>/dev/null && had=1
	out=$(git -C "$W" push origin "$spec" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "push accepted, expected a refusal naming '$want'"
	line=$(printf '%s\n' "$out" | grep -F 'remote: rombsr queue-hook: refused: ' || true)
	case "$line" in
	*"$want"*) ;;
	*) fail "refusal lacks '$want'; git said: $out" ;;
	esac
	[ "$(queue_refs)" = "$before" ] || fail "the queue's refs changed after a refused push ($want)"
	if [ "$had" -eq 0 ] && git -C "$QUEUE" cat-file -e "$pushed^{commit}" 2>/dev/null; then
		fail "the refused commit $pushed landed in the queue's objects ($want)"
	fi
	echo "ok: push refused: ${line#remote: }"
}

# verify_refused WANT [STATE]: queue-verify of the working clone's main
# branch exits 3 with one line naming WANT. A fresh state folder unless
# STATE names one (for the remembered head).
nverify=0
verify_refused() {
	local want=$1 state=${2:-}
	local out rc=0 conf
	nverify=$((nverify + 1))
	[ -n "$state" ] || state="$T/verify-$nverify"
	conf="$T/verify-$nverify.conf"
	printf '[core]\n\tstate-dir = %s\n[queue]\n\tadmin = %s\n' "$state" "$FPR_ADMIN" > "$conf"
	out=$("$ROMBSR" --config "$conf" queue-verify --repo "$W" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -eq 3 ] || fail "queue-verify exited $rc, not 3 ($want): $out"
	case "$out" in
	*"$want"*) ;;
	*) fail "queue-verify lacks '$want': $out" ;;
	esac
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "queue-verify error is not one line: $out"
	echo "ok: verify refused: $out"
}

verify_ok() {
	local conf="$T/verify-ok.conf"
	printf '[core]\n\tstate-dir = %s\n[queue]\n\tadmin = %s\n' "${2:-$T/verify-ok}" "$FPR_ADMIN" > "$conf"
	"$ROMBSR" --config "$conf" queue-verify --repo "$1" | grep -q '^queue ok' || fail "queue-verify of $1"
}

# admin_add ROLE NAME: the pinned admin lists NAME's key under ROLE, with its
# key file, in a signed commit that lands.
admin_add() {
	local role=$1 name=$2 fpr
	fpr=$(gpg_fpr "$name")
	reset_work
	GNUPGHOME="$T/gpg-$name" gpg --batch --export --armor "$fpr" 2>/dev/null | put "trust/keys/$fpr.asc"
	jq --arg r "$role" --arg f "$fpr" '.roles[$r] += [$f]' "$W/trust/trust.json" > "$T/trust.json"
	put trust/trust.json < "$T/trust.json"
	sign_commit admin "trust: $name as $role"
	push_ok
}

# ---------------------------------------------------------------------------
# Set up: what is accepted, so each refusal below is about one thing only.

# A build node's request, committed and signed by git itself, lands.
R1=$(new_id)
request "$R1" "$FPR_BUILD" | put "$(req_path "$R1")"
sign_commit build "request $R1"
push_ok
R1_COMMIT=$(git -C "$W" rev-parse HEAD)

# The sign node's (rejecting) response to it lands.
jq -n --arg id "$R1" --arg c "$R1_COMMIT" --arg node "$FPR_SIGN" --arg t "$(utc)" '{
	format: "rombsr.response", version: 1, request_id: $id, request_commit: $c, status: "rejected",
	reason: {code: "test-only", message: "made by the refusal tests"}, sign_node: $node, time: $t}' |
	put "$(resp_path "$R1")"
sign_commit sign "response $R1"
push_ok

admin_add build build2
admin_add admin admin2

# build2 may add a request while its key is good.
reset_work
R2=$(new_id)
request "$R2" "$FPR_BUILD2" | put "$(req_path "$R2")"
sign_commit build2 "request $R2"
push_ok

# The admin revokes build2: its revocation certificate (GnuPG made one with
# the key) goes into the queue with its key file.
gpg_share build2 admin
sed 's/^:-----BEGIN/-----BEGIN/' "$T/gpg-build2/openpgp-revocs.d/$FPR_BUILD2.rev" > "$T/build2.rev"
GNUPGHOME="$T/gpg-admin" gpg --batch --quiet --import "$T/build2.rev" 2>/dev/null
reset_work
GNUPGHOME="$T/gpg-admin" gpg --batch --export --armor "$FPR_BUILD2" 2>/dev/null | put "trust/keys/$FPR_BUILD2.asc"
sign_commit admin "trust: revoke build2"
push_ok
# The revocation does not make build2's earlier request a bad commit.
verify_ok "$W"

# A key that expires soon: listed, then it signs a request while still
# valid. That commit is pushed only after the key expired (at the end).
EXPIRE_SECONDS=20
gpg_identity expiring "seconds=$EXPIRE_SECONDS"
EXPIRES_AT=$(($(date +%s) + EXPIRE_SECONDS))
admin_add build expiring
REXP=$(new_id)
request "$REXP" "$FPR_EXPIRING" | put "$(req_path "$REXP")"
sign_commit expiring "request $REXP"
git -C "$W" branch -q expired-commit HEAD
[ "$(date +%s)" -lt "$EXPIRES_AT" ] || fail "the expiring key expired during set-up: raise EXPIRE_SECONDS"
reset_work
# Nothing lands from here on, so the expired commit stays a fast-forward.
HEAD_BEFORE=$(git -C "$QUEUE" rev-parse main)

# The remembered head of a verifier, for the rewrite case.
verify_ok "$W" "$T/remembering"

# ---------------------------------------------------------------------------
# Signatures.

reset_work
R=$(new_id)
request "$R" "$FPR_BUILD" | put "$(req_path "$R")"
git -C "$W" commit -q -m "unsigned request"
push_refused "is not signed"
verify_refused "is not signed"

reset_work
request "$R" "$FPR_STRANGER" | put "$(req_path "$R")"
sign_commit stranger "request by a stranger"
push_refused "signed by an unknown key"
verify_refused "signed by an unknown key"

reset_work
request "$R" "$FPR_BUILD2" | put "$(req_path "$R")"
sign_commit build2 "request by a revoked key"
push_refused "signed by a revoked key $FPR_BUILD2"
verify_refused "signed by a revoked key"

# ---------------------------------------------------------------------------
# Roles and the append-only rule.

reset_work
jq -n --arg id "$R2" --arg node "$FPR_BUILD" --arg t "$(utc)" '{format: "rombsr.response", version: 1,
	request_id: $id, request_commit: "0000000000000000000000000000000000000001", status: "rejected",
	reason: {code: "forged", message: "by the build node"}, sign_node: $node, time: $t}' | put "$(resp_path "$R2")"
sign_commit build "response by the build node"
push_refused "$(resp_path "$R2"): only a key with the sign role may add a response"
verify_refused "only a key with the sign role may add a response"

reset_work
jq -n --arg id "$R" --arg node "$FPR_SIGN" --arg t "$(utc)" '{format: "rombsr.response", version: 1,
	request_id: $id, request_commit: "0000000000000000000000000000000000000001", status: "rejected",
	reason: {code: "nothing", message: "no request"}, sign_node: $node, time: $t}' | put "$(resp_path "$R")"
sign_commit sign "response to nothing"
push_refused "$(resp_path "$R"): there is no such request"
verify_refused "there is no such request"

reset_work
printf '{}\n' | put "$(approval_path "$R1" "$FPR_OPERATOR")"
sign_commit build "approval by the build node"
push_refused "only a key with the operator role may approve"

reset_work
printf '{}\n' | put "$(approval_path "$R1" "$FPR_ADMIN")"
sign_commit operator "approval in another's name"
push_refused "an approval must be committed by the operator it names"

for who in build admin sign; do
	reset_work
	request "$R1" "$FPR_BUILD" '.round = 2' | put "$(req_path "$R1")"
	sign_commit "$who" "edit request by $who"
	push_refused "$(req_path "$R1"): requests, responses and approvals are never modified"
done
verify_refused "requests, responses and approvals are never modified"

for who in build admin; do
	reset_work
	git -C "$W" rm -q "$(req_path "$R2")"
	sign_commit "$who" "delete request by $who"
	push_refused "$(req_path "$R2"): requests, responses and approvals are never deleted"
done
verify_refused "requests, responses and approvals are never deleted"

reset_work
jq '.reason.message = "edited"' "$W/$(resp_path "$R1")" > "$T/edited.json"
put "$(resp_path "$R1")" < "$T/edited.json"
sign_commit sign "edit response"
push_refused "$(resp_path "$R1"): requests, responses and approvals are never modified"

reset_work
git -C "$W" rm -q "$(resp_path "$R1")"
sign_commit admin "delete response"
push_refused "$(resp_path "$R1"): requests, responses and approvals are never deleted"

# A deletion hidden beside a good new request (as a rename would be) is
# still a deletion.
reset_work
git -C "$W" rm -q "$(req_path "$R1")"
request "$R" "$FPR_BUILD" | put "$(req_path "$R")"
sign_commit build "replace request"
push_refused "$(req_path "$R1"): requests, responses and approvals are never deleted"

# ---------------------------------------------------------------------------
# The trust file, key files and policy: pinned admins only.

for who in build admin2 sign operator; do
	reset_work
	jq --arg f "$FPR_STRANGER" '.roles.build += [$f]' "$W/trust/trust.json" > "$T/trust.json"
	put trust/trust.json < "$T/trust.json"
	sign_commit "$who" "trust changed by $who"
	push_refused "trust/trust.json: only an admin pinned in the sign node's configuration may change it"
done
verify_refused "trust/trust.json: only an admin pinned"

reset_work
jq --arg f "$FPR_BUILD" '.roles.admin += [$f]' "$W/trust/trust.json" > "$T/trust.json"
put trust/trust.json < "$T/trust.json"
sign_commit build "build node promotes itself"
push_refused "trust/trust.json: only an admin pinned"

reset_work
GNUPGHOME="$T/gpg-stranger" gpg --batch --export --armor "$FPR_STRANGER" 2>/dev/null | put "trust/keys/$FPR_STRANGER.asc"
sign_commit build "key file added by the build node"
push_refused "trust/keys/$FPR_STRANGER.asc: only an admin pinned"

reset_work
git -C "$W" rm -q "trust/keys/$FPR_ADMIN.asc"
sign_commit admin2 "admin key removed by admin2"
push_refused "trust/keys/$FPR_ADMIN.asc: only an admin pinned"

reset_work
printf 'anything\n' | put policy/keys.conf
sign_commit admin2 "policy by admin2"
push_refused "policy/keys.conf: only an admin pinned"

# Even the pinned admin cannot list a key the queue does not carry.
reset_work
jq --arg f "$FPR_STRANGER" '.roles.build += [$f]' "$W/trust/trust.json" > "$T/trust.json"
put trust/trust.json < "$T/trust.json"
sign_commit admin "trust names a key without its key file"
push_refused "trust/trust.json: names a key that trust/keys/ does not carry"

reset_work
printf '{"format": "rombsr.trust", "version": 2, "roles": {}}\n' | put trust/trust.json
sign_commit admin "malformed trust file"
push_refused "trust/trust.json"

# ---------------------------------------------------------------------------
# History: the queue is one linear branch that only moves forward.

reset_work
git -C "$W" reset -q --hard HEAD^
request "$R" "$FPR_BUILD" | put "$(req_path "$R")"
sign_commit build "rewritten history"
push_refused "not a fast-forward: the queue's history is never rewritten" "+HEAD:refs/heads/main"
verify_refused "history rewritten" "$T/remembering"

reset_work
push_refused "refs/heads/main: deleting the queue's branch is not allowed" ":refs/heads/main"

reset_work
request "$R" "$FPR_BUILD" | put "$(req_path "$R")"
sign_commit build "request on another branch"
push_refused "refs/heads/other: the queue has one branch" "HEAD:refs/heads/other"
GNUPGHOME="$T/gpg-build" git -C "$W" -c user.signingkey="$FPR_BUILD" tag -s -m tag v1
push_refused "refs/tags/v1: the queue has one branch" "refs/tags/v1"
git -C "$W" tag -d v1 >/dev/null

reset_work
git -C "$W" checkout -q -b side
RS=$(new_id)
request "$RS" "$FPR_BUILD" | put "$(req_path "$RS")"
sign_commit build "request on a side branch"
git -C "$W" checkout -q main
request "$R" "$FPR_BUILD" | put "$(req_path "$R")"
sign_commit build "request on main"
GNUPGHOME="$T/gpg-build" git -C "$W" -c user.signingkey="$FPR_BUILD" merge -q -S --no-ff -m merge side
[ "$(git -C "$W" rev-list --parents -n1 HEAD | wc -w)" -eq 3 ] || fail "no merge commit made"
push_refused "is a merge: the queue's history is linear"
verify_refused "is a merge: the queue's history is linear"
git -C "$W" branch -q -D side

# ---------------------------------------------------------------------------
# The layout.

RDIR=$(queue_dir requests "$R")
for path in README.md "requests/${R:0:2}/$R.json" "$RDIR/$R.txt" "$RDIR/${R^^}.json" "$RDIR/x/$R.json" \
	"requests/${R:0:4}/${R:4:2}/${R:6:2}/$R.json" "requests/${R:0:4}/${R:4:2}/${R:6:2}/zz/$R.json" \
	"requests/$((${R:0:4} + 1))/${R:4:2}/${R:6:2}/${R:8:2}/$R.json" "responses/$R.json" "trust/other.json" \
	"trust/keys/${FPR_BUILD,,}.asc"; do
	reset_work
	request "$R" "$FPR_BUILD" | put "$path"
	sign_commit build "outside the layout: $path"
	push_refused "$path: not part of the queue layout"
done
verify_refused "trust/keys/${FPR_BUILD,,}.asc: not part of the queue layout"

# An empty commit, even by a key with a role.
reset_work
GNUPGHOME="$T/gpg-build" git -C "$W" -c user.signingkey="$FPR_BUILD" -c user.name=build \
	-c user.email=build@rombsr.test commit -q -S --allow-empty -m "empty"
push_refused "changes nothing"
verify_refused "changes nothing"

# ---------------------------------------------------------------------------
# Malformed requests by the build node: refused with the JSON path of the
# bad field.

malformed() { # JQ_FILTER WANT
	reset_work
	request "$R" "$FPR_BUILD" "$1" | put "$(req_path "$R")"
	sign_commit build "malformed: $1"
	push_refused "$(req_path "$R"): malformed request: $2"
}
malformed '.extra = 1' "request: unknown field 'extra'"
malformed '.build.extra = 1' "request.build: unknown field 'extra'"
malformed '.artifacts[0].extra = 1' "request.artifacts[0]: unknown field 'extra'"
malformed '.operations[0].extra = 1' "request.operations[0]: unknown field 'extra'"
malformed '.format = "rombsr.response"' "request.format: expected 'rombsr.request'"
malformed '.version = 2' "request.version: must be from 1 to 1"
malformed '.round = "1"' "request.round: must be an integer"
malformed '.round = 17' "request.round: must be from 1 to 16"
malformed '.build = []' "request.build: must be an object"
malformed '.artifacts = {}' "request.artifacts: must be an array"
malformed '.artifacts[0].size = -1' "request.artifacts[0].size: must be from 0"
malformed 'del(.created)' "request.created: missing"
malformed '.build.product = ("x" * 129)' "request.build.product: must be 1 to 128 characters, is 129"
malformed '.build.build_id = ""' "request.build.build_id: must be 1 to 128 characters, is 0"
malformed '.artifacts[0].name = ("a" * 256)' "request.artifacts[0].name: must be 1 to 255 characters, is 256"
malformed '.operations[0].key = ("k" * 65)' "request.operations[0].key: must be 1 to 64 characters"
malformed '.artifacts[0].sha256 |= ascii_upcase' "request.artifacts[0].sha256"
malformed '.artifacts[0].sha256 |= .[2:]' "request.artifacts[0].sha256"
malformed '.operations[0].tbs = "abc"' "request.operations[0].tbs: odd number of hex characters"
malformed '.operations[0].tbs |= ascii_upcase' "request.operations[0].tbs"
malformed '.operations[0].tbs = "abab"' "request.operations[0].tbs: CKM_SHA256_RSA_PKCS needs a 32-byte digest"
malformed '.build.source_commit |= ascii_upcase' "request.build.source_commit"
malformed '.build.build_node |= ascii_downcase' "request.build.build_node: not an OpenPGP fingerprint"
malformed '.artifacts[0].name = "../etc/passwd"' "request.artifacts[0].name: '../etc/passwd' has an empty, '.' or '..' component"
malformed '.artifacts[0].name = "out/../../x"' "request.artifacts[0].name: 'out/../../x' has an empty"
malformed '.artifacts[0].name = "/etc/passwd"' "request.artifacts[0].name: '/etc/passwd' must be relative"
malformed '.artifacts[0].name = "out/a\u0001b"' "request.artifacts[0].name: control character"
malformed '.artifacts[0].name = "out\\a"' "request.artifacts[0].name: control character or backslash"
malformed '.build.product = "a\nb"' "request.build.product: control character at offset 1"
malformed '.created = "2026-02-30T00:00:00Z"' "request.created: '2026-02-30T00:00:00Z' is not a valid time"
malformed '.id |= ascii_upcase' "request.id: must be a date YYYYMMDD then 24 lower-case hex digits"
malformed '.expires = .created' "request.expires: must be after created and at most 7 days later"
malformed '.authority = "root"' "request.authority: 'root' is not one of the allowed values"
malformed '.build.build_type = "debug"' "request.build.build_type: 'debug' is not one of the allowed values"
malformed '.operations = []' "request.operations: a request must ask for at least one signature"
malformed '.artifacts += .artifacts' "request.artifacts[1].name: 'out/system.img' listed twice"
malformed '.operations += .operations' "request.operations[1]: the same operation as operations[0]"
malformed '.operations[0].mechanism = "CKM_SHA256_RSA_PKCS_PSS"' \
	"request.operations[0]: CKM_SHA256_RSA_PKCS_PSS needs pss parameters"
malformed '.operations[0].mechanism = "CKM_MD5_RSA_PKCS"' "request.operations[0].mechanism: 'CKM_MD5_RSA_PKCS' is not supported"

reset_work
printf '{"format": "rombsr.request",\n' | put "$(req_path "$R")"
sign_commit build "not JSON"
push_refused "$(req_path "$R"): malformed request: request: not valid JSON"

reset_work
request "$R" "$FPR_BUILD2" | put "$(req_path "$R")"
sign_commit build "request naming another build node"
push_refused "$(req_path "$R"): the request names another build node than the key that committed it"

reset_work
request "$(new_id)" "$FPR_BUILD" | put "$(req_path "$R")"
sign_commit build "request under another ID's path"
push_refused "$(req_path "$R"): the request's id is not the one its path names"

# The ID's date names the day folder the request is filed under, so it
# must be the UTC date of created: a request created now under an ID (and
# the path of that ID) dated 2030-01-01 is refused, naming both fields.
reset_work
RD=$(new_id 20300101)
now=$(utc)
request "$RD" "$FPR_BUILD" ".created = \"$now\" | .expires = \"$(utc '+1 day')\"" | put "$(req_path "$RD")"
sign_commit build "request dated another day than its ID"
push_refused "$(req_path "$RD"): malformed request: request.id: dated 2030-01-01, not the UTC date of request.created ($now)"

# ---------------------------------------------------------------------------
# The expired key: its commit was signed while it was valid.

reset_work
now=$(date +%s)
[ "$now" -gt "$EXPIRES_AT" ] || sleep $((EXPIRES_AT - now + 1))
git -C "$W" checkout -q expired-commit
git -C "$W" log -1 --format=%P | grep -q "^$HEAD_BEFORE$" || fail "the expired commit is not on the queue's head"
push_refused "signed by an expired key or the signature expired $FPR_EXPIRING"
git -C "$W" checkout -q main
git -C "$W" reset -q --hard expired-commit
# In history (a clone that has it, however it got there), a commit signed
# while its key was valid stays valid: an expired build key must not make
# every later verification fail.
printf '[core]\n\tstate-dir = %s\n[queue]\n\tadmin = %s\n' "$T/verify-expired" "$FPR_ADMIN" > "$T/verify-expired.conf"
"$ROMBSR" --config "$T/verify-expired.conf" queue-verify --repo "$W" >/dev/null ||
	fail "history signed before the key expired does not verify"

# ---------------------------------------------------------------------------
# submit refuses an unsafe artifact name before committing anything.

printf 'artifact\n' > "$T/artifact.bin"
before=$(queue_refs)
for name in ../escape out/../../escape /etc/escape "out/a$(printf '\001')b" 'out\escape'; do
	expect_fail "rombsr submit: --artifact: " "$ROMBSR" --config "$BUILD_CONF" submit \
		--journal "$T/no-journal.jsonl" --artifact "$T/artifact.bin=$name" --product p --build-id B \
		--source-commit "$(printf '%040d' 1)" --build-type user
done
expect_fail "'../escape' has an empty, '.' or '..' component" "$ROMBSR" --config "$BUILD_CONF" submit \
	--journal "$T/no-journal.jsonl" --artifact "$T/artifact.bin=../escape" --product p --build-id B \
	--source-commit "$(printf '%040d' 1)" --build-type user
[ "$(queue_refs)" = "$before" ] || fail "submit with a bad artifact name changed the queue"

# Nothing refused above changed the queue, which still verifies.
[ "$(git -C "$QUEUE" rev-parse main)" = "$HEAD_BEFORE" ] || fail "the queue's head moved"
"$ROMBSR" --config "$SIGN_CONF" queue-verify | grep -q '^queue ok: 8 commits, 2 requests, 1 responses' ||
	fail "the queue does not verify after the refusals"
echo "queue refusals ok"
