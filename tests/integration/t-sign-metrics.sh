# The sign daemon's metrics (docs/metrics.md): sign.metrics-listen refused
# in one line when it is not a loopback ADDRESS:PORT or the port is taken,
# with nothing made; served by the worker (never a signer) on loopback;
# `promtool check metrics` clean on the live endpoint; the values after a
# signed request, an HSM gone for good (the fault module), a request
# waiting for approvals under a policy with quotas, and a frozen queue's
# rejection; the shipped alert rules checked and unit-tested with promtool.
# ROMBSR_METRICS_EXAMPLE=FILE keeps the last scrape (docs/metrics.md).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

command -v promtool >/dev/null || fail "promtool missing: run scripts/install-deps.sh (Debian's prometheus)"
rules="$TOP/monitoring/rombsr-alerts.yml"

# The shipped rules first: they need no node.
promtool check rules "$rules" >"$T/rules.out" 2>&1 || fail "promtool check rules: $(cat "$T/rules.out")"
promtool test rules "$TOP/monitoring/rombsr-alerts.test.yml" >"$T/rules-test.out" 2>&1 ||
	fail "promtool test rules: $(cat "$T/rules-test.out")"
echo "ok: $(grep -c 'alert:' "$rules") alert rules check and pass their unit tests"

with_bundle
with_queue
sign_config
capture_journal
# The release authority through the fault module (tests/p11-fault), passing
# every call through until the test says otherwise.
SHIM="$ROMBSR_BUILD/tests/librombsr-p11-fault.so"
[ -f "$SHIM" ] || fail "no fault module at $SHIM (make builds it)"
printf '[authority "release"]\n\tmodule = %s\n' "$SHIM" >> "$SIGN_CONF"
export ROMBSR_P11_FAULT_CONFIG="$T/fault.conf"
faults() { printf 'counters %s\n%s' "$T/counters" "${1:+$1$'\n'}" > "$T/fault.conf.new"; mv "$T/fault.conf.new" "$T/fault.conf"; }
faults

listen() { # VALUE: the node's configuration with sign.metrics-listen = VALUE
	sed '/metrics-listen/d' "$SIGN_CONF" > "$T/sign.conf.new"
	printf '[sign]\n\tmetrics-listen = %s\n' "$1" >> "$T/sign.conf.new"
	mv "$T/sign.conf.new" "$SIGN_CONF"
}

# Refusals, before anything of the node is made.
listen 10.1.2.3:9469
expect_fail "sign.metrics-listen: 10.1.2.3 is not a loopback address: only 127.0.0.0/8 or [::1] may be given" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon
expect_fail "sign.metrics-listen: 10.1.2.3 is not a loopback address" "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once
listen '[2001:db8::1]:9469'
expect_fail "sign.metrics-listen: 2001:db8::1 is not a loopback address" "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon
listen 0.0.0.0:9469
expect_fail "0.0.0.0 is not a loopback address" "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon
listen localhost:9469
expect_fail "sign.metrics-listen: 'localhost' is not an IP address (e.g. 127.0.0.1 or [::1], not a name)" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon
listen 127.0.0.1
expect_fail "sign.metrics-listen: '127.0.0.1' is not ADDRESS:PORT (e.g. 127.0.0.1:9469)" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon
listen 127.0.0.1:65536
expect_fail "sign.metrics-listen: '127.0.0.1:65536': the port must be a number from 0 to 65535" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon
# A port in use: held by a listener of our own.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/busy.port" &
holder=$!
for _ in $(seq 50); do [ -s "$T/busy.port" ] && break; sleep 0.1; done
busy=$(cat "$T/busy.port")
listen "127.0.0.1:$busy"
expect_fail "sign.metrics-listen: cannot listen on 127.0.0.1:$busy: Address already in use" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon
kill "$holder"
wait "$holder" 2>/dev/null || true
[ ! -e "$T/state/sign" ] || fail "a refused metrics address left the node's state behind"
echo "ok: bad sign.metrics-listen values refused in one line, nothing made"

# The daemon, on a free loopback port.
listen 127.0.0.1:0
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 2>"$T/daemon.log" &
daemon=$!
url=
for _ in $(seq 100); do
	url=$(sed -n 's|^rombsr sign: metrics on \(http://127\.0\.0\.1:[0-9]*/metrics\)$|\1|p' "$T/daemon.log")
	[ -n "$url" ] && break
	kill -0 "$daemon" 2>/dev/null || fail "the daemon ended: $(cat "$T/daemon.log")"
	sleep 0.1
