# The sign node's users: started as root with sign.user and sign.signer-user,
# the signers run as the signer user, the only one that can read the PIN
# files; the worker runs as the worker user and cannot open one (EACCES, seen
# from inside the worker); where the kernel has Landlock the worker cannot
# open even a world-readable file outside its folders. Throwaway users,
# removed on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/server-lib.sh"

node_users

with_bundle
with_queue
sign_config
capture_journal
# A state folder the users cannot enter: refused, saying what to do.
chmod 0711 "$T"
chmod 0700 "$T/state"
printf '[sign]\n\tuser = %s\n\tsigner-user = %s\n' "$worker" "$signer" > "$T/users.conf"
cat "$SIGN_CONF" "$T/users.conf" > "$T/sign-users.conf"
expect_fail "is mode 700: the worker and signer users cannot reach their folders in it; make it 0711" \
	"$ROMBSR_SIGN" --config "$T/sign-users.conf" sign --once
# What make install's tmpfiles.d does for /var/lib/rombsr: each part to its user.
chmod 0711 "$T/state"
chown -R "$signer:" "$T/state/pins" "$T/state/tokens" "$T/state/softhsm2.conf"
gpgconf --homedir "$T/gpg-sign" --kill all 2>/dev/null || true
chown -R "$worker:" "$T/gpg-sign"
printf '[sign]\n\tuser = %s\n\tsigner-user = %s\n\tmetrics-listen = 127.0.0.1:0\n' "$worker" "$signer" >> "$SIGN_CONF"
chmod 0644 "$SIGN_CONF"
printf 'readable by anyone\n' > "$T/elsewhere.txt"
chmod 0644 "$T/elsewhere.txt"

# One pass; inside the worker, a PIN file cannot be opened.
id=$(submit_journal userdebug)
ROMBSR_PROBE_OPEN="$T/state/pins/release.pin" "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once \
	>/dev/null 2>"$T/once.err" || fail "sign --once with users: $(cat "$T/once.err")"
grep -q "worker runs as $worker" "$T/once.err" || fail "the worker did not say its user: $(cat "$T/once.err")"
grep -q "probe: open($T/state/pins/release.pin): Permission denied" "$T/once.err" ||
	fail "the worker could open a PIN file: $(grep probe "$T/once.err")"
[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "not signed with separate users"
[ "$(stat -c %U "$T/state/sign")" = "$worker" ] || fail "state/sign is not the worker's"
[ "$(stat -c %U "$T/state/signer/cache-release")" = "$signer" ] || fail "the signing cache is not the signer's"
echo "ok: worker as $worker cannot open a PIN file (EACCES); the signers as $signer sign"

# The running processes: the daemon's own user and its signers'.
id2=$(submit_journal eng)
ROMBSR_PROBE_OPEN="$T/elsewhere.txt" "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 \
	2>"$T/daemon.err" &
daemon=$!
wait_response "$id2" 30 || fail "the daemon did not answer: $(cat "$T/daemon.err")"
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status"; }
[ "$(uid_of "$daemon")" = "$(id -u "$worker")" ] || fail "the daemon runs as uid $(uid_of "$daemon")"
signers=$(pgrep -P "$daemon" -f rombsr-signer || true)
[ "$(printf '%s\n' "$signers" | grep -c .)" -eq 3 ] || fail "expected 3 signers, found: $signers"
for pid in $signers; do
	[ "$(uid_of "$pid")" = "$(id -u "$signer")" ] || fail "signer $pid runs as uid $(uid_of "$pid")"
	grep -q '^CapEff:[[:space:]]*0*$' "/proc/$pid/status" || fail "signer $pid kept capabilities"
done
grep -q '^CapEff:[[:space:]]*0*$' "/proc/$daemon/status" || fail "the worker kept capabilities"
# The metrics socket was bound before the worker changed user and confined
# itself; its HTTP thread was started after: every thread of the worker runs
# as its user with no_new_privs (Landlock's precondition), and it answers.
for task in /proc/"$daemon"/task/*; do
	[ "$(awk '/^Uid:/ { print $2 }' "$task/status")" = "$(id -u "$worker")" ] || fail "thread $task is not $worker"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$task/status" || fail "thread $task was started before the confinement"
done
[ "$(ls /proc/"$daemon"/task | wc -l)" -ge 2 ] || fail "no metrics thread in the worker"
url=$(sed -n 's|^rombsr sign: metrics on \(http://.*/metrics\)$|\1|p' "$T/daemon.err")
for _ in $(seq 30); do
	curl -fsS "$url" -o "$T/metrics" || fail "curl $url"
	grep -q '^rombsr_sign_requests_total{outcome="signed",reason="none"} [1-9]' "$T/metrics" && break
	sleep 0.1
done
grep -q '^rombsr_sign_requests_total{outcome="signed",reason="none"} [1-9]' "$T/metrics" ||
	fail "the confined worker's metrics: $(grep -v '^#' "$T/metrics")"
echo "ok: metrics served at $url by the confined worker's own thread"
if grep -q "confined by Landlock" "$T/daemon.err"; then
	grep -q "probe: open($T/elsewhere.txt): Permission denied" "$T/daemon.err" ||
		fail "Landlock let the worker open a file outside its folders: $(grep probe "$T/daemon.err")"
	echo "ok: Landlock keeps the worker out of a world-readable file outside its folders"
else
	echo "skip: this kernel has no Landlock"
fi
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not stop cleanly: $(tail -5 "$T/daemon.err")"
echo "ok: daemon as $worker, signers as $signer, no capabilities left"

# The signing server under the same users: its TLS key stays root's (read
# before the worker changes user), its threads are the confined worker's,
# and it signs through the signer user's signers.
server_pki
server_clients
grep -v 'metrics-listen' "$SIGN_CONF" > "$T/sign.conf.new" && mv "$T/sign.conf.new" "$SIGN_CONF"
server_config
chmod 0644 "$SIGN_CONF"
chmod 0711 "$P"
chmod 0644 "$P"/*.pem
[ "$(stat -c %U:%a "$P/server.key")" = "root:600" ] || fail "the server key is not root's alone"
start_server "$T/serve.err"
got=$(call_ready builder '{"key":"platform","mechanism":"CKM_SHA256_RSA_PKCS","digest":"'"$(printf u | sha256sum | cut -c1-64)"'"}')
case "$got" in 200*) ;; *) fail "serve with users: $got $(cat "$T/serve.err")" ;; esac
[ "$(uid_of "$server")" = "$(id -u "$worker")" ] || fail "serve runs as uid $(uid_of "$server")"
for task in /proc/"$server"/task/*; do
	[ "$(awk '/^Uid:/ { print $2 }' "$task/status")" = "$(id -u "$worker")" ] || fail "serve thread $task is not $worker"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$task/status" || fail "serve thread $task was started before the confinement"
done
stop_server
echo "ok: serve as $worker with the TLS key root's alone, every thread confined; signed by the signers as $signer"

# Half a configuration is refused: the worker could read PINs.
sed -i '/signer-user/d' "$SIGN_CONF"
expect_fail "sign.user and sign.signer-user are set together or not at all" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once
printf '[sign]\n\tsigner-user = rombsr-no-such-user\n' >> "$SIGN_CONF"
expect_fail "no user 'rombsr-no-such-user'" "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once
echo "users ok"
