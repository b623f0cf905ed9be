# queue-verify and apply verify only the commits after the head they
# recorded (docs/queue.md, "The verified record"): the count of commits
# verified now shows it; --full verifies everything again; a history that
# no longer descends from a recorded head is refused (exit 3) and nothing is
# written; a damaged record stops the command with a clear message; other
# pinned admins or a bare commit ID (an older rombsr's record) mean a full
# verification; scratch keyrings of killed processes are swept. Real
# binaries: submit, tests/tools/respond through SoftHSM2, git commits
# signed with gpg, the hook on git://.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_apply_queue
capture_journal
gpg_identity auditor
AUDIT_CONF=$(node_config auditor "$QUEUE_URL")
RECORD="$T/node-auditor/state/queue-verified.head"
APPLY_RECORD="$T/node-build/state/apply-verified.head"

# verify_ok WANT [ARGS]: queue-verify prints one line starting with WANT.
verify_ok() {
	local want=$1 out; shift
	out=$("$ROMBSR" --config "$AUDIT_CONF" queue-verify "$@") || fail "queue-verify $*: exit $?"
	case "$out" in
	"$want"*) echo "ok: $out" ;;
	*) fail "queue-verify $* said '$out', not '$want…'" ;;
	esac
}
# verify_refused STATUS TEXT [ARGS]: exit STATUS, one line with TEXT, and
# the record untouched.
verify_refused() {
	local status=$1 want=$2 before after; shift 2
	before=$(sha256sum "$RECORD" 2>/dev/null || true)
	refused "$status" "$want" "$T/never-written" "$ROMBSR" --config "$AUDIT_CONF" queue-verify "$@"
	after=$(sha256sum "$RECORD" 2>/dev/null || true)
	[ "$before" = "$after" ] || fail "the record changed although queue-verify refused"
}
counts() { grep -o 'head [0-9a-f]*, [0-9]* verified now' <<<"$1"; }

# A request and its response, then the first run verifies all three commits
# and records the head.
id1=$(submit_journal "$BUILD_CONF")
respond_and_push "$T/sign-clone" "$id1"
head=$(git -C "$T/queue.git" rev-parse main)
verify_ok "queue ok: 3 commits, 1 requests, 1 responses (1 signed, 0 rejected), 0 pending, head $head, 3 verified now"
admins=$(printf '%s\n' "$FPR_ADMIN" | sha256sum | cut -d' ' -f1)
printf 'rombsr.queue-verified 1\nhead %s\nadmins %s\ncommits 3\nrequests 1\nresponses 1\nsigned 1\nrejected 0\n' \
	"$head" "$admins" | cmp -s - "$RECORD" || fail "record: $(cat "$RECORD")"
[ "$(stat -c %a "$RECORD")" = 600 ] || fail "record mode $(stat -c %a "$RECORD")"

# Nothing new: nothing verified, the totals carried over.
verify_ok "queue ok: 3 commits, 1 requests, 1 responses (1 signed, 0 rejected), 0 pending, head $head, 0 verified now"
# A request, verified alone; then its response, verified alone although its
# request is older than the record (matched through the commit it names).
id2=$(submit_journal "$BUILD_CONF")
verify_ok "queue ok: 4 commits, 2 requests, 1 responses (1 signed, 0 rejected), 1 pending" 
respond_and_push "$T/sign-clone" "$id2"
head=$(git -C "$T/queue.git" rev-parse main)
verify_ok "queue ok: 5 commits, 2 requests, 2 responses (2 signed, 0 rejected), 0 pending, head $head, 1 verified now"
# --full verifies every commit again, to the same totals.
verify_ok "queue ok: 5 commits, 2 requests, 2 responses (2 signed, 0 rejected), 0 pending, head $head, 5 verified now" --full

# apply: its own record; queue-verify's (further on) spares it the commits,
# and the response found before its record is looked up and checked.
apply_build --request "$id1" --out "$T/sigs1.json" >/dev/null || fail "apply of a recorded response"
[ -s "$T/sigs1.json" ] || fail "apply wrote no set"
[ "$(sed -n 2p "$APPLY_RECORD")" = "head $head" ] || fail "apply record: $(cat "$APPLY_RECORD")"
[ "$(wc -l < "$APPLY_RECORD")" -eq 3 ] || fail "apply's record carries totals"
# Waiting: the response comes while apply polls; only new commits verified.
id3=$(submit_journal "$BUILD_CONF")
apply_build --request "$id3" --out "$T/sigs3.json" --timeout 60 > "$T/apply3.out" 2>&1 &
waiter=$!
sleep 1
respond_and_push "$T/sign-clone" "$id3"
wait "$waiter" || fail "apply --timeout: $(cat "$T/apply3.out")"
head=$(git -C "$T/queue.git" rev-parse main)
[ "$(sed -n 2p "$APPLY_RECORD")" = "head $head" ] || fail "apply record after waiting"
verify_ok "queue ok: 7 commits, 3 requests, 3 responses (3 signed, 0 rejected), 0 pending, head $head, 2 verified now"