done
[ -n "$url" ] || fail "the daemon did not say where its metrics are: $(cat "$T/daemon.log")"
port=${url#http://127.0.0.1:}
port=${port%/metrics}

# Served by the worker, never by a signer: only the daemon's process holds
# the listening socket.
inode=$(awk -v p="$(printf ':%04X' "$port")" '$2 ~ p"$" && $4 == "0A" { print $10 }' /proc/net/tcp)
[ -n "$inode" ] || fail "no listening socket on port $port"
ls -l "/proc/$daemon/fd" | grep -q "socket:\[$inode\]" || fail "the worker does not hold the metrics socket"
for pid in $(pgrep -P "$daemon" -f "$SIGN_CONF"); do
	ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "socket:\[$inode\]" && fail "signer $pid holds the metrics socket"
done
echo "ok: the worker serves $url; no signer holds its socket"

metric() { # NAME{LABELS} as written in the exposition: its value
	awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"
}
scrape() { curl -fsS "$url" -o "$T/metrics" || fail "curl $url failed"; }
wait_metric() { # SERIES VALUE
	for _ in $(seq 50); do
		scrape
		[ "$(metric "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 is $(metric "$1"), expected $2: $(grep -v '^#' "$T/metrics")"
}

id=$(submit_journal userdebug)
wait_response "$id" 30 || fail "the daemon did not answer: $(cat "$T/daemon.log")"
[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "not signed"
wait_metric 'rombsr_sign_requests_total{outcome="signed",reason="none"}' 1
promtool check metrics <"$T/metrics" >"$T/lint.out" 2>&1 || fail "promtool check metrics: $(cat "$T/lint.out")"
[ ! -s "$T/lint.out" ] || fail "promtool check metrics is not clean: $(cat "$T/lint.out")"
curl -fsS -D "$T/headers" -o /dev/null "$url"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$T/headers" || fail "content type: $(cat "$T/headers")"
for pair in 'rombsr_sign_operations_total 2' 'rombsr_sign_hsm_operations_total{authority="release"} 2' \
	'rombsr_sign_hsm_errors_total{authority="release"} 0' 'rombsr_sign_signing_duration_seconds_count 1' \
	'rombsr_sign_signing_duration_seconds_bucket{le="+Inf"} 1' 'rombsr_sign_signer_up{authority="release"} 1' \
	'rombsr_sign_signer_up{authority="audit"} 1' 'rombsr_sign_frozen 0' 'rombsr_sign_waiting_requests 0' \
	'rombsr_sign_audit_unpublished_entries 0' 'rombsr_sign_queue_lag_seconds 0' 'rombsr_sign_ledger_requests 1'; do
	[ "$(metric "${pair% *}")" = "${pair##* }" ] || fail "${pair% *} is '$(metric "${pair% *}")', expected ${pair##* }"
done
entries=$(metric rombsr_sign_audit_entries)
[ "$entries" -ge 3 ] || fail "audit entries: $entries"
age=$(metric rombsr_sign_audit_checkpoint_age_seconds)
[ "$age" -lt 60 ] || fail "checkpoint age $age s just after a publication"
passes=$(metric rombsr_sign_passes_total)
[ "$passes" -ge 1 ] || fail "passes: $passes"
echo "ok: promtool check metrics clean; signed 1, operations 2, HSM operations 2, audit entries $entries"

# Only GET /metrics.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")
[ "$code" = 405 ] || fail "POST /metrics answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
[ "$code" = 404 ] || fail "GET / answered $code"

# The HSM gone for good: a signed rejection hsm-unavailable, counted as an
# HSM error of the release authority. Fresh data, so that the signing cache
# cannot answer.
capture_config "$T/capture.conf" capture
rm -f "$T/journal.jsonl"
for i in 1 2; do
	printf 'fresh %s %s\n' "$i" "$RANDOM" > "$T/fresh$i.bin"
	capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign \
		-m SHA256-RSA-PKCS --id "$(bundle_id platform)" -i "$T/fresh$i.bin" -o "$T/fresh$i.ph" 2>/dev/null
done
faults 'fail * CKR_DEVICE_REMOVED times=0'
idf=$(submit_journal userdebug)
wait_response "$idf" 60 || fail "no answer with the HSM gone: $(tail -5 "$T/daemon.log")"
wait_metric 'rombsr_sign_requests_total{outcome="rejected",reason="hsm-unavailable"}' 1
errors=$(metric 'rombsr_sign_hsm_errors_total{authority="release"}')
[ "$errors" -ge 1 ] || fail "HSM errors of the release authority: $errors"
faults
echo "ok: HSM gone: rejected{reason=hsm-unavailable} 1, hsm_errors_total{authority=release} $errors"

# A policy with approvals and quotas: a request that waits, its age, the
# quotas of the policy in force; then approved, signed, counted.
W="$T/admin-work"
git_clone_as admin "$W"
jq -n --arg o "$FPR_OPERATOR" --arg b "$FPR_BUILD" '{format: "rombsr.policy", version: 1, serial: 2,
	operator_groups: {release: [$o]},
	build_nodes: {($b): {quota: {window_seconds: 86400, max_operations: 1000}}},
	keys: {platform: {approvals: {group: "release", required: 1},
			  quota: {window_seconds: 3600, max_operations: 10}}}}' > "$W/policy/policy.json"
git -C "$W" add -A
GNUPGHOME="$T/gpg-admin" git -C "$W" -c user.signingkey="$FPR_ADMIN" commit -q -S -m "policy 2: approvals, quotas"
git -C "$W" push -q origin HEAD:main 2>"$T/push.err" || fail "admin push: $(cat "$T/push.err")"
idw=$(submit_journal userdebug)
wait_metric rombsr_sign_waiting_requests 1
age=$(metric rombsr_sign_oldest_waiting_request_age_seconds)
[ "$age" -ge 0 ] && [ "$age" -lt 600 ] || fail "oldest waiting request's age: $age"
# The hsm-unavailable request counts: its decision to sign was recorded in
# the quota ledger before the HSM was asked.
for pair in 'rombsr_sign_quota_used_operations{kind="key",name="platform",window="3600"} 4' \
	'rombsr_sign_quota_limit_operations{kind="key",name="platform",window="3600"} 10' \
	"rombsr_sign_quota_used_operations{kind=\"node\",name=\"$FPR_BUILD\",window=\"86400\"} 4" \
	"rombsr_sign_quota_limit_operations{kind=\"node\",name=\"$FPR_BUILD\",window=\"86400\"} 1000"; do
	[ "$(metric "${pair% *}")" = "${pair##* }" ] || fail "${pair% *} is '$(metric "${pair% *}")', expected ${pair##* }"
done
promtool check metrics <"$T/metrics" >"$T/lint.out" 2>&1 || fail "promtool check metrics: $(cat "$T/lint.out")"
[ ! -s "$T/lint.out" ] || fail "promtool check metrics is not clean: $(cat "$T/lint.out")"
"$ROMBSR" --config "$OPERATOR_CONF" approve "$idw" >/dev/null 2>&1 || fail "the operator could not approve"
wait_response "$idw" 30 || fail "not answered once approved: $(tail -5 "$T/daemon.log")"
wait_metric 'rombsr_sign_requests_total{outcome="signed",reason="none"}' 2
for pair in rombsr_sign_waiting_requests\ 0 rombsr_sign_oldest_waiting_request_age_seconds\ 0 \
	'rombsr_sign_quota_used_operations{kind="key",name="platform",window="3600"} 6' rombsr_sign_operations_total\ 4; do
	[ "$(metric "${pair% *}")" = "${pair##* }" ] || fail "${pair% *} is '$(metric "${pair% *}")', expected ${pair##* }"
done
echo "ok: a waiting request (age $age s), quotas of the policy in force, signed once approved"

# Frozen: the state is a metric, and the rejection is counted by reason.
"$ROMBSR" --config "$ADMIN_CONF" freeze --reason "metrics test" >/dev/null
id2=$(submit_journal userdebug)
wait_response "$id2" 30 || fail "no answer while frozen: $(tail -5 "$T/daemon.log")"
wait_metric 'rombsr_sign_requests_total{outcome="rejected",reason="frozen"}' 1
[ "$(metric rombsr_sign_frozen)" = 1 ] || fail "rombsr_sign_frozen is $(metric rombsr_sign_frozen) while frozen"
[ "$(metric rombsr_sign_operations_total)" = 4 ] || fail "a rejection counted operations"
promtool check metrics <"$T/metrics" >"$T/lint.out" 2>&1 || fail "promtool check metrics: $(cat "$T/lint.out")"
[ ! -s "$T/lint.out" ] || fail "promtool check metrics is not clean: $(cat "$T/lint.out")"
echo "ok: frozen 1, rejected{reason=frozen} 1"
cp "$T/metrics" "${ROMBSR_METRICS_EXAMPLE:-/dev/null}" 2>/dev/null || true

kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not stop cleanly: $(tail -20 "$T/daemon.log")"
curl -s -o /dev/null "$url" && fail "the metrics endpoint outlived the daemon"
grep -q 'stopping' "$T/daemon.log" || fail "no clean stop"
echo "metrics ok"
