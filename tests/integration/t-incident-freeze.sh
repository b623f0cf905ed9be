# Freeze and thaw (docs/incident-response.md): an admin's signed commit of
# incident/freeze.json makes the sign node reject every request with
# reason frozen (a signed rejection, in the audit log) until an admin's
# thaw; nothing is signed meanwhile. Refused, with nothing committed: a
# freeze by a build node (rombsr, the hook), a second freeze, a thaw of a
# queue that is not frozen, a bad reason. A forged thaw pushed past the
# hook stops the sign node (exit 3) and leaves it frozen.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

with_bundle
with_queue
sign_config
capture_journal
heads() { git -C "$T/queue.git" rev-parse main; }

# Refusals before anything is committed.
h0=$(heads)
expect_fail "is not a pinned admin (queue.admin): only an admin may freeze signing" \
	"$ROMBSR" --config "$BUILD_CONF" freeze --reason "build node says so"
expect_fail "signing is not frozen: there is nothing to thaw" "$ROMBSR" --config "$ADMIN_CONF" thaw
expect_fail "--reason takes 1 to 256 printable ASCII characters" "$ROMBSR" --config "$ADMIN_CONF" freeze --reason ""
expect_fail "usage: rombsr freeze --reason TEXT" "$ROMBSR" --config "$ADMIN_CONF" freeze
[ "$(heads)" = "$h0" ] || fail "a refused freeze or thaw committed something"

# The admin freezes; a second freeze is refused.
"$ROMBSR" --config "$ADMIN_CONF" freeze --reason "build node 2 compromised" > "$T/freeze.out" || fail "freeze"
grep -q "^signing frozen: commit $(heads)$" "$T/freeze.out" || fail "freeze said: $(cat "$T/freeze.out")"
git -C "$T/queue.git" show main:incident/freeze.json | jq -e --arg a "$FPR_ADMIN" \
	'.format == "rombsr.freeze" and .version == 1 and .state == "frozen" and .admin == $a' >/dev/null ||
	fail "freeze record: $(git -C "$T/queue.git" show main:incident/freeze.json)"
h1=$(heads)
expect_fail "signing is already frozen, since" "$ROMBSR" --config "$ADMIN_CONF" freeze --reason again
[ "$(heads)" = "$h1" ] || fail "a second freeze committed something"

# Frozen: a request gets a signed rejection, and nothing is signed; a new
# sign node process (a restart) reads the same state from the queue.
id1=$(submit_journal user)
sign_once
[ "$(response_of "$id1" | jq -r .status)/$(response_of "$id1" | jq -r .reason.code)" = rejected/frozen ] ||
	fail "frozen: $(response_of "$id1")"
response_of "$id1" | jq -r .reason.message | grep -q "by admin $FPR_ADMIN: build node 2 compromised" ||
	fail "the rejection does not say why: $(response_of "$id1" | jq -r .reason.message)"
[ ! -s "$T/state/signer/cache-release" ] || fail "something was signed while frozen"
id2=$(submit_journal user)
sign_once
[ "$(response_of "$id2" | jq -r .reason.code)" = frozen ] || fail "frozen after a restart: $(response_of "$id2")"
"$ROMBSR_SIGN" --config "$SIGN_CONF" status 2>/dev/null | grep -q "^signing: signing is frozen since .* by admin $FPR_ADMIN: build node 2 compromised$" ||
	fail "status does not say frozen: $("$ROMBSR_SIGN" --config "$SIGN_CONF" status 2>&1)"
echo "ok: frozen: rejected ($(response_of "$id1" | jq -r .reason.message))"

# A build node's thaw: the hook refuses it.
git_clone_as build "$T/w"
jq '.state = "thawed" | .reason = "let me sign"' "$T/w/incident/freeze.json" > "$T/thaw.json"
cp "$T/thaw.json" "$T/w/incident/freeze.json"
git -C "$T/w" add -A
GNUPGHOME="$T/gpg-build" git -C "$T/w" -c user.signingkey="$FPR_BUILD" commit -q -S -m "forged thaw"
git -C "$T/w" push -q origin HEAD:main 2>"$T/push.err" && fail "the hook let a build node thaw"
grep -q "only an admin pinned in the sign node's configuration may freeze or thaw signing" "$T/push.err" ||
	fail "hook: $(cat "$T/push.err")"
echo "ok: hook refused: $(grep refused "$T/push.err")"

# The admin thaws: the next request is signed; the log holds both changes.
"$ROMBSR" --config "$ADMIN_CONF" thaw --reason "build node 2 rebuilt" | grep -q '^signing thawed: commit' || fail "thaw"
expect_fail "signing is not frozen" "$ROMBSR" --config "$ADMIN_CONF" thaw
id3=$(submit_journal user)
sign_once
[ "$(response_of "$id3" | jq -r .status)" = signed ] || fail "after the thaw: $(response_of "$id3")"
"$ROMBSR_SIGN" --config "$SIGN_CONF" status 2>/dev/null | grep -q "^signing: not frozen$" || fail "status after the thaw"
A=$(auditor auditor)
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --type freeze 2>/dev/null > "$T/freezes"
[ "$(wc -l < "$T/freezes")" -eq 2 ] && grep -q 'freeze state=frozen commit=.* detail="build node 2 compromised"' "$T/freezes" &&
	grep -q 'freeze state=thawed commit=.* detail="build node 2 rebuilt"' "$T/freezes" || fail "freeze entries: $(cat "$T/freezes")"
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --type request-rejected 2>/dev/null | grep -c 'reason=frozen' |
	grep -qx 2 || fail "the frozen rejections are not in the log"
echo "ok: thawed, signed; audit log: $(tr '\n' ';' < "$T/freezes")"

# Past a bypassed hook, a build node's freeze stops the sign node (a failed
# security check, exit 3) and queue-verify too.
"$ROMBSR" --config "$ADMIN_CONF" freeze --reason "second incident" >/dev/null || fail "freeze 2"
git -C "$T/w" pull -q --rebase=false origin main 2>/dev/null || { git -C "$T/w" fetch -q origin; git -C "$T/w" reset -q --hard origin/main; }
cp "$T/thaw.json" "$T/w/incident/freeze.json"
git -C "$T/w" add -A
GNUPGHOME="$T/gpg-build" git -C "$T/w" -c user.signingkey="$FPR_BUILD" commit -q -S -m "forged thaw"
mv "$T/queue.git/hooks/pre-receive" "$T/pre-receive.off"
git -C "$T/w" push -q origin HEAD:main
mv "$T/pre-receive.off" "$T/queue.git/hooks/pre-receive"
rc=0
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/sign.err" || rc=$?
[ "$rc" -eq 3 ] && grep -q "may freeze or thaw signing" "$T/sign.err" || fail "forged thaw: exit $rc: $(cat "$T/sign.err")"
rc=0
"$ROMBSR" --config "$SIGN_CONF" queue-verify >/dev/null 2>"$T/verify.err" || rc=$?
[ "$rc" -eq 3 ] || fail "queue-verify accepted a forged thaw: $(cat "$T/verify.err")"
echo "freeze ok"