# A rewritten history (a clone reset by one commit and given as --repo):
# exit 3 naming the recorded commit, nothing written.
git clone -q --bare "$T/queue.git" "$T/rewritten.git"
git -C "$T/rewritten.git" update-ref refs/heads/main "$head~1"
verify_refused 3 "history rewritten: the queue's head $(git -C "$T/queue.git" rev-parse --short=12 "$head~1") does not descend from ${head:0:12}, verified before ($RECORD)" --repo "$T/rewritten.git"
verify_refused 3 "history rewritten" --repo "$T/rewritten.git" --full
# apply's record is checked too: queue-verify refuses a history apply saw go further.
id4=$(submit_journal "$BUILD_CONF")
respond_and_push "$T/sign-clone" "$id4"
"$ROMBSR" --config "$AUDIT_CONF" apply --bundle "$T/bundle" --request "$id4" --out "$T/sigs4.json" >/dev/null ||
	fail "apply of $id4"
git -C "$T/rewritten.git" fetch -q "$T/queue.git" main
git -C "$T/rewritten.git" update-ref refs/heads/main "$(git -C "$T/queue.git" rev-parse main~1)"
verify_refused 3 "does not descend from $(git -C "$T/queue.git" rev-parse --short=12 main), verified before ($T/node-auditor/state/apply-verified.head)" --repo "$T/rewritten.git"
verify_ok "queue ok: 9 commits, 4 requests, 4 responses (4 signed, 0 rejected), 0 pending"

# A damaged record stops the command (exit 1), with or without --full, and
# is left as it is; removed, the next run verifies everything.
cp "$RECORD" "$T/record.good"
sed -i 's/^commits 9$/commits nine/' "$RECORD"
verify_refused 1 "$RECORD: line 4: expected 'commits' and a count (remove the file to verify the whole history again)"
verify_refused 1 "line 4: expected 'commits'" --full
printf 'rombsr.queue-verified 1\nhead %s\n' "$head" > "$RECORD"
verify_refused 1 "$RECORD: line 1: not a verified record"
printf 'not a record\n' > "$RECORD"
verify_refused 1 "$RECORD: line 1: not a verified record"
: > "$RECORD"
verify_refused 1 "$RECORD: not a verified record (empty, binary or cut short)"
sed 's/^responses 4$/responses 5/' "$T/record.good" > "$RECORD"
verify_refused 1 "the totals do not add up"
rm "$RECORD"
out=$("$ROMBSR" --config "$AUDIT_CONF" queue-verify)
[ "$(counts "$out" | grep -o '[0-9]* verified')" = "9 verified" ] || fail "after removing the record: $out"
# An older rombsr's record (a bare commit ID): guards against rewriting,
# then a full verification, and the record is rewritten in this format.
git -C "$T/queue.git" rev-parse main > "$RECORD"
out=$("$ROMBSR" --config "$AUDIT_CONF" queue-verify)
[ "$(counts "$out" | grep -o '[0-9]* verified')" = "9 verified" ] || fail "legacy record: $out"
cmp -s "$RECORD" "$T/record.good" || fail "legacy record not rewritten: $(cat "$RECORD")"
git -C "$T/queue.git" rev-parse main~2 > "$RECORD"
out=$("$ROMBSR" --config "$AUDIT_CONF" queue-verify)
[ "$(counts "$out" | grep -o '[0-9]* verified')" = "9 verified" ] || fail "legacy record: $out"
# Other pinned admins: what was verified under the old pins proves
# nothing; everything is verified again under the new ones.
sed -i "s/^\tadmin = .*/\tadmin = $FPR_ADMIN\n\tadmin = $FPR_AUDITOR/" "$AUDIT_CONF"
out=$("$ROMBSR" --config "$AUDIT_CONF" queue-verify)
[ "$(counts "$out" | grep -o '[0-9]* verified')" = "9 verified" ] || fail "new pins: $out"
grep -qx "admins $(printf '%s\n' "$FPR_ADMIN" "$FPR_AUDITOR" | sort | sha256sum | cut -d' ' -f1)" "$RECORD" ||
	fail "record does not name the new pins: $(cat "$RECORD")"
out=$("$ROMBSR" --config "$AUDIT_CONF" queue-verify)
[ "$(counts "$out" | grep -o '[0-9]* verified')" = "0 verified" ] || fail "second run with new pins: $out"

# Scratch keyrings left by killed processes (named after their process) are
# removed by the next verification; a live process's stays.
mkdir "$T/tmp"
sleep 30 &
dead=$!
kill "$dead"
wait "$dead" 2>/dev/null || true
mkdir "$T/tmp/rombsr-keyring.$dead.AbCdEf" "$T/tmp/rombsr-keyring.$$.AbCdEf" "$T/tmp/rombsr-keyring.x.AbCdEf"
touch "$T/tmp/rombsr-keyring.$dead.AbCdEf/pubring.kbx"
TMPDIR="$T/tmp" "$ROMBSR" --config "$AUDIT_CONF" queue-verify --full > /dev/null || fail "queue-verify with a stale keyring"
[ ! -e "$T/tmp/rombsr-keyring.$dead.AbCdEf" ] || fail "a dead process's keyring was left"
[ -d "$T/tmp/rombsr-keyring.$$.AbCdEf" ] && [ -d "$T/tmp/rombsr-keyring.x.AbCdEf" ] ||
	fail "a live process's keyring, or one not named after a process, was removed"
[ "$(ls "$T/tmp" | wc -l)" -eq 2 ] || fail "queue-verify left its own keyring: $(ls "$T/tmp")"
echo "ok: a killed process's scratch keyring is removed by the next one"
echo "incremental verification ok"
