# rombsr audit-show on a queue a real sign node wrote: every filter gives
# exactly the entries an independent filter of the raw log gives; bad filter
# values are refused with one line; a tampered log shows nothing (exit 3);
# entries no signed checkpoint covers are never shown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

audit_queue
A=$(auditor auditor)
Q="$T/queue.git"
queue_entries "$Q" > "$T/all.jsonl"
total=$(wc -l < "$T/all.jsonl")
[ "$total" -gt 8 ] || fail "expected a log of more than 8 entries, got $total"

# where PYEXPR: the raw lines whose entry e satisfies PYEXPR.
where() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if eval(sys.argv[2]):
        sys.stdout.write(line)' "$T/all.jsonl" "$1"
}
# same NAME PYEXPR show-args...: audit-show --json prints exactly those lines,
# and the text form one line per entry, starting with its index and type.
same() {
	local name=$1 expr=$2; shift 2
	where "$expr" > "$T/want-$name"
	"$ROMBSR" --config "$A" audit-show --repo "$Q" --json "$@" > "$T/got-$name" 2>"$T/err-$name" ||
		fail "$name: audit-show failed: $(cat "$T/err-$name")"
	cmp -s "$T/want-$name" "$T/got-$name" ||
		fail "$name: audit-show $* differs from the raw log: $(diff "$T/want-$name" "$T/got-$name" | head -5)"
	"$ROMBSR" --config "$A" audit-show --repo "$Q" "$@" > "$T/text-$name" 2>/dev/null || fail "$name: text form"
	python3 -c 'import json,sys; [print(e["index"], e["type"]) for e in map(json.loads, open(sys.argv[1]))]' \
		"$T/want-$name" > "$T/want-text-$name"
	awk '{print $1, $3}' "$T/text-$name" | cmp -s - "$T/want-text-$name" || fail "$name: text form lines differ"
	[ -s "$T/want-$name" ] || [ "$name" = none ] || fail "$name: the filter matched nothing, the test proves nothing"
	echo "ok: $name: $(wc -l < "$T/got-$name") entries"
}

same all 'True'
cmp -s "$T/all.jsonl" "$T/got-all" || fail "--json is not the log byte for byte"
grep -q "$total of $total entries shown" "$T/err-all" || fail "summary: $(cat "$T/err-all")"
same rejected "e.get('request_id') == '$REQ_REJECTED'" --request "$REQ_REJECTED"
grep -q 'request-rejected .*reason=expired detail="' "$T/text-rejected" || fail "rejection line: $(cat "$T/text-rejected")"
same request1 "e.get('request_id') == '$REQ_SIGNED1'" --request "$REQ_SIGNED1"
[ "$(wc -l < "$T/got-request1")" -eq 3 ] || fail "request $REQ_SIGNED1: a decision and two signatures expected"
same signatures "e['type'] == 'signature'" --type signature
same logins "e['type'] == 'hsm-login'" --type hsm-login
fpr=$(where "e['type'] == 'signature'" | jq -rs '.[0].key_fingerprint')
same key-label "e.get('key_label') == 'platform'" --key platform
same key-fpr "e.get('key_fingerprint') == '$fpr'" --key "$fpr"
cmp -s "$T/got-key-label" "$T/got-key-fpr" || fail "--key by label and by fingerprint differ"
same key-request "e.get('key_label') == 'platform' and e.get('request_id') == '$REQ_SIGNED1'" \
	--key platform --request "$REQ_SIGNED1" --type signature
same none "False" --key no-such-key
# Times: entry times are whole seconds; split the log at the last entry's.
t=$(tail -1 "$T/all.jsonl" | jq .time)
iso=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
same since "e['time'] >= $t" --since "$iso"
same until "e['time'] < $t" --until "$t"
same day "True" --since "$(date -u -d "@$t" +%Y-%m-%d)" --until "$(date -u -d "@$((t + 86400))" +%Y-%m-%d)"
same window "e['time'] >= $t and e['type'] == 'signature'" --since "$t" --until 2999-01-01 --type signature

