# Policy and dual control through the real sign node, queue and HSM.
# (A release request naming the manifest key and the reverse: t-sign-reject.) The
# admin pushes a policy in which every key has one rule; for each rule a
# request that breaks it gets a signed rejection with the rule's reason code,
# and the same code is in the audit log, while one request that meets every
# rule of its key is signed. Dual control: a request needing two approvals
# waits, visible and unanswered, through one operator, the same operator
# again, its own build node (made operator for the purpose) and an approval
# of other bytes, and is signed once a second operator approves; a request
# that expires while waiting is rejected (policy-approvals) without any new
# commit. A malformed policy and a replayed older one are refused and logged
# (policy-refused) while the policy in force stays.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

with_bundle
with_queue operator2 operator3
sign_config
capture_config "$T/capture.conf" capture
W="$T/admin-work"
git_clone_as admin "$W"

pass() { "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >>"$T/pass.out" 2>>"$T/pass.err" || fail "pass: $(tail -3 "$T/pass.err")"; }
# Every entry of the audit log the queue holds, one JSON object per line.
audit_entries() {
	git -C "$T/queue.git" ls-tree -r --name-only main audit/entries | sort |
		while read -r f; do git -C "$T/queue.git" show "main:$f"; done
}
# audit_has [jq args] FILTER: some entry of the log matches FILTER.
audit_has() {
	local filter=${*: -1}
	audit_entries | jq -s -e "${@:1:$#-1}" "any(.[]; $filter)" >/dev/null
}
admin_push() { # MESSAGE: commit the admin clone's changes, signed, and push
	git -C "$W" add -A
	GNUPGHOME="$T/gpg-admin" git -C "$W" -c user.signingkey="$FPR_ADMIN" commit -q -S -m "$1"
	git -C "$W" push -q origin HEAD:main 2>"$T/push.err" || fail "admin push: $(cat "$T/push.err")"
}
journal_for() { # LABEL COUNT OUT: COUNT signatures with key LABEL by pkcs11-tool
	rm -f "$T/journal.jsonl"
	for i in $(seq "$2"); do
		printf 'payload %s\n' "$i" > "$T/data"
		capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign \
			-m SHA256-RSA-PKCS --id "$(bundle_id "$1")" -i "$T/data" -o "$T/ph" 2>/dev/null
	done
	mv "$T/journal.jsonl" "$3"
}
printf 'artifact\n' > "$T/artifact.bin"
submit_with() { # JOURNAL BUILD_TYPE [args]: prints the request ID
	local j=$1 type=$2; shift 2
	"$ROMBSR" --config "$BUILD_CONF" submit --journal "$j" --product p --build-id "P.$RANDOM" \
		--source-commit "$(printf '%040d' 5)" --build-type "$type" --artifact "$T/artifact.bin=out/a.bin" "$@"
}
status_of() { response_of "$1" 2>/dev/null | jq -r '.status + "/" + (.reason.code // "")'; }
expect_rejected() { # ID CODE: in the signed response and in the audit log
	local got
	got=$(status_of "$1")
	[ "$got" = "rejected/$2" ] || fail "request $1: '$got', expected rejected/$2"
	audit_has --arg id "$1" --arg c "$2" '.type == "request-rejected" and .request_id == $id
		and .reason == $c' || fail "no request-rejected $2 entry for $1 in the audit log"
	echo "ok: $2: $(response_of "$1" | jq -r .reason.message)"
}
expect_waiting() { # ID WHY
	response_of "$1" >/dev/null 2>&1 && fail "request $1 was answered while it lacks approvals ($2)"
	grep -q "^$1 " "$T/state/sign/waiting" || fail "request $1 is not on the waiting list ($2)"
	echo "ok: still waiting: $2"
}

# The starter policy of queue-init signs what the hard rules allow, and
# the sign node logs it in force, with the trust file.
journal_for platform 2 "$T/platform2.jsonl"
first=$(submit_with "$T/platform2.jsonl" userdebug)
pass
[ "$(status_of "$first")" = "signed/" ] || fail "the starter policy did not sign: $(status_of "$first")"
audit_has '.type == "policy-applied" and .subject == "policy" and (.previous_sha256 // "") == ""' ||
	fail "no policy-applied entry for the starter policy"
audit_has '.type == "policy-applied" and .subject == "trust"' ||
	fail "no policy-applied entry for the trust file"

# Policy 2: one rule per key, and the build node also an operator (so its
# approval of its own request can be shown not to count).
git -C "$W" pull -q --ff-only origin main
jq --arg b "$FPR_BUILD" '.roles.operator += [$b]' "$W/trust/trust.json" > "$T/trust.json"
cp "$T/trust.json" "$W/trust/trust.json"
now=$(date +%s)
jq -n --arg o1 "$FPR_OPERATOR" --arg o2 "$FPR_OPERATOR2" --arg o3 "$FPR_OPERATOR3" --arg b "$FPR_BUILD" \
	--argjson later $((now + 86400)) '{format: "rombsr.policy", version: 1, serial: 2,
	operator_groups: {release: [$o1, $o2, $o3, $b]},
	keys: {
	  platform: {build_types: ["user"], build_nodes: [$b], programs: ["pkcs11-tool"], artifacts: ["out/*.bin"],
		     mechanisms: ["CKM_SHA256_RSA_PKCS"], max_operations: 2, approvals: {group: "release", required: 2},
		     not_before: 1000, not_after: $later},
	  media: {disabled: true},
	  shared: {build_nodes: [$o1]},
	  networkstack: {programs: ["apksigner"]},
	  sdk_sandbox: {artifacts: ["out/*.img"]},
	  bluetooth: {mechanisms: ["CKM_SHA256_RSA_PKCS_PSS"]},
	  testkey: {not_before: $later},
	  ota_key: {not_after: 1000},
	  avb_intermediate: {quota: {window_seconds: 3600, max_operations: 1}}}}' > "$W/policy/policy.json"
