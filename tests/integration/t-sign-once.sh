# rombsr sign --once: a submitted request is signed in the HSM through the
# privilege-separated signer, the response is committed by the sign node's
# key, its signatures verify with openssl, queue-verify is clean, and an
# unchanged build is answered from the signing cache with no HSM operation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

with_bundle
with_queue
sign_config
capture_journal
id=$(submit_journal user --artifact "$T/artifact1.bin=a1" --artifact "$T/artifact2.bin=a2")

"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/sign1.txt"
grep -q '^sign: 1 responses published (1 signed, 0 rejected), 2 operations, 2 HSM operations, 0 from the signing cache' \
	"$T/sign1.txt" || fail "first pass: $(cat "$T/sign1.txt")"
response_of "$id" > "$T/resp.json" || fail "no response in the queue"
[ "$(jq -r .status "$T/resp.json")" = signed ] || fail "not signed"
[ "$(jq -r .sign_node "$T/resp.json")" = "$FPR_SIGN" ] || fail "sign node"
openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/platform.pub"
artifact_sigs_verify "$id" "$T/platform.pub"
# The response commit is the sign node's, and the whole queue verifies.
GNUPGHOME="$T/gpg-admin" git -C "$T/queue.git" verify-commit main 2>/dev/null || fail "git refuses the response commit"
[ "$(GNUPGHOME="$T/gpg-admin" git -C "$T/queue.git" log -1 --format=%GF main)" = "$FPR_SIGN" ] ||
	fail "the response commit is not signed by the sign node"
"$ROMBSR" --config "$SIGN_CONF" queue-verify | grep -q '^queue ok: 3 commits, 1 requests, 1 responses (1 signed' ||
	fail "queue-verify after signing"

# Nothing new: nothing published.
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once | grep -q '^sign: 0 responses published' || fail "second pass published"

# The same build again: answered from the cache, no HSM operation.
id2=$(submit_journal user)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/sign3.txt"
grep -q '^sign: 1 responses published (1 signed, 0 rejected), 2 operations, 0 HSM operations, 2 from the signing cache' \
	"$T/sign3.txt" || fail "re-sign of an unchanged build: $(cat "$T/sign3.txt")"
[ "$(response_of "$id2" | jq -r '.signatures[0].signature')" = "$(jq -r '.signatures[0].signature' "$T/resp.json")" ] ||
	[ "$(response_of "$id2" | jq -r '.signatures[0].signature')" = "$(jq -r '.signatures[1].signature' "$T/resp.json")" ] ||
	fail "cached signature differs"

# A queue reached by path (no server): the confined worker may push into it.
id3=$(submit_journal eng)
sed "s|url = $QUEUE_URL|url = $T/queue.git|" "$SIGN_CONF" > "$T/sign-path.conf"
grep -q "url = $T/queue.git" "$T/sign-path.conf" || fail "no path queue configuration"
"$ROMBSR_SIGN" --config "$T/sign-path.conf" sign --once > "$T/sign4.txt" 2>"$T/sign4.err" ||
	fail "sign through a queue path: $(cat "$T/sign4.err")"
[ "$(response_of "$id3" | jq -r .status)" = signed ] || fail "not answered through a queue path"

echo "sign --once ok"
