# The sign node as a daemon (what rombsr-sign.service runs): a request
# submitted while it runs is answered; it keeps working across a queue
# server outage; SIGTERM stops it and its signers. Also: the installed
# systemd unit passes systemd's own checks, hardened.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

with_bundle
with_queue
sign_config
capture_journal
# Started as the service starts it.
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 2>"$T/daemon.log" &
daemon=$!
id=$(submit_journal userdebug)
wait_response "$id" 30 || fail "the daemon did not answer: $(cat "$T/daemon.log")"
[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "not signed"

# Privilege separation, seen on the running processes: the worker has no
# PKCS#11 module mapped and no PIN file open; each signer (release, manifest,
# audit) has the module.
grep -q libsofthsm2 "/proc/$daemon/maps" && fail "the worker process has the PKCS#11 module loaded"
ls -l "/proc/$daemon/fd" 2>/dev/null | grep -q '/pins/' && fail "the worker holds a PIN file open"
signers=$(pgrep -P "$daemon" -f "$SIGN_CONF" || true)
[ "$(printf '%s\n' "$signers" | grep -c .)" -eq 3 ] || fail "expected 3 signer processes (release, manifest, audit), found: $signers"
for pid in $signers; do
	grep -q libsofthsm2 "/proc/$pid/maps" || fail "signer $pid has no PKCS#11 module"
done

# Queue server down: the daemon waits and retries, then answers.
pkill -f -- "--port=$GIT_PORT"
sleep 1.5
grep -q 'retrying in' "$T/daemon.log" || fail "the daemon did not notice the outage: $(cat "$T/daemon.log")"
kill -0 "$daemon" || fail "the daemon died with the queue server"
git daemon --reuseaddr --listen=127.0.0.1 --port="$GIT_PORT" --base-path="$T" --export-all \
	--enable=receive-pack "$T" >>"$T/git-daemon.log" 2>&1 &
sleep 0.5
id2=$(submit_journal eng)
wait_response "$id2" 60 || fail "no answer after the outage: $(tail -5 "$T/daemon.log")"

kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not stop cleanly: $(tail -40 "$T/daemon.log")"
sleep 0.3
pgrep -f "$SIGN_CONF" >/dev/null && fail "a signer outlived the daemon"
grep -q 'stopping' "$T/daemon.log" || fail "no clean stop"

# A signer that dies (killed, crashed) cannot be started again by the
# worker, which gave up the right to switch users: the daemon ends with a
# failure at once, and its service (Restart=on-failure) starts the node again.
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 2>"$T/daemon2.log" &
daemon=$!
for _ in $(seq 50); do
	signer=$(pgrep -P "$daemon" -f -- "--authority release" || true)
	[ -z "$signer" ] || break
	sleep 0.1
done
[ -n "$signer" ] || fail "no release signer under the daemon: $(cat "$T/daemon2.log")"
sleep 0.5
kill -KILL "$signer"
rc=0
timeout 10 tail --pid="$daemon" -f /dev/null || fail "the daemon kept running without its release signer"
wait "$daemon" || rc=$?
[ "$rc" -eq 1 ] || fail "the daemon ended with $rc: $(tail -3 "$T/daemon2.log")"
grep -q "the release signer ended (signal 9): the node must be started again" "$T/daemon2.log" ||
	fail "the daemon did not say why it ended: $(tail -3 "$T/daemon2.log")"
for _ in $(seq 30); do pgrep -f "$SIGN_CONF" >/dev/null || break; sleep 0.1; done
pgrep -f "$SIGN_CONF" >/dev/null && fail "a signer outlived the daemon"
echo "ok: a signer killed ends the daemon at once (exit 1), for its service to restart the node"

# The unit, installed under a scratch prefix, verifies and is hardened.
san=0
case "$(basename "$ROMBSR_BUILD")" in *asan*) san=1 ;; esac
make -s -C "$TOP" BUILD="$ROMBSR_BUILD" SANITIZE=$san install PREFIX="$T/prefix" >/dev/null
unit="$T/prefix/lib/systemd/system/rombsr-sign.service"
systemd-analyze verify "$unit" || fail "systemd-analyze verify"
score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | awk '/Overall exposure level/{print $(NF-2)}')
awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }' || fail "exposure level $score above 2.0"
for key in NoNewPrivileges=yes ProtectSystem=strict User=rombsr-sign ReadWritePaths=/var/lib/rombsr \
	"AmbientCapabilities=CAP_SETUID CAP_SETGID" "CapabilityBoundingSet=CAP_SETUID CAP_SETGID"; do
	grep -q "^$key" "$unit" || fail "unit lacks $key"
done
for f in "$T/prefix/lib/sysusers.d/rombsr.conf" "$T/prefix/lib/tmpfiles.d/rombsr.conf"; do
	[ -s "$f" ] || fail "make install did not ship $f"
done
grep -q '^u rombsr-signer ' "$T/prefix/lib/sysusers.d/rombsr.conf" || fail "no signer user in sysusers.d"
grep -q '^d /var/lib/rombsr/pins *0700 rombsr-signer' "$T/prefix/lib/tmpfiles.d/rombsr.conf" ||
	fail "the PIN folder is not the signer user's in tmpfiles.d"
serve_unit="$T/prefix/lib/systemd/system/rombsr-sign-serve.service"
systemd-analyze verify "$serve_unit" || fail "systemd-analyze verify (serve)"
grep -q "^ExecStart=$T/prefix/bin/rombsr-sign --config /etc/rombsr/rombsr.conf serve\$" "$serve_unit" &&
	grep -q '^Conflicts=rombsr-sign.service$' "$serve_unit" || fail "the serve unit: $(grep -E '^(ExecStart|Conflicts)' "$serve_unit")"
serve_score=$(systemd-analyze security --offline=true "$serve_unit" 2>/dev/null | awk '/Overall exposure level/{print $(NF-2)}')
awk -v s="$serve_score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }' || fail "serve unit exposure level $serve_score above 2.0"
echo "daemon ok (unit exposure $score, serve unit $serve_score)"