admin_push "policy 2: one rule per key; build node is an operator"

for k in media shared networkstack sdk_sandbox bluetooth testkey ota_key avb_intermediate avb_root; do
	journal_for "$k" 1 "$T/$k.jsonl"
done
journal_for platform 3 "$T/platform3.jsonl"
declare -A refused=(
	[policy-key-disabled]=$(submit_with "$T/media.jsonl" user)
	[policy-build-node]=$(submit_with "$T/shared.jsonl" user)
	[policy-program]=$(submit_with "$T/networkstack.jsonl" user)
	[policy-artifact]=$(submit_with "$T/sdk_sandbox.jsonl" user)
	[policy-mechanism]=$(submit_with "$T/bluetooth.jsonl" user)
	[policy-not-yet-valid]=$(submit_with "$T/testkey.jsonl" userdebug)
	[policy-expired]=$(submit_with "$T/ota_key.jsonl" user)
	[policy-build-type]=$(submit_with "$T/platform2.jsonl" eng)
	[policy-max-operations]=$(submit_with "$T/platform3.jsonl" user)
	[no-policy]=$(submit_with "$T/avb_root.jsonl" user)
)
quota_ok=$(submit_with "$T/avb_intermediate.jsonl" user)
pass
quota_over=$(submit_with "$T/avb_intermediate.jsonl" user)
dual=$(submit_with "$T/platform2.jsonl" user)
pass
for code in "${!refused[@]}"; do expect_rejected "${refused[$code]}" "$code"; done
[ "$(status_of "$quota_ok")" = "signed/" ] || fail "the first avb_intermediate request (within quota): $(status_of "$quota_ok")"
expect_rejected "$quota_over" policy-quota-key
response_of "${refused[policy-key-disabled]}" | jq -r .reason.message | grep -q '(policy 2)' ||
	fail "a refusal does not name the policy serial"

# Dual control on $dual (platform: 2 approvals from group release).
expect_waiting "$dual" "no approval yet"
grep -q "request $dual: waiting for approvals: release 0 of 2" "$T/pass.err" || fail "the wait is not reported"
"$ROMBSR" --config "$OPERATOR_CONF" approve "$dual" >/dev/null 2>&1 || fail "operator could not approve"
pass
expect_waiting "$dual" "one operator"
"$ROMBSR_SIGN" --config "$SIGN_CONF" status > "$T/status.txt" 2>"$T/status.err" || fail "status: $(cat "$T/status.err")"
for want in "^policy: serial 2 in force, sha256 [0-9a-f]{64}$" "^waiting for approvals: 1$" "^  $dual  p P\\..*user.*from $FPR_BUILD, expires " \
	"^    release: 1 of 2 approvals; may still approve: ($FPR_OPERATOR2, $FPR_OPERATOR3|$FPR_OPERATOR3, $FPR_OPERATOR2)$" \
	"^    approved by $FPR_OPERATOR$" "^  key avb_intermediate: 1 of 1 operations in the last 3600 s$"; do
	grep -Eq "$want" "$T/status.txt" || fail "status lacks /$want/: $(cat "$T/status.txt")"
