# The signing server, rombsr-sign serve (docs/server.md), through real TLS
# with certificates made by openssl and curl as the client: the clients
# list committed by the admin; POST /v1/sign signed by the real signer and
# checked with openssl against the bundle's certificate; every refusal a
# one-line JSON error (no certificate, an unknown one, an expired one, one
# from another CA, one for a key that is not a build node, a body too
# large with or without a length, malformed input, a wrong route or
# method) and each decision that
# was made in the audit log, which audit-verify accepts with the server's
# decisions matched to the clients list; a node killed between the HSM and
# the audit log logs the signature when it starts again; beyond
# server.max-connections a connection waits until one goes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/audit-lib.sh"
. "$(dirname "$0")/server-lib.sh"

with_bundle
with_queue
sign_config
AUDITOR=$(auditor auditor)

server_pki
server_clients
server_config
# Refusals before anything of the node is made.
sed 's|key = .*/server.key|key = /nonexistent/server.key|' "$SIGN_CONF" > "$T/bad.conf"
expect_fail "rombsr-sign serve: server.key: /nonexistent/server.key: No such file" "$ROMBSR_SIGN" --config "$T/bad.conf" serve
chmod 644 "$P/server.key"
expect_fail "server.key: $P/server.key: group or others may read it (mode 644): chmod 600" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" serve
chmod 600 "$P/server.key"
grep -v 'listen = ' "$SIGN_CONF" > "$T/bad.conf"
expect_fail "server.listen is not set" "$ROMBSR_SIGN" --config "$T/bad.conf" serve
[ ! -e "$T/state/sign" ] || fail "a refused server configuration left the node's state behind"
echo "ok: a missing or readable server key and a missing listen address refused, nothing made"

expect_refusal() { # WANT_STATUS WANT_CODE WANT_TEXT CLIENT BODY
	local got
	got=$(call "$4" "$5")
	case "$got" in
	"$1 "*'"code":"'"$2"'"'*"$3"*) ;;
	*) fail "expected $1 $2 ($3), got: $got $(cat "$T/curl.err")" ;;
	esac
	[ "$(jq -r .error.code "$T/out.json")" = "$2" ] || fail "the body is not one JSON error: $(cat "$T/out.json")"
}

start_server "$T/serve.log"
sign_call 'a boot image' B.1
signed_id=$(jq -r .request_id "$T/out.json")
signed_index=$(jq -r .audit.index "$T/out.json")
[ "$(jq -r '.key + " " + .mechanism + " " + (.audit.entries|tostring)' "$T/out.json")" = \
	"platform CKM_SHA256_RSA_PKCS 2" ] || fail "unexpected answer: $(cat "$T/out.json")"
echo "ok: POST /v1/sign signed by the signer, verified by openssl; audit entry $signed_index, 2 entries"

expect_refusal 401 client-certificate "a client certificate is required" "" "$body"
expect_refusal 403 unknown-client "is not in the queue's clients list" stranger "$body"
expect_refusal 403 client-certificate "expired" expired "$body"
expect_refusal 403 client-certificate "issuer is unknown" forged "$body"
expect_refusal 403 not-build-node "not a build node" operator "$body"
expect_refusal 400 bad-input "body.digest" builder '{"key":"platform","mechanism":"CKM_SHA256_RSA_PKCS","digest":"xyz"}'
expect_refusal 400 bad-input "unknown" builder '{"key":"platform","mechanism":"CKM_SHA256_RSA_PKCS","digest":"00","extra":1}'
expect_refusal 400 bad-input "body" builder '{"key":'
head -c 70000 /dev/zero | tr '\0' 'a' > "$T/big.json"
expect_refusal 413 too-large "larger than 65536 bytes" builder "@$T/big.json"
CHUNKED=1 expect_refusal 413 too-large "larger than 65536 bytes" builder "@$T/big.json"
PATH_OVERRIDE=/sign/nothing expect_refusal 404 no-route "no route /sign/nothing" builder "$body"
echo "ok: no, unknown, expired and foreign client certificates, a non-build node, bad input, an oversize body (with and without a length) and a wrong route refused with one JSON error each"

# Decisions the policy and hard rules make are logged: a development key
# for a user build, a key this node does not hold.
dev=$(jq -c '.key = "testkey"' <<<"$body")
expect_refusal 403 development-key "" builder "$dev"
dev_id=$(jq -r .request_id "$T/out.json")
[ "$(jq -r .audit.entries "$T/out.json")" = 1 ] || fail "a logged rejection names one entry: $(cat "$T/out.json")"
expect_refusal 403 unknown-key "nosuchkey" builder "$(jq -c '.key = "nosuchkey"' <<<"$body")"
grep -q 'request '"$dev_id"': rejected: development-key' "$T/serve.log" || fail "the rejection is not in the node's log"
grep -q 'refused.*unknown-client' "$T/serve.log" || fail "the unknown client's refusal is not in the node's log"
echo "ok: a development key for a user build and an unknown key rejected by the decision, logged"

# The metrics endpoint of a serving node counts its connections.
metrics=$(sed -n 's|.*metrics on \(http://[0-9.:]*/metrics\)$|\1|p' "$T/serve.log")
[ -n "$metrics" ] || fail "no metrics endpoint: $(cat "$T/serve.log")"
for _ in $(seq 50); do
	curl -sS "$metrics" > "$T/metrics.txt" && grep -q '^rombsr_server_connections ' "$T/metrics.txt" && break
	sleep 0.1
