# The incident runbook of docs/incident-response.md, rehearsed end to end
# on a real sign node, queue and SoftHSM2 token: a compromised build node
# gets the media key used; audit-anomalies finds it; the admin freezes
# signing (requests rejected frozen), revokes media (hsm-revoke), generates
# a new media key (keygen: rotation) and exports a new public bundle, then
# thaws: the revoked key is refused (key-revoked), the new media key and
# the other keys sign, and the whole log verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

with_bundle
with_queue
sign_config
outcome() { response_of "$1" | jq -r 'if .status == "signed" then "signed" else .reason.code end'; }
A=$(auditor auditor)

journal_for platform "$T/platform.jsonl"
journal_for media "$T/media.jsonl"
MEDIA=$(jq -r '.keys[] | select(.label == "media") | .spki_sha256' "$T/bundle/manifest.json")

# Before: the usual signing; then the compromised build node gets media used.
usual=$(submit_user "$T/platform.jsonl")
sign_once
sleep 1
incident=$(date -u +%s)
sleep 1
abuse=$(submit_user "$T/media.jsonl")
sign_once
[ "$(outcome "$usual")/$(outcome "$abuse")" = signed/signed ] || fail "before the incident: $(outcome "$usual")/$(outcome "$abuse")"

# Step 3 first, as a monitor would run it: audit-anomalies finds the new key.
rc=0
"$ROMBSR" --config "$A" audit-anomalies --repo "$T/queue.git" --since "$incident" >"$T/found" 2>"$T/found.err" || rc=$?
[ "$rc" -eq 3 ] && grep -q "^new-key key_label=media key_fingerprint=$MEDIA first signature at .* request_id=$abuse" "$T/found" ||
	fail "audit-anomalies: exit $rc: $(cat "$T/found" "$T/found.err")"
echo "ok: 3. audit-anomalies: $(cut -c1-100 "$T/found")"

# Step 1: stop signing, from the admin's machine; a request is refused.
"$ROMBSR" --config "$ADMIN_CONF" freeze --reason "media used by build node" >/dev/null || fail "freeze"
during=$(submit_user "$T/platform.jsonl")
sign_once
[ "$(outcome "$during")" = frozen ] || fail "frozen: $(outcome "$during")"
echo "ok: 1. freeze: $(response_of "$during" | jq -r .reason.message)"

# Step 2: revoke media (in the queue, then destroyed in the token).
"$ROMBSR_SIGN" --config "$SIGN_CONF" hsm-revoke --key "pkcs11:token=rombsr-release;object=media" \
	--reason "used by a compromised build node" --admin-key "$FPR_ADMIN" --admin-gpg-home "$T/gpg-admin" >/dev/null 2>"$T/revoke.err" ||
	fail "hsm-revoke: $(cat "$T/revoke.err")"
echo "ok: 2. revoked media $MEDIA"

# Step 4: a new media key in the HSM and a new public bundle.
"$ROMBSR_SIGN" --config "$SIGN_CONF" keygen --authority release >/dev/null 2>&1 || fail "keygen"
"$ROMBSR_SIGN" --config "$SIGN_CONF" export-public --out "$T/bundle2" >/dev/null 2>&1 || fail "export-public"
MEDIA2=$(jq -r '.keys[] | select(.label == "media") | .spki_sha256' "$T/bundle2/manifest.json")
[ -n "$MEDIA2" ] && [ "$MEDIA2" != "$MEDIA" ] || fail "rotation: media is still $MEDIA2"
journal_for media "$T/media2.jsonl" "$T/bundle2"
echo "ok: 4. rotated: media is now $MEDIA2"

# Thaw: the old key is refused, the new one and the others sign.
"$ROMBSR" --config "$ADMIN_CONF" thaw --reason "media rotated" >/dev/null || fail "thaw"
old=$(submit_user "$T/media.jsonl")
new=$(submit_user "$T/media2.jsonl")
other=$(submit_user "$T/platform.jsonl")
sign_once
[ "$(outcome "$old")/$(outcome "$new")/$(outcome "$other")" = key-revoked/signed/signed ] ||
	fail "after the thaw: $(outcome "$old")/$(outcome "$new")/$(outcome "$other")"
echo "ok: thawed: old media key-revoked, new media and platform signed"

"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" >/dev/null || fail "audit-verify"
"$ROMBSR" --config "$SIGN_CONF" queue-verify >/dev/null || fail "queue-verify"
"$ROMBSR" --config "$A" audit-show --repo "$T/queue.git" --since "$incident" 2>/dev/null |
	awk '{print $3}' | grep -E '^(freeze|key-revocation|key-revoked|key-generated)$' | sort | uniq -c | tr -s ' ' > "$T/events"
[ "$(tr '\n' ';' < "$T/events")" = " 2 freeze; 1 key-generated; 1 key-revocation; 1 key-revoked;" ] ||
	fail "the incident in the audit log: $(cat "$T/events")"
echo "runbook ok"
