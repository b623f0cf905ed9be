# The queue's happy path: queue-init by the admin, a request submitted by a
# build node from its capture journal, accepted by the hook (over git://,
# as a remote push), readable by git itself with valid signatures, and a
# clean queue-verify from any clone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"

with_bundle
with_queue
[ -x "$T/queue.git/hooks/pre-receive" ] || fail "hook not installed"
[ "$(cat "$T/queue.git/rombsr-admins")" = "$FPR_ADMIN" ] || fail "admin not pinned in the hook"

capture_journal
id=$("$ROMBSR" --config "$BUILD_CONF" submit --journal "$T/journal.jsonl" \
	--artifact "$T/artifact1.bin=out/artifact1.bin" --artifact "$T/artifact2.bin=out/artifact2.bin" \
	--product sample_phone --build-id TEST.1 --source-commit "$(printf '%040d' 7)" --build-type user)
[[ "$id" =~ ^[0-9]{8}[0-9a-f]{24}$ ]] || fail "submit printed '$id', not a request ID"

# The request is in the queue, where the layout says.
req="requests/${id:0:4}/${id:4:2}/${id:6:2}/${id:8:2}/$id.json"
git -C "$T/queue.git" show "main:$req" > "$T/request.json" || fail "request not in the queue"
[ "$(jq -r .format "$T/request.json")" = rombsr.request ] || fail "format"
[ "$(jq -r .build.build_node "$T/request.json")" = "$FPR_BUILD" ] || fail "build node"
[ "$(jq '.operations | length' "$T/request.json")" -eq 2 ] || fail "operations"
[ "$(jq -r '.artifacts[0].sha256' "$T/request.json")" = "$(sha256sum "$T/artifact1.bin" | cut -d' ' -f1)" ] ||
	fail "artifact hash"

# git itself accepts the signatures libgit2 and GPGME made.
export GNUPGHOME="$T/gpg-admin"
for c in $(git -C "$T/queue.git" rev-list main); do
	git -C "$T/queue.git" verify-commit "$c" 2>/dev/null || fail "git verify-commit refuses $c"
done
unset GNUPGHOME

# Verification from the sign node's configuration and from a plain clone.
"$ROMBSR" --config "$SIGN_CONF" queue-verify | grep -q '^queue ok: 2 commits, 1 requests, 0 responses' ||
	fail "queue-verify"
git clone -q "$T/queue.git" "$T/plain-clone"
"$ROMBSR" --config "$OPERATOR_CONF" queue-verify --repo "$T/plain-clone" | grep -q '^queue ok: 2 commits' ||
	fail "queue-verify --repo"

# Two build nodes pushing at once: both requests land (one retries).
capture_journal
"$ROMBSR" --config "$BUILD_CONF" submit --journal "$T/journal.jsonl" --product p --build-id A \
	--source-commit "$(printf '%040d' 1)" --build-type userdebug > "$T/a.id" &
first=$!
"$ROMBSR" --config "$BUILD_CONF" submit --journal "$T/journal.jsonl" --product p --build-id B \
	--source-commit "$(printf '%040d' 2)" --build-type eng > "$T/b.id" &
second=$!
wait "$first" || fail "first concurrent submit failed"
wait "$second" || fail "second concurrent submit failed"
[ "$(git -C "$T/queue.git" ls-tree -r --name-only main requests | wc -l)" -eq 3 ] || fail "a concurrent request was lost"
"$ROMBSR" --config "$SIGN_CONF" queue-verify | grep -q '^queue ok: 4 commits, 3 requests' || fail "verify after race"
echo "queue flow ok"
