# rombsr audit-anomalies over a real sign node's verified log: in a window
# holding everything, the build node and the key are new; signatures
# outside --hours are reported; a later window finds both known and
# reports the volume only above --volume-min; an empty window finds
# nothing (exit 0); findings exit 3; bad options are one line, exit 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"

with_bundle
with_queue
sign_config
capture_journal
A=$(auditor auditor)
anomalies() { "$ROMBSR" --config "$A" audit-anomalies --repo "$T/queue.git" "$@"; }

first=$(submit_journal user)
sign_once
sleep 2
mid=$(date -u +%s)
sleep 1
second=$(submit_journal user)
sign_once
PLATFORM=$(jq -r '.keys[] | select(.label == "platform") | .spki_sha256' "$T/bundle/manifest.json")

# Everything in the window: a new build node and a new key.
rc=0
anomalies --since 2000-01-01 >"$T/all" 2>"$T/all.err" || rc=$?
[ "$rc" -eq 3 ] || fail "findings must exit 3, got $rc: $(cat "$T/all.err")"
grep -q "^rombsr audit-anomalies: 2 anomalies in the verified log from 2000-01-01T00:00:00Z" "$T/all.err" || fail "summary: $(cat "$T/all.err")"
grep -q "^new-build-node build_node=$FPR_BUILD first request at [0-9]* .* request-signed request_id=$first" "$T/all" ||
	fail "new build node: $(cat "$T/all")"
grep -q "^new-key key_label=platform key_fingerprint=$PLATFORM first signature at [0-9]* .* signature request_id=$first" "$T/all" ||
	fail "new key: $(cat "$T/all")"
echo "ok: new: $(cut -c1-60 "$T/all" | tr '\n' ';')"

# Hours that exclude the window's: every signature of it is off-hours. The
# window began at $mid; its signatures may fall in the hour after, if the
# clock struck the hour since (then both hours are excluded).
h_mid=$((10#$(date -u -d "@$mid" +%H)))
h=$((10#$(date -u +%H)))
allowed=$(printf '%02d-%02d' $(((h + 1) % 24)) "$h_mid")
anomalies --since "$mid" --hours "$allowed" >"$T/hours" 2>/dev/null && fail "off-hours not found"
[ "$(grep -c "^off-hours allowed=$allowed UTC build_node=$FPR_BUILD at .* signature request_id=$second" "$T/hours")" -eq 2 ] ||
	fail "off-hours: $(cat "$T/hours")"
grep -q '^new-' "$T/hours" && fail "a known build node or key reported as new: $(cat "$T/hours")"
echo "ok: off-hours: 2 signatures outside $allowed UTC"

# The later window: nothing new, volume within the default thresholds;
# above them with --volume-min 1.
anomalies --since "$mid" >"$T/later" 2>"$T/later.err" || fail "later window: $(cat "$T/later" "$T/later.err")"
[ ! -s "$T/later" ] || fail "the later window found: $(cat "$T/later")"
grep -q "nothing found" "$T/later.err" || fail "later window said: $(cat "$T/later.err")"
anomalies --since "$mid" --volume-min 1 >"$T/volume" 2>/dev/null && fail "volume not found"
grep -q "^volume build_node=$FPR_BUILD signatures=2 usual=.* limit=1 " "$T/volume" || fail "volume: $(cat "$T/volume")"
echo "ok: volume: $(cat "$T/volume")"

# The same thresholds from the configuration (audit.anomaly-*); an
# option overrides them.
C=$(auditor configured)
printf '\tanomaly-hours = %s\n\tanomaly-volume-min = 1\n' "$allowed" >> "$C"
"$ROMBSR" --config "$C" audit-anomalies --repo "$T/queue.git" --since "$mid" >"$T/conf" 2>/dev/null && fail "configured thresholds not used"
[ "$(grep -c '^off-hours' "$T/conf")" -eq 2 ] && grep -q '^volume ' "$T/conf" || fail "configured thresholds: $(cat "$T/conf")"
"$ROMBSR" --config "$C" audit-anomalies --repo "$T/queue.git" --since "$mid" --hours 00-24 --volume-min 10 >/dev/null 2>&1 ||
	fail "options do not override the configuration"
printf '\tanomaly-hours = 8-20\n' >> "$C"
expect_fail "audit.anomaly-hours: '8-20' is not HH-HH" "$ROMBSR" --config "$C" audit-anomalies --repo "$T/queue.git"
echo "ok: thresholds from the configuration"

# Options.
expect_fail "--hours: '25-01' is not HH-HH" anomalies --hours 25-01
expect_fail "--hours: '08-08' is not HH-HH" anomalies --hours 08-08
expect_fail "--since must be before --until" anomalies --since 2026-12-02 --until 2026-12-01
expect_fail "--volume-factor and --baseline-days must be at least 1" anomalies --volume-factor 0
expect_fail "--since: 'yesterday' is not a time" anomalies --since yesterday
echo "audit anomalies ok"
