# hsm-revoke (docs/incident-response.md, docs/formats/incident.md): an
# admin revokes the media key: the revocation is committed to the queue
# with the admin's key, then the key is destroyed in the token. From then
# on the sign node rejects the key (key-revoked) while other keys sign, the
# audit log holds a key-revocation entry, and apply refuses a response with
# a media signature committed after the revocation (the revocation point)
# but applies one committed before. Refused with nothing committed and the
# key kept: an unknown key, an unknown token, a key that is no pinned
# admin, a URI carrying a PIN. Refused by the hook: a revocation by a build
# node, one whose file name is another key's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

with_bundle
with_queue
sign_config
heads() { git -C "$T/queue.git" rev-parse main; }
revoke() { "$ROMBSR_SIGN" --config "$SIGN_CONF" hsm-revoke --admin-gpg-home "$T/gpg-admin" "$@"; }
media_present() { "$ROMBSR_SIGN" --config "$SIGN_CONF" keys --key media 2>/dev/null | awk 'NR > 1 {print ($3 == "-" ? "-" : $4)}'; }
apply_req() { "$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" --request "$1" --out "$T/sigs-$1"; }

journal_for media "$T/media.jsonl"
journal_for platform "$T/platform.jsonl"
MEDIA=$(jq -r '.keys[] | select(.label == "media") | .spki_sha256' "$T/bundle/manifest.json")
[ ${#MEDIA} -eq 64 ] || fail "no media fingerprint in the bundle"
before=$(submit_user "$T/media.jsonl")
sign_once
[ "$(response_of "$before" | jq -r .status)" = signed ] || fail "media before the revocation: $(response_of "$before")"

# Refusals: nothing committed, the key still in its token.
h0=$(heads)
URI="pkcs11:token=rombsr-release;object=media"
expect_fail "no key 'nosuch' in token 'rombsr-release': nothing revoked" \
	revoke --key "pkcs11:token=rombsr-release;object=nosuch" --reason r --admin-key "$FPR_ADMIN"
expect_fail "no authority of this sign node uses token 'rombsr-other'" \
	revoke --key "pkcs11:token=rombsr-other;object=media" --reason r --admin-key "$FPR_ADMIN"
expect_fail "is not a pinned admin (queue.admin)" revoke --key "$URI" --reason r --admin-key "$FPR_BUILD"
expect_fail "carries a PIN (pin-value)" revoke --key "$URI;pin-value=1234" --reason r --admin-key "$FPR_ADMIN"
expect_fail "names no key (object=" revoke --key "pkcs11:token=rombsr-release" --reason r --admin-key "$FPR_ADMIN"
expect_fail "usage: rombsr-sign hsm-revoke" revoke --key "$URI" --admin-key "$FPR_ADMIN"
[ "$(heads)" = "$h0" ] || fail "a refused revocation committed something"
[ "$(media_present)" = "$MEDIA" ] || fail "a refused revocation touched the key: $(media_present)"

# A revocation by a build node, and one naming another key than its path:
# the hook refuses both.
git_clone_as build "$T/w"
push_revocation() { # WHO FILE-NAME [FPR]: a revocation of FPR (default media) by WHO, named FILE-NAME, committed and pushed
	git -C "$T/w" fetch -q origin
	git -C "$T/w" reset -q --hard origin/main
	mkdir -p "$T/w/revocations"
	jq -n --arg a "$(gpg_fpr "$1")" --arg f "${3:-$MEDIA}" '{format: "rombsr.revocation", version: 1, key: "pkcs11:token=rombsr-release;object=media",
		key_fingerprint: $f, key_label: "media", token: "rombsr-release", reason: "forged", admin: $a, time: "2026-12-03T18:00:00Z"}' \
		> "$T/w/revocations/$2.json"
	git -C "$T/w" add -A
	GNUPGHOME="$T/gpg-$1" git -C "$T/w" -c user.signingkey="$(gpg_fpr "$1")" commit -q -S -m "revocation by $1"
	git -C "$T/w" push -q origin HEAD:main 2>"$T/push.err"
}
push_revocation build "$MEDIA" && fail "the hook let a build node revoke a key"
grep -q "only an admin pinned in the sign node's configuration may revoke a key" "$T/push.err" || fail "hook: $(cat "$T/push.err")"
push_revocation admin "$(printf '%064d' 0)" && fail "the hook let a misnamed revocation in"
grep -q "revokes another key than the one its path names" "$T/push.err" || fail "hook: $(cat "$T/push.err")"
[ "$(heads)" = "$h0" ] || fail "a refused push changed the queue"
echo "ok: the hook refused a build node's revocation and a misnamed one"

# Two media requests before the revocation: one answered by a sign node
# that ignores it (tests/tools/respond, pushed after the revocation), one
# left to the real sign node.
late=$(submit_user "$T/media.jsonl")
commit=$(git -C "$T/queue.git" log --format=%H -1 main)
git -C "$T/queue.git" show "main:$(req_path "$late")" > "$T/late.json"
"$TOOLS/respond" --request "$T/late.json" --request-commit "$commit" --sign-node "$FPR_SIGN" --out "$T/late-response.json" \
	--token pkcs11:token=rombsr-release "$RELEASE_PIN" || fail "respond"
pending=$(submit_user "$T/media.jsonl")

revoke --key "$URI" --reason "media key exposed" --admin-key "$FPR_ADMIN" > "$T/revoke.out" 2>"$T/revoke.err" ||
	fail "hsm-revoke: $(cat "$T/revoke.err")"
grep -q "^revoked media (fingerprint $MEDIA) in token 'rombsr-release': destroyed$" "$T/revoke.out" || fail "hsm-revoke said: $(cat "$T/revoke.out")"
rev_commit=$(heads)
[ "$(GNUPGHOME="$T/gpg-admin" git -C "$T/queue.git" log -1 --format=%GF "$rev_commit")" = "$FPR_ADMIN" ] ||
	fail "the revocation commit is not the admin's"
git -C "$T/queue.git" show "main:revocations/$MEDIA.json" | jq -e --arg f "$MEDIA" \
	'.format == "rombsr.revocation" and .key_fingerprint == $f and .key == "pkcs11:token=rombsr-release;object=media"' >/dev/null ||
	fail "revocation record"
[ "$(media_present)" = "-" ] || fail "media still in the token: $(media_present)"
echo "ok: revoked: $(cat "$T/revoke.out")"

# The stale answer goes in after the revocation (the hook checks who, not what).
git_clone_as sign "$T/s"
mkdir -p "$T/s/$(dirname "$(resp_path "$late")")"
cp "$T/late-response.json" "$T/s/$(resp_path "$late")"
git -C "$T/s" add -A
GNUPGHOME="$T/gpg-sign" git -C "$T/s" -c user.signingkey="$FPR_SIGN" commit -q -S -m "response $late"
git -C "$T/s" push -q origin HEAD:main 2>"$T/push.err" || fail "push: $(cat "$T/push.err")"

# The sign node: media rejected key-revoked, platform signed.
other=$(submit_user "$T/platform.jsonl")
sign_once
[ "$(response_of "$pending" | jq -r .reason.code)" = key-revoked ] || fail "revoked key: $(response_of "$pending")"
[ "$(response_of "$other" | jq -r .status)" = signed ] || fail "platform after the revocation: $(response_of "$other")"
echo "ok: sign node: $(response_of "$pending" | jq -r .reason.message)"

# apply: the response from before the revocation applies, the late one is refused.
apply_req "$before" >/dev/null 2>"$T/apply.err" || fail "apply before the revocation: $(cat "$T/apply.err")"
rc=0
apply_req "$late" >/dev/null 2>"$T/apply.err" || rc=$?
[ "$rc" -eq 3 ] && grep -q "signature 0 is by key 'media', revoked by an admin (revocations/$MEDIA.json)" "$T/apply.err" &&
	[ "$(wc -l < "$T/apply.err")" -eq 1 ] || fail "apply of a response after the revocation: exit $rc: $(cat "$T/apply.err")"
[ ! -e "$T/sigs-$late" ] || fail "apply wrote signatures of a revoked key"
echo "ok: apply refused: $(cat "$T/apply.err")"

# The audit log: the admin's revocation (with its commit) and the key gone.
A=$(auditor auditor)
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --key media 2>/dev/null > "$T/media.log"
grep -q "key-revocation key_label=media key_fingerprint=$MEDIA token=rombsr-release commit=$rev_commit detail=\"media key exposed\"" "$T/media.log" ||
	fail "no key-revocation entry: $(cat "$T/media.log")"
grep -q "key-revoked key_label=media key_fingerprint=$MEDIA reason=removed" "$T/media.log" || fail "no key-revoked entry: $(cat "$T/media.log")"
rc=0
revoke --key "$URI" --reason again --admin-key "$FPR_ADMIN" >/dev/null 2>"$T/again.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "no key 'media' in token 'rombsr-release'" "$T/again.err" || fail "revoking twice: $(cat "$T/again.err")"

# Past a bypassed hook, a build node's revocation (of platform) is a failed
# security check for the sign node and queue-verify (exit 3), not a
# revocation: platform is not refused, it is the node that stops.
mv "$T/queue.git/hooks/pre-receive" "$T/pre-receive.off"
PLATFORM=$(jq -r '.keys[] | select(.label == "platform") | .spki_sha256' "$T/bundle/manifest.json")
push_revocation build "$PLATFORM" "$PLATFORM" || fail "push past the hook: $(cat "$T/push.err")"
mv "$T/pre-receive.off" "$T/queue.git/hooks/pre-receive"
rc=0
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/sign.err" || rc=$?
[ "$rc" -eq 3 ] && grep -q "only an admin pinned in the sign node's configuration may revoke a key" "$T/sign.err" ||
	fail "a forged revocation past the hook: exit $rc: $(cat "$T/sign.err")"
rc=0
"$ROMBSR" --config "$SIGN_CONF" queue-verify >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "queue-verify accepted a forged revocation (exit $rc)"
echo "ok: a forged revocation past the hook stops the sign node: $(cat "$T/sign.err")"
echo "revoke ok"
