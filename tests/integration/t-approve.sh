# Dual control: `rombsr approve` by two operators on a real queue served
# over git:// with the hook. A build node submits a request; each operator's
# approval is accepted by the hook, verifies with git itself, binds the
# SHA-256 of the request file's bytes, and leaves queue-verify clean. Then
# every refusal — a malformed ID, a request that does not exist, a second
# approval by the same operator, a key that is no operator (the build node;
# an operator the admin has removed), a build node approving its own
# request, a request that already has a response — is one clear line, and
# the queue is unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"

with_bundle
with_queue operator2
QUEUE="$T/queue.git"

queue_head() { git -C "$QUEUE" rev-parse main; }
submit() { # BUILD_ID: a user build's request; prints its ID
	"$ROMBSR" --config "$BUILD_CONF" submit --journal "$T/journal.jsonl" \
		--artifact "$T/artifact1.bin=out/artifact1.bin" --product sample_phone --build-id "$1" \
		--source-commit "$(printf '%040d' 7)" --build-type user
}
# refused TEXT CONF ARGS...: approve fails with one line naming TEXT, and
# the queue does not move.
refused() {
	local want=$1 conf=$2 before
	shift 2
	before=$(queue_head)
	expect_fail "$want" "$ROMBSR" --config "$conf" approve "$@"
	[ "$(queue_head)" = "$before" ] || fail "the queue moved after a refused approval ($want)"
}

capture_journal
id=$(submit TEST.1)
[[ "$id" =~ ^[0-9a-f]{32}$ ]] || fail "submit printed '$id'"
req=$(req_path "$id")

# The first operator approves, and sees what it approves.
path=$("$ROMBSR" --config "$OPERATOR_CONF" approve "$id" --comment "build log checked" 2>"$T/approve.err") ||
	fail "approve failed: $(cat "$T/approve.err")"
[ "$path" = "$(approval_path "$id" "$FPR_OPERATOR")" ] || fail "approve printed '$path'"
grep -q "^approving request $id$" "$T/approve.err" || fail "approve did not say what it approves"
grep -q "product sample_phone, build TEST.1 (user), round 1, release authority" "$T/approve.err" ||
	fail "approve did not show the build: $(cat "$T/approve.err")"
grep -q "2 operations, 1 artifacts, from build node $FPR_BUILD" "$T/approve.err" || fail "approve did not show the ops"

git -C "$QUEUE" show "main:$path" > "$T/approval.json" || fail "the approval is not in the queue"
want_sha=$(git -C "$QUEUE" show "main:$req" | sha256sum | cut -d' ' -f1)
[ "$(jq -r .format "$T/approval.json")" = rombsr.approval ] || fail "format"
[ "$(jq -r .version "$T/approval.json")" = 1 ] || fail "version"
[ "$(jq -r .request_id "$T/approval.json")" = "$id" ] || fail "request_id"
[ "$(jq -r .request_sha256 "$T/approval.json")" = "$want_sha" ] || fail "request_sha256 is not the request file's"
[ "$(jq -r .operator "$T/approval.json")" = "$FPR_OPERATOR" ] || fail "operator"
[ "$(jq -r .comment "$T/approval.json")" = "build log checked" ] || fail "comment"
grep -q "$(date -u +%Y-%m-%d)T" "$T/approval.json" || fail "time"
# Canonical: what jq writes with sorted keys and two-space indent.
cmp -s "$T/approval.json" <(jq -S --indent 2 . "$T/approval.json") || fail "the approval is not canonical"
[ "$(git -C "$QUEUE" log -1 --format=%s main)" = "approval $id by $FPR_OPERATOR" ] || fail "commit message"

# The second operator approves too.
path2=$("$ROMBSR" --config "$OPERATOR2_CONF" approve "$id" 2>/dev/null) || fail "second operator's approve failed"
[ "$path2" = "$(approval_path "$id" "$FPR_OPERATOR2")" ] || fail "second approve printed '$path2'"
[ "$(git -C "$QUEUE" ls-tree -r --name-only main "$(queue_dir approvals "$id")/$id/" | wc -l)" -eq 2 ] ||
	fail "two approvals expected"

# git itself accepts every signature; queue-verify is clean.
export GNUPGHOME="$T/gpg-admin"
for c in $(git -C "$QUEUE" rev-list main); do
	git -C "$QUEUE" verify-commit "$c" 2>/dev/null || fail "git verify-commit refuses $c"
