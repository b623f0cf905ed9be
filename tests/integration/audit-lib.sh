# Sourced by the t-audit-*.sh tests after lib.sh, capture-lib.sh,
# queue-lib.sh and sign-lib.sh: a queue whose audit log a real sign node
# wrote in two passes, and auditors.

# audit_queue: pass 1 signs one request; pass 2 signs another and rejects
# one that expired. Sets REQ_SIGNED1, REQ_SIGNED2 and REQ_REJECTED.
audit_queue() {
	with_bundle
	with_queue
	sign_config
	capture_journal
	REQ_SIGNED1=$(submit_journal user --artifact "$T/artifact1.bin=a1")
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null
	REQ_SIGNED2=$(submit_journal user --artifact "$T/artifact2.bin=a2")
	REQ_REJECTED=$(submit_journal user --expires-in 1)
	sleep 2
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null
}

# auditor NAME: a fresh auditor configuration (its own state, the audit key
# from the public bundle), printed.
auditor() {
	mkdir -p "$T/$1"
	printf '[core]\n\tstate-dir = %s\n[audit]\n\tvkey = %s\n' "$T/$1" "$T/bundle/audit.vkey" > "$T/$1/rombsr.conf"
	echo "$T/$1/rombsr.conf"
}

# queue_entries CLONE: the log's entries as the queue holds them, in order.
queue_entries() {
	git -C "$1" ls-tree -r --name-only HEAD audit/entries | sort |
		while read -r f; do git -C "$1" show "HEAD:$f"; done
}
