# The sign node's journal fields (docs/metrics.md, "Journal"), against a
# real systemd-journald: the test runs in a mount namespace of its own with
# tmpfs over /run and /var/log/journal, starts journald there, and runs
# the daemon with stderr connected to journald's stream socket and
# JOURNAL_STREAM naming it, as systemd does for a service. Then
# `journalctl REQUEST_ID=<id>` tells the request's story in structured
# entries (OUTCOME signed, then published; a rejection's REASON; KEY;
# BUILD_NODE), lines not about a request stay plain stream lines, no PIN
# reaches the journal, and an inherited JOURNAL_STREAM that is not stderr
# leaves the lines on stderr.
if [ -z "${ROMBSR_JOURNAL_NS:-}" ]; then
	if ! command -v unshare >/dev/null || [ ! -x /lib/systemd/systemd-journald ] || [ "$(id -u)" -ne 0 ] ||
		! unshare -m true 2>/dev/null; then
		echo "skip: needs root, unshare -m and /lib/systemd/systemd-journald (a private journald)"
		exit 0
	fi
	ROMBSR_JOURNAL_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
mount -t tmpfs -o mode=0755 tmpfs /run
[ -d /var/log/journal ] && mount -t tmpfs tmpfs /var/log/journal
mkdir -p /run/systemd/journal /run/log

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

/lib/systemd/systemd-journald >"$T/journald.log" 2>&1 &
for _ in $(seq 50); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.1; done
[ -S /run/systemd/journal/stdout ] || fail "journald did not start: $(cat "$T/journald.log")"
systemd-cat -t journal-probe echo probe
for _ in $(seq 30); do journalctl -q -t journal-probe -o cat | grep -q probe && break; sleep 0.1; done
journalctl -q -t journal-probe -o cat | grep -q probe || fail "journald in the namespace does not store"

with_bundle
with_queue
sign_config
capture_journal

# As systemd starts a service: stdout and stderr on a journal stream, and
# JOURNAL_STREAM=<device>:<inode> of that stream (systemd-cat connects the
# stream but does not set the variable: the shell it runs does).
systemd-cat -t rombsr-sign bash -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' - \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 &
daemon=$!
id=$(submit_journal userdebug)
wait_response "$id" 30 || fail "the daemon did not answer: $(journalctl -q -t rombsr-sign -o cat | tail -5)"
[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "not signed"
story() { journalctl -q "REQUEST_ID=$1" -o json | jq -r "$2"; }
for _ in $(seq 50); do
	[ "$(story "$id" .OUTCOME | tr '\n' ' ')" = "signed published " ] && break
	sleep 0.1
done
got=$(story "$id" '.OUTCOME' | tr '\n' ' ')
[ "$got" = "signed published " ] || fail "the request's story: '$got': $(journalctl -q REQUEST_ID="$id" -o cat)"
fpr=$(response_of "$id" | jq -r .build_node 2>/dev/null || true)
signed=$(journalctl -q "REQUEST_ID=$id" OUTCOME=signed -o json)
[ "$(jq -r ._TRANSPORT <<<"$signed")" = journal ] || fail "not a structured entry: $signed"
[ "$(jq -r .SYSLOG_IDENTIFIER <<<"$signed")" = rombsr-sign ] || fail "identifier: $signed"
[ "$(jq -r .PRIORITY <<<"$signed")" = 6 ] || fail "priority: $signed"
[ "$(jq -r .KEY <<<"$signed")" = platform ] || fail "KEY: $signed"
[ "$(jq -r .MESSAGE <<<"$signed")" = "rombsr sign: request $id: signed" ] || fail "MESSAGE: $signed"
build_node=$(jq -r .BUILD_NODE <<<"$signed")
[ "$build_node" = "$FPR_BUILD" ] || fail "BUILD_NODE $build_node, expected $FPR_BUILD ($fpr)"
jq -e 'has("REASON") | not' <<<"$signed" >/dev/null || fail "a signed request has a REASON: $signed"
echo "ok: journalctl REQUEST_ID=$id: signed (KEY platform, BUILD_NODE $build_node), then published"

# A rejection's REASON, and the same request's lines only.
"$ROMBSR" --config "$ADMIN_CONF" freeze --reason "journal test" >/dev/null
id2=$(submit_journal userdebug)
wait_response "$id2" 30 || fail "no answer while frozen"
for _ in $(seq 50); do
	[ -n "$(journalctl -q REQUEST_ID="$id2" OUTCOME=rejected -o json)" ] && break
	sleep 0.1
done
rejected=$(journalctl -q "REQUEST_ID=$id2" OUTCOME=rejected -o json)
[ "$(jq -r .REASON <<<"$rejected")" = frozen ] || fail "REASON: $rejected"
[ "$(jq -r .PRIORITY <<<"$rejected")" = 5 ] || fail "a rejection's priority: $rejected"
journalctl -q "REQUEST_ID=$id2" -o json | jq -r .REQUEST_ID | grep -qv "^$id2$" && fail "another request's entry"
echo "ok: journalctl REQUEST_ID=$id2 OUTCOME=rejected: REASON=frozen"

# Lines not about a request stay plain lines of the stream.
journalctl -q -t rombsr-sign _TRANSPORT=stdout -o cat | grep -q "worker runs as" ||
	fail "the worker's start line is not on the stream: $(journalctl -q -t rombsr-sign -o cat | head)"

kill -TERM "$daemon"
wait "$daemon" || true
# No PIN in the journal, whatever its field.
journalctl -q -o export >"$T/export"
pins=0
for pin in "$T"/state/pins/*.pin; do
	[ -s "$pin" ] || continue
	grep -qF "$(cat "$pin")" "$T/export" && fail "the PIN of $pin is in the journal"
	pins=$((pins + 1))
done
[ "$pins" -ge 2 ] || fail "found $pins PIN files to look for"
echo "ok: none of the $pins PINs is in the journal"

# An inherited JOURNAL_STREAM that names another stream: stderr stays stderr.
thaw_out=$("$ROMBSR" --config "$ADMIN_CONF" thaw --reason "done" 2>&1) || fail "thaw: $thaw_out"
id3=$(submit_journal userdebug)
JOURNAL_STREAM=1:1 "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/once.err" ||
	fail "sign --once: $(cat "$T/once.err")"
grep -qx "rombsr sign: request $id3: signed" "$T/once.err" || fail "the decision is not on stderr: $(cat "$T/once.err")"
[ -z "$(journalctl -q REQUEST_ID="$id3" -o cat)" ] || fail "a foreign JOURNAL_STREAM sent entries to the journal"
echo "journal ok"
