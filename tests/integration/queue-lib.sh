# Sourced by the t-queue-*.sh tests after lib.sh and capture-lib.sh: four
# throwaway OpenPGP identities (admin, build node, sign node, operator), a
# bare queue served by git daemon on loopback with the hook installed, and a
# config for each node.
#
# with_queue [NAME...]: each NAME is one more operator, with FPR_NAME and
# NAME_CONF set like the others (dual control needs two).
with_queue() {
	local who extra=()
	gpg_identity admin
	gpg_identity build
	gpg_identity sign
	gpg_identity operator
	for who in "$@"; do
		gpg_identity "$who"
		extra+=(--operator "$(gpg_fpr "$who")")
	done
	for who in build sign operator "$@"; do gpg_share "$who" admin; done
	start_git_daemon
	QUEUE_URL="git://127.0.0.1:$GIT_PORT/queue.git"
	ADMIN_CONF=$(node_config admin "$QUEUE_URL")
	BUILD_CONF=$(node_config build "$QUEUE_URL")
	SIGN_CONF=$(node_config sign "$QUEUE_URL")
	OPERATOR_CONF=$(node_config operator "$QUEUE_URL")
	for who in "$@"; do printf -v "${who^^}_CONF" '%s' "$(node_config "$who" "$QUEUE_URL")"; done
	# QUEUE_POLICY: a first policy other than the starter one.
	"$ROMBSR" --config "$ADMIN_CONF" queue-init --bare "$T/queue.git" \
		--build "$FPR_BUILD" --sign "$FPR_SIGN" --operator "$FPR_OPERATOR" "${extra[@]}" \
		${QUEUE_POLICY:+--policy "$QUEUE_POLICY"} 2>/dev/null
	git -C "$T/queue.git" config daemon.receivepack true
}

# capture_journal: a capture journal of a few pkcs11-tool signatures made
# through the capture module, in $T/journal.jsonl.
capture_journal() {
	capture_config "$T/capture.conf" capture
	local id
	id=$(bundle_id platform)
	printf 'artifact one\n' > "$T/artifact1.bin"
	printf 'artifact two\n' > "$T/artifact2.bin"
	for f in artifact1 artifact2; do
		capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign \
			-m SHA256-RSA-PKCS --id "$id" -i "$T/$f.bin" -o "$T/$f.ph" 2>/dev/null
	done
}

# A working clone of the queue for tests that push by hand with git.
git_clone_as() { # NAME DIR
	git clone -q "$QUEUE_URL" "$2"
	git -C "$2" config user.name "$1"
	git -C "$2" config user.email "$1@rombsr.test"
	git -C "$2" config gpg.program gpg
}

# Where the queue's layout (src/queue/layout.c, docs/queue.md) files the
# entries of request ID: under the date the ID starts with, then the two
# hex digits after it. The tests spell the layout out on their own, so a
# change to layout.c that breaks it shows.
queue_dir() { # TOP ID: TOP/YYYY/MM/DD/<id[8:10]>
	printf '%s/%s/%s/%s/%s' "$1" "${2:0:4}" "${2:4:2}" "${2:6:2}" "${2:8:2}"
}
req_path() { printf '%s/%s.json' "$(queue_dir requests "$1")" "$1"; }
resp_path() { printf '%s/%s.json' "$(queue_dir responses "$1")" "$1"; }
approval_path() { printf '%s/%s/%s.json' "$(queue_dir approvals "$1")" "$1" "$2"; } # ID FPR

# new_id [YYYYMMDD]: a fresh request ID dated YYYYMMDD (default: today, UTC).
new_id() {
	printf '%s%s' "${1:-$(date -u +%Y%m%d)}" "$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
}

# id_time ID [+OFFSET]: a time on the UTC date ID starts with, at the
# current time of day (so it is "now" unless the date turned since the ID
# was made), plus OFFSET (e.g. "+1 day"), as YYYY-MM-DDTHH:MM:SSZ.
id_time() {
	date -u -d "${1:0:4}-${1:4:2}-${1:6:2} $(date -u +%H:%M:%S) UTC ${2:-}" +%Y-%m-%dT%H:%M:%SZ
}