done
echo "ok: status shows the wait: $(grep -c . "$T/status.txt") lines"
expect_fail "has already approved request $dual" "$ROMBSR" --config "$OPERATOR_CONF" approve "$dual"
pass
expect_waiting "$dual" "the same operator twice"
git -C "$W" pull -q --ff-only origin main
sha=$(git -C "$T/queue.git" show "main:$(req_path "$dual")" | sha256sum | cut -c1-64)
approval_by() { # FPR SHA: an approval file as rombsr approve writes it
	jq -n --arg id "$dual" --arg s "$2" --arg o "$1" --arg t "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		'{format: "rombsr.approval", version: 1, request_id: $id, request_sha256: $s, operator: $o, time: $t}'
}
push_as() { # NAME MESSAGE
	local fpr
	fpr=$(gpg_fpr "$1")
	git -C "$W" add -A
	GNUPGHOME="$T/gpg-$1" git -C "$W" -c user.signingkey="$fpr" commit -q -S -m "$2"
	git -C "$W" push -q origin HEAD:main 2>"$T/push.err" || fail "push as $1: $(cat "$T/push.err")"
}
mkdir -p "$W/$(queue_dir approvals "$dual")/$dual"
approval_by "$FPR_BUILD" "$sha" > "$W/$(approval_path "$dual" "$FPR_BUILD")"
push_as build "the build node approves its own request"
pass
expect_waiting "$dual" "its own build node"
grep -q "the approval by $FPR_BUILD does not count: made by the request's own build node" "$T/pass.err" ||
	fail "the build node's approval is not reported as not counted"
other=$(printf 'the request before it changed\n' | sha256sum | cut -c1-64)
approval_by "$FPR_OPERATOR3" "$other" > "$W/$(approval_path "$dual" "$FPR_OPERATOR3")"
push_as operator3 "an approval of other content"
pass
expect_waiting "$dual" "an approval of other bytes"
grep -q "the approval by $FPR_OPERATOR3 does not count: approves other content" "$T/pass.err" ||
	fail "the approval of other content is not reported as not counted"
"$ROMBSR" --config "$OPERATOR2_CONF" approve "$dual" >/dev/null 2>&1 || fail "operator2 could not approve"
pass
[ "$(status_of "$dual")" = "signed/" ] || fail "two operators approved and $dual is $(status_of "$dual")"
want=$(printf '%s\n%s\n' "$FPR_OPERATOR" "$FPR_OPERATOR2" | tr 'A-F' 'a-f' | sort | jq -R . | jq -sc .)
audit_has --arg id "$dual" --argjson w "$want" '.type == "approvals" and .request_id == $id
	and .required == 2 and .approvers == $w' || fail "no approvals entry naming the two operators"
echo "ok: two operators approved: signed, approvals logged"

# A request that expires while it waits: answered on a pass that sees no
# new commit.
short=$(submit_with "$T/platform2.jsonl" user --expires-in 30)
pass
expect_waiting "$short" "not approved yet"
expires=$(git -C "$T/queue.git" show "main:$(req_path "$short")" | jq -r .expires)
while [ "$(date +%s)" -le "$(date -d "$expires" +%s)" ]; do sleep 1; done
# status judges it by the worker's own hard rules, before the pass does.
"$ROMBSR_SIGN" --config "$SIGN_CONF" status > "$T/status2.txt" 2>&1 || fail "status: $(cat "$T/status2.txt")"
grep -q "^    the sign node's hard rules refuse it now (policy-approvals): the request expired while waiting" \
	"$T/status2.txt" || fail "status does not apply the hard rules: $(cat "$T/status2.txt")"
before=$(git -C "$T/queue.git" rev-parse main)
pass
expect_rejected "$short" policy-approvals
[ "$(git -C "$T/queue.git" rev-list --count "$before..main")" -eq 1 ] || fail "expiry pass pushed more than one commit"

