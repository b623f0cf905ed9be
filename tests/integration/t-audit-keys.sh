# Key events: the sign node logs key-generated for every key of its tokens
# the log does not hold yet, nothing again on a restart, one entry for a key
# keygen added, key-revoked for a key deleted from a token — and nothing for
# the keys of a token it did not open. The events reach the queue with the
# next published pass and verify there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

with_bundle
with_queue
sign_config
LOG="$T/state/sign/audit/entries"

# key_events: the key events of the sign node's log, one line each:
# type label fingerprint algorithm-or-reason token.
key_events() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["type"] == "key-generated":
        print(e["type"], e["key_label"], e["key_fingerprint"], e["algorithm"], e["token"])
    elif e["type"] == "key-revoked":
        print(e["type"], e["key_label"], e["key_fingerprint"], e["reason"], "-")' "$LOG"
}
# hsm_keys: what the tokens hold, as key-generated lines would name it.
hsm_keys() {
	"$ROMBSR_SIGN" keys | awk 'NR > 1 && $3 != "-" {print "key-generated", $1, $4, $3, "rombsr-" $2}' | sort
}
delete_key() { # AUTHORITY LABEL
	"$TOOLS/hsm-delete-key" "$SOFTHSM_MODULE" "pkcs11:token=rombsr-$1" "$T/state/pins/$1.pin" "$2" ||
		fail "deleting $2"
}

# The key set without bluetooth (deleted before the node first starts).
delete_key release bluetooth
hsm_keys > "$T/hsm1"
grep -q ' bluetooth ' "$T/hsm1" && fail "bluetooth still in the token"
[ "$(wc -l < "$T/hsm1")" -eq 11 ] || fail "expected 11 keys in the tokens: $(cat "$T/hsm1")"

sign_once
key_events > "$T/ev1"
sort "$T/ev1" | cmp -s - "$T/hsm1" || fail "first start: the key events are not the tokens' keys: $(diff <(sort "$T/ev1") "$T/hsm1")"
grep -q "11 key events logged" "$T/sign.err" || fail "the node did not say what it logged: $(cat "$T/sign.err")"
echo "ok: first start: a key-generated entry for each of the 11 keys"

sign_once
key_events > "$T/ev2"
cmp -s "$T/ev1" "$T/ev2" || fail "a restart logged key events again: $(diff "$T/ev1" "$T/ev2")"
grep -c '"type":"hsm-login"' "$LOG" | grep -qx 6 || fail "the second start did not log in"
echo "ok: restart: no new key events"

# keygen puts bluetooth (back) into the token: one entry, its new key.
"$ROMBSR_SIGN" keygen --authority release 2>/dev/null || fail "keygen"
sign_once
key_events > "$T/ev3"
[ "$(wc -l < "$T/ev3")" -eq 12 ] || fail "keygen: expected one new event: $(diff "$T/ev2" "$T/ev3")"
want=$(hsm_keys | grep ' bluetooth ')
[ "$(tail -1 "$T/ev3")" = "$want" ] || fail "keygen: the new event is '$(tail -1 "$T/ev3")', the token holds '$want'"
echo "ok: keygen: $(tail -1 "$T/ev3")"

# media deleted from the token: key-revoked, reason removed, once.
media=$(awk '$2 == "media" {print $3}' "$T/ev3")
delete_key release media
sign_once
sign_once
key_events > "$T/ev4"
[ "$(wc -l < "$T/ev4")" -eq 13 ] || fail "a deleted key: expected one event: $(diff "$T/ev3" "$T/ev4")"
[ "$(tail -1 "$T/ev4")" = "key-revoked media $media removed -" ] || fail "revocation: $(tail -1 "$T/ev4")"
echo "ok: deleted: $(tail -1 "$T/ev4")"

# The manifest authority not served this time (no PIN file): its key is not
# gone, nothing is logged about it.
mv "$T/state/pins/manifest.pin" "$T/manifest.pin"
sign_once
key_events | cmp -s - "$T/ev4" || fail "a token the node did not open: $(key_events | diff "$T/ev4" -)"
mv "$T/manifest.pin" "$T/state/pins/manifest.pin"
sign_once
key_events | cmp -s - "$T/ev4" || fail "the manifest token back: $(key_events | diff "$T/ev4" -)"
echo "ok: an authority not served: nothing logged about its keys"

# The next published pass carries the events into the queue; an auditor
# sees exactly them, and the whole log verifies.
capture_journal
submit_journal user --artifact "$T/artifact1.bin=a1" >/dev/null
sign_once
A=$(auditor auditor)
"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" || fail "audit-verify"
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --type key-generated --json 2>/dev/null > "$T/shown"
grep '"type":"key-generated"' "$LOG" | cmp -s - "$T/shown" || fail "audit-show does not show the node's key-generated entries"
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --key "$media" 2>/dev/null > "$T/media"
[ "$(wc -l < "$T/media")" -eq 2 ] && grep -q "key-revoked key_label=media key_fingerprint=$media reason=removed" "$T/media" ||
	fail "the media key's history: $(cat "$T/media")"
echo "audit keys ok"
