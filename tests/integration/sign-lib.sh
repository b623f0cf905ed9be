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

# wait_response ID SECONDS: waits for a response to ID in the queue.
wait_response() {
	for _ in $(seq $(($2 * 10))); do
		git -C "$T/queue.git" cat-file -e "main:$(resp_path "$1")" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