# A malformed policy, then a replay of the starter policy: both refused
# and logged; policy 2 stays in force.
git -C "$W" pull -q --ff-only origin main
jq '.serial = 3 | .keys.media = {disabled: false, surprise: 1}' "$W/policy/policy.json" > "$T/bad.json"
cp "$T/bad.json" "$W/policy/policy.json"
admin_push "policy 3, malformed"
pass
audit_has '.type == "policy-refused" and .reason == "policy-invalid"' ||
	fail "the malformed policy was not refused in the audit log"
grep -q "policy change in commit .* refused (policy-invalid)" "$T/pass.err" || fail "the refusal is not reported"
git -C "$W" pull -q --ff-only origin main
git -C "$T/queue.git" show "$(git -C "$T/queue.git" rev-list --reverse main | head -1):policy/policy.json" \
	> "$W/policy/policy.json"
admin_push "replay of policy 1"
media2=$(submit_with "$T/media.jsonl" user)
pass
audit_has '.type == "policy-refused" and .reason == "policy-serial"' ||
	fail "the replayed policy was not refused"
expect_rejected "$media2" policy-key-disabled
[ "$(audit_entries | jq -s '[.[] | select(.type == "policy-refused")] | length')" -eq 2 ] ||
	fail "a refused policy was logged more than once"
"$ROMBSR" --config "$SIGN_CONF" audit-show --vkey "$T/bundle/audit.vkey" --type policy-refused > "$T/refused.txt" ||
	fail "audit-show --type policy-refused"
[ "$(grep -c ' policy-refused subject=policy ' "$T/refused.txt")" -eq 2 ] &&
	grep -q 'reason=policy-serial detail="policy.serial: 1 does not raise the serial of the policy in force (2)"' \
		"$T/refused.txt" || fail "audit-show does not list the two refusals: $(cat "$T/refused.txt")"

# A policy over the 1 MiB limit: refused and logged like a malformed one,
# not a pass that fails on every try.
git -C "$W" pull -q --ff-only origin main
{ jq '.serial = 9' "$T/state/sign/policy.json"; head -c 1100000 /dev/zero | tr '\0' ' '; } > "$W/policy/policy.json"
admin_push "policy 9, oversize"
pass
audit_has '.type == "policy-refused" and .reason == "policy-invalid" and (.detail | contains("larger than the limit"))' ||
	fail "the oversize policy was not refused in the audit log"
jq -e '.serial == 2' "$T/state/sign/policy.json" >/dev/null || fail "the oversize policy replaced policy 2"

# Policy 3: a quota for the build node, all keys together, with room for
# exactly one more operation (what the ledger holds for it, plus one), and
# testkey allowed in user builds, which the hard rule still refuses.
used=$(awk -v b="$FPR_BUILD" 'NR > 1 && $3 == b { for (i = 4; i <= NF; i++) { split($i, kv, "="); n += kv[2] } }
	END { print n + 0 }' "$T/state/sign/quota.ledger")
[ "$used" -gt 0 ] || fail "the quota ledger holds nothing for the build node"
git -C "$W" pull -q --ff-only origin main
jq --arg b "$FPR_BUILD" --argjson m $((used + 1)) '.serial = 3 | .keys.networkstack = {}
		| .keys.testkey = {build_types: ["user", "userdebug"]}
		| .build_nodes = {($b): {quota: {window_seconds: 3600, max_operations: $m}}}' "$T/state/sign/policy.json" \
	> "$W/policy/policy.json"
admin_push "policy 3: a build node quota"
node_ok=$(submit_with "$T/networkstack.jsonl" user)
dev_user=$(submit_with "$T/testkey.jsonl" user)
pass
# The hard rule: whatever policy 3 says of testkey, never in a user build.
expect_rejected "$dev_user" development-key
node_over=$(submit_with "$T/networkstack.jsonl" user)
pass
[ "$(status_of "$node_ok")" = "signed/" ] || fail "the request within the node quota: $(status_of "$node_ok")"
expect_rejected "$node_over" policy-quota-node
"$ROMBSR_SIGN" --config "$SIGN_CONF" status | grep -q "^  build node $FPR_BUILD: $((used + 1)) of $((used + 1)) operations" ||
	fail "status does not show the node quota used up"

"$ROMBSR" --config "$SIGN_CONF" audit-verify --vkey "$T/bundle/audit.vkey" >/dev/null 2>"$T/av.err" || fail "audit-verify: $(cat "$T/av.err")"
"$ROMBSR" --config "$SIGN_CONF" queue-verify >/dev/null 2>"$T/qv.err" || fail "queue-verify: $(cat "$T/qv.err")"
echo "policy ok"