done
unset GNUPGHOME
"$ROMBSR" --config "$SIGN_CONF" queue-verify | grep -q '^queue ok: 4 commits, 1 requests, 0 responses' ||
	fail "queue-verify after the approvals"

# ---------------------------------------------------------------------------
# Refusals: one line each, nothing pushed.

refused "'0123' is not a request ID" "$OPERATOR_CONF" 0123
refused "is not a request ID" "$OPERATOR_CONF" "${id^^}"
missing=20261122000000000000000000000000
refused "there is no request $missing in the queue" "$OPERATOR_CONF" "$missing"
refused "operator $FPR_OPERATOR has already approved request $id" "$OPERATOR_CONF" "$id"
refused "operator $FPR_OPERATOR2 has already approved request $id" "$OPERATOR2_CONF" "$id"
refused "key $FPR_BUILD (gpg.key) is not an operator in the queue's trust file" "$BUILD_CONF" "$id"
refused "key $FPR_SIGN (gpg.key) is not an operator" "$SIGN_CONF" "$id"
refused "usage: rombsr approve <request-id>" "$OPERATOR_CONF"
refused "unexpected argument 'extra'" "$OPERATOR_CONF" "$id" extra
refused "--comment takes 1 to 1024 characters" "$OPERATOR_CONF" "$id" --comment ""

# The admin removes operator2 from the trust file (as for a revoked key)
# and makes the build node an operator too: operator2's approval of a new
# request is refused, and so is the build node's of its own request, before
# anything is pushed.
capture_journal
id2=$(submit TEST.2)
W="$T/work"
git clone -q "$QUEUE_URL" "$W"
jq --arg f "$FPR_OPERATOR2" --arg b "$FPR_BUILD" '.roles.operator = (.roles.operator - [$f] + [$b])' \
	"$W/trust/trust.json" > "$T/trust.json"
cp "$T/trust.json" "$W/trust/trust.json"
git -C "$W" add trust/trust.json
GNUPGHOME="$T/gpg-admin" git -C "$W" -c user.signingkey="$FPR_ADMIN" -c user.name=admin \
	-c user.email=admin@rombsr.test commit -q -S -m "operator2 removed, build node made operator"
git -C "$W" push -q origin HEAD:refs/heads/main 2>"$T/push.err" || fail "admin push refused: $(cat "$T/push.err")"
refused "key $FPR_OPERATOR2 (gpg.key) is not an operator in the queue's trust file" "$OPERATOR2_CONF" "$id2"
refused "key $FPR_BUILD is the request's own build node, which never approves itself" "$BUILD_CONF" "$id2"
"$ROMBSR" --config "$OPERATOR_CONF" approve "$id2" >/dev/null 2>&1 || fail "a listed operator can still approve"

# A request that already has its answer: nothing left to approve. The
# sign node's rejection is pushed by hand, as the sign node would.
capture_journal
id3=$(submit TEST.3)
git -C "$W" pull -q --ff-only origin main
req3_commit=$(git -C "$W" log -1 --format=%H -- "$(req_path "$id3")")
mkdir -p "$W/$(queue_dir responses "$id3")"
jq -n --arg id "$id3" --arg c "$req3_commit" --arg n "$FPR_SIGN" --arg t "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	'{format: "rombsr.response", version: 1, request_id: $id, request_commit: $c, status: "rejected",
	  reason: {code: "policy-build-type", message: "operation 0: key '"'platform'"' may not sign user builds (policy 1)"},
	  sign_node: $n, time: $t}' > "$W/$(resp_path "$id3")"
git -C "$W" add responses
GNUPGHOME="$T/gpg-sign" git -C "$W" -c user.signingkey="$FPR_SIGN" -c user.name=sign \
	-c user.email=sign@rombsr.test commit -q -S -m "response $id3"
git -C "$W" push -q origin HEAD:refs/heads/main 2>"$T/push.err" || fail "sign push refused: $(cat "$T/push.err")"
refused "request $id3 already has a response: there is nothing left to approve" "$OPERATOR_CONF" "$id3"

"$ROMBSR" --config "$SIGN_CONF" queue-verify | grep -q '^queue ok: 9 commits, 3 requests, 1 responses (0 signed, 1 rejected)' ||
	fail "queue-verify at the end: $("$ROMBSR" --config "$SIGN_CONF" queue-verify 2>&1)"
echo "approve ok"