done
grep -q '^rombsr_server_connections [0-9]' "$T/metrics.txt" || fail "no rombsr_server_connections: $(cat "$T/metrics.txt")"
promtool check metrics < "$T/metrics.txt" > "$T/promtool.out" 2>&1 || fail "promtool check metrics: $(cat "$T/promtool.out")"
echo "ok: the serving node's metrics name its connections; promtool check metrics clean"

# The audit log reaches the queue without a queued request to carry it.
server_decisions 3
"$ROMBSR" --config "$AUDITOR" audit-show --repo "$T/queue.git" --request "$signed_id" > "$T/show.out" 2>&1 || fail "audit-show: $(cat "$T/show.out")"
grep -q "server-client request_id=$signed_id route=/v1/sign build_node=${FPR_BUILD,,} client_certificate=$(fingerprint builder)" \
	"$T/show.out" || fail "no server-client entry for $signed_id: $(cat "$T/show.out")"
echo "ok: audit-verify accepts the server's decisions, matched to the clients list; audit-show names the client"

# Killed after the HSM signed, before the audit log: the next start logs it.

stop_server
start_server "$T/serve2.log" ROMBSR_FAULT=before-log
other=$(jq -c --arg d "$(printf 'another image\n' | sha256sum | cut -d' ' -f1)" '.digest = $d | del(.artifact)' <<<"$body")
got=$(call_ready builder "$other")
wait "$server" 2>/dev/null || true
case "$got" in 200*) fail "a node killed before logging answered: $got" ;; esac
[ "$(wc -l < "$T/state/sign/server.pending")" -ge 2 ] ||
	fail "no record of the request left for recovery: $got $(cat "$T/serve2.log")"
start_server "$T/serve3.log"
for _ in $(seq 100); do
	grep -q "is logged at audit entry" "$T/serve3.log" && break
	sleep 0.1
done
grep -q "decided before the node stopped, is logged at audit entry" "$T/serve3.log" ||
	fail "the signed request was not recovered: $(cat "$T/serve3.log")"
[ ! -s "$T/state/sign/server.pending" ] || fail "a recovered request's record is left"
server_decisions 4
git clone -q "$T/queue.git" "$T/check"
read -r lines entries <<<"$(cache_in_log "$T/state/signer/cache-release" "$T/check")" || fail "cache_in_log failed"
[ "$lines" = 2 ] || fail "expected 2 HSM signatures (the first call's and the crashed one's), the cache has $lines"
echo "ok: a node killed between the HSM and the log logs the signature at its next start ($lines HSM signatures, all in the log)"

# Killed once the call is logged and answered, before its record is gone:
# the next start finds it in the log and logs nothing again.
stop_server
start_server "$T/serve4.log" ROMBSR_FAULT=server-before-clear
third=$(jq -c --arg d "$(printf 'a third image\n' | sha256sum | cut -d' ' -f1)" '.digest = $d' <<<"$other")
third_digest=$(jq -r .digest <<<"$third")
got=$(call_ready builder "$third")
wait "$server" 2>/dev/null || true
# The answer races the kill: 200 or a dropped connection.
case "$got" in 200*|000*) ;; *) fail "the call before the crash: $got" ;; esac
third_id=$(tail -n +2 "$T/state/sign/server.pending" |
	jq -r --arg d "$third_digest" 'select(.request.operations[0].tbs == $d) | .id')
[ -n "$third_id" ] || fail "the logged call's record is not left: $(cat "$T/serve4.log")"
grep -q "fault injected at server-before-clear" "$T/serve4.log" || fail "the node did not stop where the test meant"
start_server "$T/serve5.log"
for _ in $(seq 100); do
	[ ! -s "$T/state/sign/server.pending" ] && break
	sleep 0.1
done
[ ! -s "$T/state/sign/server.pending" ] || fail "the record was not cleared: $(cat "$T/serve5.log")"
! grep -q "request $third_id.*is logged at audit entry" "$T/serve5.log" || fail "a logged call was logged again"
server_decisions 5
[ "$("$ROMBSR" --config "$AUDITOR" audit-show --repo "$T/queue.git" --request "$third_id" --type server-client | grep -c .)" = 1 ] ||
	fail "the call is not logged exactly once"
echo "ok: a node killed after logging, before emptying its records, logs nothing twice at its next start"
stop_server

# server.max-connections 2: two connections held open (raw TCP, as a slow
# client would) take both places; a third call gets no answer until one is
# let go, then is served.
printf '[server]\n\tmax-connections = 2\n' >> "$SIGN_CONF"
start_server "$T/serve6.log"
port=${url##*:}
python3 - "$port" "$T/held" <<'PY' &
import socket, sys, time, os
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(2)]
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.05)
PY
holder=$!
for _ in $(seq 100); do [ -e "$T/held" ] && break; sleep 0.05; done
sleep 0.3
rc=0
curl -sS -o /dev/null --max-time 2 --cacert "$P/client-ca.pem" --cert "$P/builder.pem" --key "$P/builder.key" \
	-H 'Content-Type: application/json' --data-binary "$body" "$url/v1/sign" 2>"$T/third.err" || rc=$?
# 28: curl's timeout (it waited), not a refused or dropped connection.
[ "$rc" = 28 ] || fail "a third connection beside two held ones: curl exit $rc: $(cat "$T/third.err")"
rm -f "$T/held"
wait "$holder"
got=$(call builder "$body")
case "$got" in 200*) ;; *) fail "the call after the held connections went: $got" ;; esac
echo "ok: server.max-connections 2: a third connection waits while two are held, and is served once they go"
stop_server
