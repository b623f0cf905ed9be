# Sourced by t-server.sh and bench/server-load.sh after lib.sh,
# capture-lib.sh, queue-lib.sh and sign-lib.sh: certificates made by
# openssl, the admin's clients list in the queue, the node's [server]
# configuration, and the node serving in the background with curl as a
# client (docs/server.md).

# server_pki: a CA for the server and its clients (client-ca), one nobody
# trusts (other-ca), and certificates in $P: server (for 127.0.0.1),
# builder, stranger (not listed), expired, forged (other-ca), operator.
server_pki() {
	P="$T/pki"
	mkdir -p "$P"
	ca client-ca
	ca other-ca
	printf 'subjectAltName = IP:127.0.0.1\n' > "$P/server.ext"
	cert server client-ca 2 "$P/server.ext"
	cert builder client-ca 2
	cert stranger client-ca 2
	cert expired client-ca -1
	cert forged other-ca 2
	cert operator client-ca 2
	chmod 600 "$P"/*.key
}
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$1.key" 2>/dev/null; }
ca() { # NAME
	newkey "$1"
	openssl req -x509 -key "$P/$1.key" -out "$P/$1.pem" -subj "/CN=$1" -days 2 2>/dev/null
}
cert() { # NAME CA DAYS [EXTFILE]
	newkey "$1"
	openssl req -new -key "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$1" 2>/dev/null
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.pem" -CAkey "$P/$2.key" -days "$3" ${4:+-extfile "$4"} \
		-out "$P/$1.pem" 2>/dev/null || fail "openssl could not make $1"
}
fingerprint() { openssl x509 -in "$P/$1.pem" -outform DER | sha256sum | cut -d' ' -f1; }

# server_clients: the admin lists two clients, the build node's (builder)
# and one mapped to the operator's key, which is not a build node.
server_clients() {
	local w="$T/clients-work"
	git_clone_as admin "$w"
	jq -n --arg b "$FPR_BUILD" --arg o "$FPR_OPERATOR" --arg cb "$(fingerprint builder)" \
		--arg co "$(fingerprint operator)" '{format: "rombsr.clients", version: 1, clients: [
		  {name: "builder-1", certificate_sha256: $cb, build_node: $b},
		  {name: "not-a-builder", certificate_sha256: $co, build_node: $o}]}' > "$w/policy/clients.json"
	git -C "$w" add -A
	GNUPGHOME="$T/gpg-admin" git -C "$w" -c user.signingkey="$FPR_ADMIN" commit -q -S -m "clients: builder-1"
	git -C "$w" push -q origin HEAD:main 2>"$T/push.err" || fail "admin push: $(cat "$T/push.err")"
}

# server_config: the node serves on a free loopback port, with metrics.
server_config() {
	cat >> "$SIGN_CONF" <<CONF
[sign]
	metrics-listen = 127.0.0.1:0
[server]
	listen = 127.0.0.1:0
	certificate = $P/server.pem
	key = $P/server.key
	client-ca = $P/client-ca.pem
CONF
}

# start_server LOG [ENV...]: rombsr-sign serve in the background; sets
# server (its PID) and url (https://127.0.0.1:PORT).
start_server() {
	local log=$1
	shift
	# Made here: the background job opens it only once it runs.
	: > "$log"
	env "$@" "$ROMBSR_SIGN" --config "$SIGN_CONF" serve --interval-ms "${SERVE_INTERVAL_MS:-200}" 2>"$log" &
	server=$!
	url=
	for _ in $(seq 200); do
		url=$(sed -n 's|.*signing server on \(https://[0-9.:]*\)$|\1|p' "$log")
		[ -n "$url" ] && break
		kill -0 "$server" 2>/dev/null || fail "serve ended: $(cat "$log")"
		sleep 0.1
	done
	[ -n "$url" ] || fail "serve did not start: $(cat "$log")"
}
stop_server() {
	kill "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
}
# call NAME BODY: POST BODY to /v1/sign as client NAME ("" for none);
# prints "<status> <body>". CHUNKED=1 sends it without a length.
call() {
	local who=(--cacert "$P/client-ca.pem")
	[ -n "$1" ] && who+=(--cert "$P/$1.pem" --key "$P/$1.key")
	# CHUNKED=1: the body without a length, as chunks.
	[ -z "${CHUNKED:-}" ] || who+=(-H 'Transfer-Encoding: chunked')
	curl -sS -o "$T/out.json" -w '%{http_code}' "${who[@]}" -H 'Content-Type: application/json' \
		--data-binary "$2" "$url${PATH_OVERRIDE:-/v1/sign}" > "$T/status" 2>"$T/curl.err" || true
	printf '%s %s' "$(cat "$T/status")" "$(cat "$T/out.json" 2>/dev/null)"
}
call_ready() { # CLIENT BODY: call, waiting while the node starts
	local got
	for _ in $(seq 100); do
		got=$(call "$@")
		case "$got" in 503*starting*) sleep 0.1 ;; *) break ;; esac
	done
	printf '%s' "$got"
}

# server_decisions N: waits until the queue's audit log holds N signing
# server decisions and audit-verify matches them to the clients list.
server_decisions() {
	# The log reaches the queue within 10 s of a decision (docs/server.md).
	for _ in $(seq 150); do
		"$ROMBSR" --config "$AUDITOR" audit-verify --repo "$T/queue.git" > "$T/verify.out" 2>&1 ||
			fail "audit-verify: $(cat "$T/verify.out")"
		grep -q "$1 signing server decisions" "$T/verify.out" && break
		sleep 0.2
	done
	grep -q "$1 signing server decisions match the clients list" "$T/verify.out" ||
		fail "audit-verify did not match the server's decisions: $(cat "$T/verify.out")"
}

# sign_call TEXT BUILD_ID: POST /v1/sign of TEXT's SHA-256 (platform key,
# SHA256-RSA-PKCS) as builder, waiting while the node starts; the
# signature must verify with the bundle's platform certificate. Leaves the
# answer in $T/out.json, and sets digest and body (the call's).
sign_call() {
	local got
	printf '%s\n' "$1" > "$T/data.bin"
	digest=$(sha256sum "$T/data.bin" | cut -d' ' -f1)
	body=$(jq -cn --arg d "$digest" --arg b "$2" --argjson n "$(stat -c %s "$T/data.bin")" \
		'{key: "platform", mechanism: "CKM_SHA256_RSA_PKCS", digest: $d,
		build: {product: "board_x", build_id: $b, build_type: "user"},
		artifact: {name: "out/data.bin", sha256: $d, size: $n}}')
	got=$(call_ready builder "$body")
	case "$got" in 200*) ;; *) fail "POST /v1/sign: $got $(cat "$T/curl.err") $(tail -5 "$T/serve.log")" ;; esac
	jq -r .signature "$T/out.json" | xxd -r -p > "$T/data.sig"
	openssl x509 -in "$T/bundle/certs/platform.pem" -pubkey -noout > "$T/platform.pub"
	openssl dgst -sha256 -verify "$T/platform.pub" -signature "$T/data.sig" "$T/data.bin" >/dev/null ||
		fail "the server's signature does not verify with the bundle's platform certificate"
}
