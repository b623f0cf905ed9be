# Exactly once: the sign node killed (SIGKILL, as by a power cut) at each
# step, then restarted, publishes exactly one response per request and never
# asks the HSM twice for the same signature (every HSM signature appends one
# line to the signer's durable cache, so the cache's line count is the
# number of HSM signatures ever made).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

with_bundle
with_queue
sign_config
cache="$T/state/signer/cache-release"
made=0
for point in mid-sign after-sign before-log after-response before-commit after-push; do
	# Fresh operations for each round: new data to sign.
	printf 'round %s one\n' "$point" > "$T/artifact1.bin"
	printf 'round %s two\n' "$point" > "$T/artifact2.bin"
	capture_config "$T/capture.conf" capture
	rm -f "$T/journal.jsonl"
	id=$(bundle_id platform)
	for f in artifact1 artifact2; do
		capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign \
			-m SHA256-RSA-PKCS --id "$id" -i "$T/$f.bin" -o "$T/$f.ph" 2>/dev/null
	done
	req=$(submit_journal user)
	rc=0
	ROMBSR_FAULT=$point "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/crash.log" || rc=$?
	[ "$rc" -eq 137 ] || fail "$point: the sign node was not killed (exit $rc): $(cat "$T/crash.log")"
	grep -q "fault injected at $point" "$T/crash.log" || fail "$point: fault point not reached"
	# No signer outlives the worker. The restart comes in a later second
	# than the decision, as it would after a real crash.
	sleep 1.1
	pgrep -f "$SIGN_CONF sign" >/dev/null && fail "$point: a signer survived the worker"
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/after.txt" 2>/dev/null || fail "$point: restart failed"
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>&1 || fail "$point: second restart failed"
	n=$(git -C "$T/queue.git" log --format=%H main -- "$(resp_path "$req")" | wc -l)
	[ "$n" -eq 1 ] || fail "$point: $n commits touch the response of $req"
	[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "$point: not signed"
	made=$((made + 2))
	[ "$(wc -l < "$cache")" -eq "$made" ] || fail "$point: $(wc -l < "$cache") HSM signatures for $made operations"
	cache_in_log "$cache" "$T/queue.git" >/dev/null || fail "$point: an HSM signature is not in the audit log"
	echo "ok: $point: one response, no repeated HSM signature, every HSM signature logged"
done
"$ROMBSR" --config "$SIGN_CONF" queue-verify | grep -q '^queue ok: .* 6 requests, 6 responses (6 signed' ||
	fail "queue-verify after the crashes"
echo "exactly once ok"

# A kill during a fetch or push leaves git's lock on a ref of the node's
# clone; libgit2 never removes it, so every later fetch would fail. The
# node is the clone's only user (it holds its audit log's lock) and
# removes such locks when it starts.
printf 'stale lock\n' > "$T/artifact1.bin"
capture_config "$T/capture.conf" capture
rm -f "$T/journal.jsonl"
capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign \
	-m SHA256-RSA-PKCS --id "$(bundle_id platform)" -i "$T/artifact1.bin" -o "$T/artifact1.ph" 2>/dev/null
req=$(submit_journal user)
mkdir -p "$T/state/queue.git/refs/rombsr"
: > "$T/state/queue.git/refs/rombsr/fetched.lock"
: > "$T/state/queue.git/packed-refs.lock"
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/locks.err" || fail "sign with stale locks: $(cat "$T/locks.err")"
grep -q "removed $T/state/queue.git/refs/rombsr/fetched.lock, left by a writer that was killed" "$T/locks.err" ||
	fail "the stale ref lock was not reported: $(cat "$T/locks.err")"
[ ! -e "$T/state/queue.git/packed-refs.lock" ] || fail "packed-refs.lock is still there"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "not signed after the stale locks"
echo "ok: stale git locks in the node's clone are removed at start"
