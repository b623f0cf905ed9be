# A request the sign node must not sign gets a signed rejection with its
# reason code, and nothing is signed for it (the signer's cache, one line per
# HSM signature, does not grow): a development key in a user build, a key of
# the other authority, an expired request, a request whose build_node is not
# its committer... and a good request still signs afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

with_bundle
with_queue
sign_config
capture_config "$T/capture.conf" capture
printf 'payload\n' > "$T/data"

submit_with() { # JOURNAL BUILD_TYPE [args]
	local j=$1 type=$2; shift 2
	"$ROMBSR" --config "$BUILD_CONF" submit --journal "$j" --product p --build-id "R.$RANDOM" \
		--source-commit "$(printf '%040d' 3)" --build-type "$type" "$@"
}
expect_rejected() { # ID CODE
	local status code
	status=$(response_of "$1" | jq -r .status)
	code=$(response_of "$1" | jq -r .reason.code)
	[ "$status" = rejected ] && [ "$code" = "$2" ] || fail "request $1: $status/$code, expected rejected/$2"
	response_of "$1" | jq -e 'has("signatures") | not' >/dev/null || fail "a rejection carries signatures"
	echo "ok: rejected $2: $(response_of "$1" | jq -r .reason.message)"
}

journal_for testkey "$T/testkey.jsonl"
journal_for manifest "$T/manifest.jsonl"
journal_for platform "$T/platform.jsonl"
dev=$(submit_with "$T/testkey.jsonl" user)
dev_ok=$(submit_with "$T/testkey.jsonl" eng)
cross=$(submit_with "$T/manifest.jsonl" user --authority release)
cross2=$(submit_with "$T/platform.jsonl" user --authority manifest)
old=$(submit_with "$T/platform.jsonl" user --expires-in 1)
sleep 2
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass.txt" 2>/dev/null
grep -q '^sign: 5 responses published (1 signed, 4 rejected), 1 operations, 1 HSM operations' "$T/pass.txt" ||
	fail "pass: $(cat "$T/pass.txt")"
expect_rejected "$dev" development-key
expect_rejected "$cross" wrong-authority
expect_rejected "$cross2" wrong-authority
expect_rejected "$old" expired
[ "$(response_of "$dev_ok" | jq -r .status)" = signed ] || fail "testkey in an eng build was not signed"
[ "$(cat "$T/state/signer/cache-release" | wc -l)" -eq 1 ] || fail "something was signed for a rejected request"
[ ! -s "$T/state/signer/cache-manifest" ] || fail "the manifest key signed for a release request"

# A request naming another build node than the key that committed it (the
# hook refuses it, so it comes through a working clone of the queue with
# the hook bypassed: the sign node must not rely on the hook).
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fid="${created:0:4}${created:5:2}${created:8:2}fa11$(printf '%020d' 0)"
git clone -q "$T/queue.git" "$T/bypass"
mkdir -p "$T/bypass/$(queue_dir requests "$fid")"
jq --arg n "$FPR_OPERATOR" --arg id "$fid" --arg c "$created" --arg e "$(date -u -d "$created +1 day" +%Y-%m-%dT%H:%M:%SZ)" \
	'.build.build_node = $n | .id = $id | .created = $c | .expires = $e' \
	<(git -C "$T/queue.git" show "main:$(req_path "$old")") > "$T/bypass/$(req_path "$fid")"
git -C "$T/bypass" add -A
GNUPGHOME="$T/gpg-build" git -C "$T/bypass" -c user.signingkey="$FPR_BUILD" -c user.name=build \
	-c user.email=build@rombsr.test commit -q -S -m "forged build node"
mv "$T/queue.git/hooks/pre-receive" "$T/pre-receive.off"
git -C "$T/bypass" push -q origin HEAD:main
mv "$T/pre-receive.off" "$T/queue.git/hooks/pre-receive"
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass2.txt" 2>/dev/null
expect_rejected "$fid" wrong-signer
"$ROMBSR" --config "$SIGN_CONF" queue-verify | grep -q '^queue ok: .* 6 requests, 6 responses (1 signed, 5 rejected)' ||
	fail "queue-verify after rejections"
echo "rejections ok"