# Bad filter values: one line naming the option; the usage-error exit of
# every rombsr command (1), never the verification failure's (3).
usage_error() { # TEXT args...
	local want=$1 rc=0; shift
	expect_fail "$want" "$ROMBSR" --config "$A" audit-show --repo "$Q" "$@"
	"$ROMBSR" --config "$A" audit-show --repo "$Q" "$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "audit-show $*: exit $rc, expected 1"
}
usage_error "--type: 'signatures' is not an entry type (request-signed," --type signatures
usage_error "--since: 'yesterday' is not a time" --since yesterday
usage_error "--until: '2026-02-30' is not a time" --until 2026-02-30
usage_error "--since: '2026-01-01T00:00:00' is not a time" --since 2026-01-01T00:00:00
usage_error "--since: '99999999999999999999' is not a time" --since 99999999999999999999
usage_error "--request: 'abc' is not a request ID" --request abc
usage_error "--key: 'a b' is neither a key label nor a SHA-256 fingerprint" --key 'a b'
usage_error "--since must be before --until" --since 2026-01-02 --until 2026-01-01
usage_error "--json takes no value" --json=yes
usage_error "unexpected argument 'extra'" extra
printf '[core]\n\tstate-dir = %s\n' "$T/nokey" > "$T/nokey.conf"
expect_fail "no audit verifier key" "$ROMBSR" --config "$T/nokey.conf" audit-show --repo "$Q"

# A tampered log: exit 3, not one entry shown.
git clone -q "$Q" "$T/t-edit"
c=$(git -C "$T/t-edit" ls-files audit/entries | sort | head -1)
sed -i '1s/"result":"ok"/"result":"failed"/' "$T/t-edit/$c"
git -C "$T/t-edit" -c user.name=x -c user.email=x@x commit -qam edit
rc=0
"$ROMBSR" --config "$(auditor a-edit)" audit-show --repo "$T/t-edit" > "$T/edit.out" 2> "$T/edit.err" || rc=$?
[ "$rc" -eq 3 ] || fail "tampered log: exit $rc, expected 3"
grep -q "tampered with from entry 0" "$T/edit.err" || fail "tampered log: $(cat "$T/edit.err")"
[ ! -s "$T/edit.out" ] || fail "entries shown from a tampered log"
echo "ok: tampered log refused: $(cat "$T/edit.err")"

# An entry past the newest checkpoint, correctly chained (so the log
# verifies), but vouched for by no signature: never shown.
git clone -q "$Q" "$T/t-tail"
python3 - "$T/all.jsonl" "$T/t-tail" <<'PY'
import hashlib, json, os, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
n = len(lines)
last = json.loads(lines[-1])
e = {"index": n, "prev": hashlib.sha256(b"\0" + lines[-1]).hexdigest(), "result": "ok", "role": "signing",
     "time": last["time"], "token": "rombsr-forged", "type": "hsm-login", "v": 1}
name = "%020d" % n
path = os.path.join(sys.argv[2], "audit/entries", name[:14], name[14:17], name + ".log")
os.makedirs(os.path.dirname(path), exist_ok=True)
open(path, "w").write(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n")
PY
git -C "$T/t-tail" add audit
git -C "$T/t-tail" -c user.name=x -c user.email=x@x commit -qm tail
"$ROMBSR" --config "$(auditor a-tail)" audit-show --repo "$T/t-tail" --json > "$T/tail.out" 2> "$T/tail.err" ||
	fail "a log with an unvouched tail: $(cat "$T/tail.err")"
cmp -s "$T/tail.out" "$T/all.jsonl" || fail "the unvouched entry was shown"
grep -q "entries $total to $total are not covered by a checkpoint yet and are not shown" "$T/tail.err" ||
	fail "the unvouched entry is not named: $(cat "$T/tail.err")"
echo "audit show ok"
