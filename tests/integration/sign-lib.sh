# Sourced by the t-sign-*.sh tests after lib.sh, capture-lib.sh and
# queue-lib.sh: the sign node's configuration, with the HSM state of
# with_keys (tokens and PIN files) and the sign identity.
sign_config() {
	cat > "$T/sign.conf" <<CONF
[core]
	state-dir = $T/state
[queue]
	url = $QUEUE_URL
	admin = $FPR_ADMIN
[gpg]
	home = $T/gpg-sign
	key = $FPR_SIGN
CONF
	# The suite runs with the default (docs/config.md); ROMBSR_TEST_SIGNER_SESSIONS
	# runs the same tests with more sessions per signer.
	if [ -n "${ROMBSR_TEST_SIGNER_SESSIONS:-}" ]; then
		printf '[sign]\n\tsigner-sessions = %s\n' "$ROMBSR_TEST_SIGNER_SESSIONS" >> "$T/sign.conf"
	fi
	SIGN_CONF="$T/sign.conf"
}

# submit_journal BUILD_TYPE [extra submit args]: a request from the capture
# journal; prints its ID.
submit_journal() {
	local type=$1; shift
	"$ROMBSR" --config "$BUILD_CONF" submit --journal "$T/journal.jsonl" --product sample_phone \
		--build-id "T.$RANDOM" --source-commit "$(printf '%040d' 7)" --build-type "$type" "$@"
}

response_of() { # ID
	git -C "$T/queue.git" show "main:$(resp_path "$1")"
}

# cache_in_log CACHE CLONE: every signature the HSM made (one line of the
# signer's cache: "<operation id> <signature hex>") has a signature entry
# in the audit log the queue CLONE holds (its signature_sha256). Prints
# "<cache lines> <log entries>".
cache_in_log() {
	python3 - "$1" <(git -C "$2" ls-tree -r --name-only HEAD audit/entries | sort |
		while read -r f; do git -C "$2" show "HEAD:$f"; done) <<'PY'
import hashlib, json, sys
logged, entries = set(), 0
for line in open(sys.argv[2]):
    e = json.loads(line)
    entries += 1
    if e["type"] == "signature":
        logged.add(e["signature_sha256"])
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
missing = [l[0] for l in lines if hashlib.sha256(bytes.fromhex(l[1])).hexdigest() not in logged]
if missing:
    sys.exit("%d of %d HSM signatures are not in the audit log, e.g. operation %s" % (len(missing), len(lines), missing[0]))
print(len(lines), entries)
PY
}

# wait_response ID SECONDS: waits for a response to ID in the queue.
wait_response() {
	for _ in $(seq $(($2 * 10))); do
		git -C "$T/queue.git" cat-file -e "main:$(resp_path "$1")" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# journal_for LABEL OUT [BUNDLE]: a capture journal, in OUT, of one
# signature of $T/data by key LABEL (ECDSA for manifest, else
# SHA256-RSA-PKCS) made through the capture module with BUNDLE (default
# $T/bundle).
journal_for() {
	local bundle=${3:-$T/bundle} id
	[ -f "$T/data" ] || printf 'payload\n' > "$T/data"
	capture_config "$T/journal-for.conf" capture
	sed -i "s|^bundle = .*|bundle = $bundle|" "$T/journal-for.conf"
	id=$(jq -r --arg l "$1" '.keys[] | select(.label == $l) | .pkcs11_id' "$bundle/manifest.json")
	rm -f "$T/journal.jsonl"
	capture_run "$T/journal-for.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign \
		-m "$( [ "$1" = manifest ] && echo ECDSA-SHA256 || echo SHA256-RSA-PKCS)" --id "$id" \
		-i "$T/data" -o "$T/ph" 2>/dev/null
	mv "$T/journal.jsonl" "$2"
}

# sign_once: one pass of the sign node; its summary in $T/pass.txt, its
# stderr in $T/sign.err; a failed pass fails the test.
sign_once() {
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >"$T/pass.txt" 2>"$T/sign.err" || fail "sign: $(cat "$T/sign.err")"
}

# submit_user JOURNAL: a user build's request of product p from the capture
# journal JOURNAL; prints its ID.
submit_user() {
	"$ROMBSR" --config "$BUILD_CONF" submit --journal "$1" --product p --build-id "U.$RANDOM" \
		--source-commit "$(printf '%040d' 3)" --build-type user
}

# fresh_request TAG [MECH...]: a request of one operation per MECH (a
# pkcs11-tool mechanism; two SHA256-RSA-PKCS if none) with the platform
# key over new data, in that order; prints its ID.
fresh_request() {
	local key i=0 tag=$1
	shift
	[ $# -gt 0 ] || set -- SHA256-RSA-PKCS SHA256-RSA-PKCS
	capture_config "$T/capture.conf" capture
	rm -f "$T/journal.jsonl"
	key=$(bundle_id platform)
	for mech in "$@"; do
		i=$((i + 1))
		printf '%s %s %s\n' "$tag" "$i" "$RANDOM" > "$T/data$i.bin"
		capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign \
			-m "$mech" --id "$key" -i "$T/data$i.bin" -o "$T/data$i.ph" 2>/dev/null
	done
	submit_journal user
}

# node_users: throwaway worker and signer users ($worker, $signer), removed
# (with their processes) on exit.
node_users() {
	worker=rombsr-tw$$
	signer=rombsr-ts$$
	eval "$(declare -f cleanup | sed '1s/^cleanup/lib_cleanup/')"
	cleanup() {
		pkill -u "$worker" 2>/dev/null || true
		pkill -u "$signer" 2>/dev/null || true
		userdel "$worker" 2>/dev/null || true
		userdel "$signer" 2>/dev/null || true
		lib_cleanup
	}
	trap cleanup EXIT INT TERM
	for u in "$worker" "$signer"; do
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" || fail "useradd $u"
	done
}

# artifact_sigs_verify ID PUBKEY: the response to ID holds two signatures,
# one over $T/artifact1.bin and one over $T/artifact2.bin (capture_journal),
# each verified by openssl with the public key in the PEM file PUBKEY.
artifact_sigs_verify() {
	local id=$1 pub=$2 i f tbs verified=0
	response_of "$id" > "$T/resp.json" || fail "no response to $id in the queue"
	for i in 0 1; do
		jq -r ".signatures[$i].signature" "$T/resp.json" | xxd -r -p > "$T/sig$i"
		tbs=$(jq -r ".signatures[$i].tbs" "$T/resp.json")
		for f in artifact1 artifact2; do
			[ "$(sha256sum "$T/$f.bin" | cut -d' ' -f1)" = "$tbs" ] || continue
			openssl dgst -sha256 -verify "$pub" -signature "$T/sig$i" "$T/$f.bin" >/dev/null ||
				fail "signature $i does not verify over $f with $pub"
			verified=$((verified + 1))
		done
	done
	[ "$verified" -eq 2 ] || fail "not every signature was checked"
}
