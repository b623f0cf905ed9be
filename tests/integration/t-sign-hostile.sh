# What reaches the queue past its hook (a local-path push, a mirror, an
# admin's mistake) never stops the real sign node: a request that is not
# JSON (with a raw control byte), a gitlink, a request larger than any may
# be, a symlink and an executable at request paths each get a signed
# rejection whose message holds only printable ASCII, and the node goes on
# to sign a good request. With the hook in place, each non-regular file is
# refused at the push. More requests waiting for approvals than the node
# keeps (sign.max-waiting) are refused with approvals-backlog, and an
# approval stored as a symlink counts for nothing. The queue and the audit
# log verify at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

with_bundle
with_queue
sign_config
capture_config "$T/capture.conf" capture
printf 'hostile payload\n' > "$T/data"
capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m SHA256-RSA-PKCS \
	--id "$(bundle_id platform)" -i "$T/data" -o "$T/ph" 2>/dev/null
good_journal="$T/journal.jsonl"
submit() { "$ROMBSR" --config "$BUILD_CONF" submit --journal "$good_journal" --product p --build-id "H.$RANDOM" \
	--source-commit "$(printf '%040d' 9)" --build-type user "$@"; }
pass() { "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >>"$T/pass.out" 2>>"$T/pass.err" ||
	fail "the sign node stopped: $(tail -3 "$T/pass.err")"; }
status_of() { response_of "$1" 2>/dev/null | jq -r '.status + "/" + (.reason.code // "")'; }

W="$T/work"
git_clone_as build "$W"
commit_as() { # NAME MESSAGE
	git -C "$W" add -A
	GNUPGHOME="$T/gpg-$1" git -C "$W" -c user.signingkey="$(gpg_fpr "$1")" commit -q -S -m "$2"
}
hook_off() { mv "$T/queue.git/hooks/pre-receive" "$T/pre-receive.off"; }
hook_on() { mv "$T/pre-receive.off" "$T/queue.git/hooks/pre-receive"; }
new_id() { # N: a request ID of today, distinct per N
	printf '%s%02x%022d' "$(date -u +%Y%m%d)" "$1" "$1"
}
place() { # ID: the request's folder exists in the work clone; prints its path
	mkdir -p "$W/$(queue_dir requests "$1")"
	printf '%s' "$W/$(req_path "$1")"
}

# A valid request the hostile ones copy, taken from the queue.
ref=$(submit)
pass
[ "$(status_of "$ref")" = "signed/" ] || fail "the reference request was not signed"
git -C "$W" pull -q --ff-only origin main
valid() { # ID: the reference request under another ID (a good request)
	jq --arg id "$1" '.id = $id' <(git -C "$T/queue.git" show "main:$(req_path "$ref")")
}

# With the hook: a symlink, an executable and a symlink approval are refused.
sym=$(new_id 1)
valid "$sym" > "$W/target.json"
ln -s ../../../../../target.json "$(place "$sym")"
rm "$W/target.json"
commit_as build "symlink request"
git -C "$W" push -q origin HEAD:main 2>"$T/push.err" && fail "the hook took a symlink request"
grep -q "not a regular file" "$T/push.err" || fail "the hook's refusal: $(cat "$T/push.err")"
git -C "$W" reset -q --hard origin/main
exe=$(new_id 2)
valid "$exe" > "$(place "$exe")"
chmod 755 "$W/$(req_path "$exe")"
commit_as build "executable request"
git -C "$W" push -q origin HEAD:main 2>"$T/push.err" && fail "the hook took an executable request"
grep -q "not a regular file" "$T/push.err" || fail "the hook's refusal: $(cat "$T/push.err")"
git -C "$W" reset -q --hard origin/main
echo "ok: the hook refuses a symlink and an executable request"

