# Sourced by tests/integration/t-sign-soak.sh and bench/soak.sh after
# lib.sh, capture-lib.sh, queue-lib.sh, sign-lib.sh and audit-lib.sh: the
# kill -9 soak of the real sign node.
#
# soak REQUESTS: three build nodes push REQUESTS requests in all,
# concurrently (submit retries a non-fast-forward push itself; a submit that
# still fails is tried again as a CI job would), one in five invalid (a
# development key in a user build, or one that expires within a second);
# each request asks the HSM for a signature it has not made before. The
# daemon is killed with SIGKILL at random moments and restarted. Then the
# node answers what is left, and the soak checks: exactly one response per
# request, queue-verify and audit-verify clean, every line of the signing
# cache (every HSM signature) in the audit log. Prints the figures.
# kill_daemon PID: SIGKILL; a daemon that had already ended on its own
# (anything but the 137 of our SIGKILL) fails the soak, saying why. (lib.sh
# sets -e: no status here may end the script silently.)
kill_daemon() {
	local rc=0
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || rc=$?
	[ "$rc" -eq 137 ] || fail "the daemon stopped by itself (exit $rc): $(tail -5 "$T/daemon.err")"
}

soak() {
	local total=$1 per=$(( ($1 + 2) / 3 ))
	with_bundle
	with_queue
	local b
	for b in build2 build3; do
		gpg_identity "$b"
		gpg_share "$b" admin
		printf -v "${b^^}_CONF" '%s' "$(node_config "$b" "$QUEUE_URL")"
	done
	git_clone_as admin "$T/admin-work"
	jq --arg a "$(gpg_fpr build2)" --arg b "$(gpg_fpr build3)" '.roles.build += [$a, $b]' \
		"$T/admin-work/trust/trust.json" > "$T/trust.json"
	cp "$T/trust.json" "$T/admin-work/trust/trust.json"
	for b in build2 build3; do
		gpg --homedir "$T/gpg-$b" --armor --export "$(gpg_fpr "$b")" > "$T/admin-work/trust/keys/$(gpg_fpr "$b").asc"
	done
	git -C "$T/admin-work" add -A
	GNUPGHOME="$T/gpg-admin" git -C "$T/admin-work" -c user.signingkey="$FPR_ADMIN" commit -q -S \
		-m "two more build nodes"
	git -C "$T/admin-work" push -q origin HEAD:main || fail "admin push of the build nodes"
	sign_config

	local n i
	for n in 1 2 3; do
		(
			conf=$BUILD_CONF
			[ "$n" -eq 2 ] && conf=$BUILD2_CONF
			[ "$n" -eq 3 ] && conf=$BUILD3_CONF
			for i in $(seq "$per"); do
				[ $(( (n - 1) * per + i )) -le "$total" ] || break
				args=(--build-type user)
				label=platform
				case $((i % 10)) in
					3) label=testkey ;;
					7) args+=(--expires-in 1) ;;
				esac
				"$ROMBSR_BUILD/bench/make_journal" "$T/bundle" "$label" 1 "$T/j$n.jsonl"
				for attempt in $(seq 30); do
					if id=$("$ROMBSR" --config "$conf" submit --journal "$T/j$n.jsonl" --product soak \
						--build-id "S$n.$i" --source-commit "$(printf '%040d' "$n")" "${args[@]}" \
						2>>"$T/submit-$n.err"); then
						echo "$id" >> "$T/ids-$n"
						break
					fi
					sleep 0.$((RANDOM % 5 + 1))
				done
			done
		) &
		eval "submitter$n=\$!"
	done

	local kills=0 daemon
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 100 >/dev/null 2>>"$T/daemon.err" &
	daemon=$!
	while kill -0 "$submitter1" 2>/dev/null || kill -0 "$submitter2" 2>/dev/null || kill -0 "$submitter3" 2>/dev/null; do
		# Any moment, the start included: a kill during SoftHSM2's login
		# rewrite of token.object leaves it empty, and the next start must
		# write it back (docs/sign-node.md, "HSM faults").
		sleep "$((RANDOM % 3)).$((RANDOM % 10))"
		kill_daemon "$daemon"
		kills=$((kills + 1))
		"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 100 >/dev/null 2>>"$T/daemon.err" &
		daemon=$!
	done
	wait "$submitter1" "$submitter2" "$submitter3" || true
	sleep 1
	kill_daemon "$daemon"
	kills=$((kills + 1))
	# Whatever is left: passes until every request has its response.
	cat "$T"/ids-* | sort > "$T/ids"
	local submitted answered=0 pass=0
	submitted=$(wc -l < "$T/ids")
	[ "$submitted" -eq "$total" ] || fail "only $submitted of $total requests were submitted: $(cat "$T"/submit-*.err | sort | uniq -c | sort -rn | head -3)"
	while :; do
		"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>>"$T/daemon.err" ||
			fail "a pass after the soak failed: $(tail -3 "$T/daemon.err")"
		answered=$(git -C "$T/queue.git" ls-tree -r --name-only main responses | wc -l)
		[ "$answered" -lt "$submitted" ] || break
		pass=$((pass + 1))
		[ "$pass" -lt 20 ] || fail "$answered of $submitted requests answered after 20 passes"
		sleep 1
	done

	# Exactly one response per request: each response path added once.
	git -C "$T/queue.git" ls-tree -r --name-only main responses | sed 's#.*/##; s#\.json$##' | sort > "$T/answered"
	cmp -s "$T/ids" "$T/answered" || fail "responses and requests differ: $(diff "$T/ids" "$T/answered" | head -3)"
	local dup
	dup=$(git -C "$T/queue.git" log --format= --name-only --diff-filter=A main -- responses | sort | uniq -d | head -1)
	[ -z "$dup" ] || fail "a response was added twice: $dup"
	"$ROMBSR" --config "$SIGN_CONF" queue-verify > "$T/qv.txt" || fail "queue-verify after the soak"
	local A
	A=$(auditor auditor)
	"$ROMBSR" --config "$A" audit-verify --repo "$T/queue.git" > "$T/av.txt" || fail "audit-verify after the soak"
	local figures signed rejected
	figures=$(cache_in_log "$T/state/signer/cache-release" "$T/queue.git") || fail "$figures"
	signed=$(git -C "$T/queue.git" ls-tree -r --name-only main responses |
		while read -r f; do git -C "$T/queue.git" show "main:$f" | jq -r .status; done | sort | uniq -c | tr '\n' ' ')
	printf 'soak: %d requests from 3 build nodes, %d kills, %d responses (%s), %d cache lines (HSM signatures), %d log entries, every HSM signature in the log\n' \
		"$submitted" "$kills" "$answered" "$(echo $signed)" ${figures}
}