# Past the hook: each in its own commit by the build node.
hook_off
ctl=$(new_id 3); printf '\001{}' > "$(place "$ctl")"; commit_as build "control byte"
big=$(new_id 4); head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$(place "$big")"; commit_as build "17 MiB"
link=$(new_id 5)
blob=$(valid "$link" | git -C "$W" hash-object -w --stdin)
mkdir -p "$(dirname "$(place "$link")")"
git -C "$W" update-index --add --cacheinfo "120000,$(printf 'x' | git -C "$W" hash-object -w --stdin),$(req_path "$link")"
GNUPGHOME="$T/gpg-build" git -C "$W" -c user.signingkey="$FPR_BUILD" commit -q -S -m "symlink"
git -C "$W" update-index --add --cacheinfo "100755,$blob,$(req_path "$exe")"
GNUPGHOME="$T/gpg-build" git -C "$W" -c user.signingkey="$FPR_BUILD" commit -q -S -m "executable"
gl=$(new_id 6)
git -C "$W" update-index --add --cacheinfo "160000,$(git -C "$W" rev-parse HEAD),$(req_path "$gl")"
GNUPGHOME="$T/gpg-build" git -C "$W" -c user.signingkey="$FPR_BUILD" commit -q -S -m "gitlink"
git -C "$W" push -q origin HEAD:main || fail "push past the hook"
hook_on
good=$(submit)
pass
for id in "$ctl" "$big" "$link" "$exe" "$gl"; do
	[ "$(status_of "$id")" = "rejected/malformed" ] || fail "request $id: $(status_of "$id"), expected rejected/malformed"
	msg=$(response_of "$id" | jq -r .reason.message)
	LC_ALL=C grep -q '[^ -~]' <<<"$msg" && fail "request $id: the message holds a raw byte: $msg"
	echo "ok: $id rejected: $msg"
done
[ "$(status_of "$good")" = "signed/" ] || fail "the good request after them: $(status_of "$good")"
grep -q "is not a regular file in the queue (mode 120000)" <(response_of "$link") || fail "the symlink's reason"
grep -q "larger than the limit" <(response_of "$big") || fail "the large request's reason"
echo "ok: past the hook: five signed rejections, then a good request signed"

# Approvals: the policy asks one operator's approval for platform, and the
# node keeps at most two requests waiting.
printf '[sign]\n\tmax-waiting = 2\n' >> "$SIGN_CONF"
git -C "$W" fetch -q origin && git -C "$W" reset -q --hard origin/main
jq -n --arg o "$FPR_OPERATOR" '{format: "rombsr.policy", version: 1, serial: 2,
	operator_groups: {release: [$o]}, keys: {platform: {approvals: {group: "release", required: 1}}}}' \
	> "$W/policy/policy.json"
commit_as admin "policy 2: platform needs an approval"
git -C "$W" push -q origin HEAD:main || fail "admin push"
w1=$(submit); w2=$(submit); w3=$(submit)
pass
[ "$(status_of "$w3")" = "rejected/approvals-backlog" ] || fail "third waiting request: $(status_of "$w3")"
for id in "$w1" "$w2"; do
	response_of "$id" >/dev/null 2>&1 && fail "request $id was answered while it lacks approvals"
	grep -q "^$id " "$T/state/sign/waiting" || fail "request $id is not on the waiting list"
done
echo "ok: two wait, the third is refused: $(response_of "$w3" | jq -r .reason.message)"
# An approval stored as a symlink (past the hook) does not count, and the
# node goes on; a real approval then signs.
git -C "$W" pull -q --ff-only origin main
apath=$(approval_path "$w1" "$FPR_OPERATOR")
mkdir -p "$W/$(dirname "$apath")"
ln -s /etc/passwd "$W/$apath"
commit_as operator "symlink approval"
git -C "$W" push -q origin HEAD:main 2>"$T/push.err" && fail "the hook took a symlink approval"
grep -q "not a regular file" "$T/push.err" || fail "the hook's refusal: $(cat "$T/push.err")"
hook_off
git -C "$W" push -q origin HEAD:main || fail "push past the hook"
hook_on
pass
response_of "$w1" >/dev/null 2>&1 && fail "a symlink approval was counted"
grep -q "does not count" "$T/pass.err" || fail "the sign node did not say the approval does not count"
"$ROMBSR" --config "$OPERATOR_CONF" approve "$w2" >/dev/null 2>&1 || fail "approve $w2"
pass
[ "$(status_of "$w2")" = "signed/" ] || fail "approved request: $(status_of "$w2")"
echo "ok: a symlink approval counts for nothing; a real one signs"
# Each pass names a waiting request once, not on every pass.
[ "$(grep -c "request $w1: waiting for approvals" "$T/pass.err")" -eq 1 ] ||
	fail "the waiting request was reported $(grep -c "request $w1: waiting" "$T/pass.err") times"

"$ROMBSR" --config "$SIGN_CONF" queue-verify >/dev/null || fail "queue-verify"
A=$(auditor auditor)
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --type request-rejected --json |
	jq -r .reason | sort | uniq -c > "$T/reasons"
grep -q " 5 malformed" "$T/reasons" || fail "the log's rejections: $(cat "$T/reasons")"
grep -q " 1 approvals-backlog" "$T/reasons" || fail "the log's rejections: $(cat "$T/reasons")"
echo "hostile queue ok"
