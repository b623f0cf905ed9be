#!/usr/bin/env bash
# The cost of `rombsr apply` and `rombsr queue-verify` as the queue's history
# grows, with a recorded head (docs/queue.md, "The verified record"): a queue
# of 100 and of 100,000 commits, each followed by the same new commits
# (NEW_PAIRS requests from `rombsr submit` and their responses, signed
# through SoftHSM2 by tests/tools/respond and committed with the sign node's
# OpenPGP key: 2 x NEW_PAIRS commits, all really signed and verified). Each
# command is run once untimed, then REPEAT times from the same record
# (restored before each run); the medians are compared (goal: ratio <= 1.2). The first size is
# measured again after the others and its runs pooled (a shared machine's
# load drifts).
#
# The older history is what a node has verified before. It is made with git
# fast-import (bench/make_verify_history): one request or response per
# commit in the dated layout, 100 requests a day, NOT signed, because
# signing 100,000 commits with GnuPG takes hours; the record of each node
# (what a full run would have written at that head) is written by the same
# tool. A run with a record never reads a commit before it, which the bench
# shows: `queue-verify --full` on the 100-commit queue refuses the first
# unsigned commit (exit 3).
#
# Usage: bench/verify-history.sh [BUILD_DIR] [NEW_PAIRS] [REPEAT] [SIZES...]
#        (defaults: build 5 7 100 100000)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --one ]; then
	shift
	n=$1 pairs=$2 repeat=$3
	# shellcheck source=/dev/null
	. "$top/tests/integration/lib.sh"
	. "$top/tests/integration/capture-lib.sh"
	. "$top/tests/integration/queue-lib.sh"
	. "$top/tests/integration/apply-lib.sh"
	tool="$ROMBSR_BUILD/bench/make_verify_history"
	now() { date +%s.%N; }

	with_apply_queue
	capture_journal
	gpg_identity auditor
	AUDIT_CONF=$(node_config auditor "$QUEUE_URL")
	init=$(git -C "$T/queue.git" rev-parse main)
	# N commits in all: queue-init's and N - 1 more, dated up to yesterday.
	first=$(($(date +%s) - ((n / 2) / 100 + 3) * 86400))
	t0=$(now)
	"$tool" stream $((n - 1)) "$first" "$init" | git -C "$T/queue.git" fast-import --quiet
	head=$(git -C "$T/queue.git" rev-parse main)
	[ "$(git -C "$T/queue.git" rev-list --count main)" -eq "$n" ] || fail "history is not $n commits"
	requests=$((n / 2)) responses=$(((n - 1) / 2))
	mkdir -p "$T/node-auditor/state" "$T/node-build/state"
	"$tool" record "$T/node-auditor/state/queue-verified.head" "$head" "$n" "$requests" "$responses" --totals "$FPR_ADMIN"
	"$tool" record "$T/node-build/state/apply-verified.head" "$head" "$n" "$requests" "$responses" "$FPR_ADMIN"
	# Each node's copy already holds the history it verified.
	"$ROMBSR" --config "$AUDIT_CONF" queue-verify | grep -q ' 0 verified now$' || fail "warm-up queue-verify"
	apply_build --request "$(new_id)" --out "$T/none.json" 2>/dev/null && fail "warm-up apply found a request"
	git -C "$T/sign-clone" pull -q --ff-only 2>/dev/null
	build_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')

	# The new commits: requests, then their responses.
	ids=() commits=()
	for _ in $(seq "$pairs"); do
		ids+=("$(submit_journal "$BUILD_CONF")")
		commits+=("$(git -C "$T/queue.git" rev-parse main)")
	done
	git -C "$T/sign-clone" pull -q --ff-only 2>/dev/null
	for i in "${!ids[@]}"; do
		id=${ids[$i]}
		git -C "$T/sign-clone" show "${commits[$i]}:$(req_path "$id")" > "$T/request.json"
		"$TOOLS/respond" --request "$T/request.json" --request-commit "${commits[$i]}" --sign-node "$FPR_SIGN" \
			--out "$T/response.json" --token pkcs11:token=rombsr-release "$RELEASE_PIN" \
			--token pkcs11:token=rombsr-manifest "$MANIFEST_PIN"
		push_response "$T/sign-clone" "$id" "$T/response.json" || fail "push of response $id: $(cat "$T/push.err")"
	done
	new=$((2 * pairs))
	[ "$(git -C "$T/queue.git" rev-list --count main)" -eq $((n + new)) ] || fail "not $new new commits"
	cp "$T/node-auditor/state/queue-verified.head" "$T/queue.record"
	cp "$T/node-build/state/apply-verified.head" "$T/apply.record"

	# The record restored before each run: every run verifies the same
	# new commits, as a node does after a day's work.
	# One run of each first, not timed: it reads the new objects into the
	# page cache, for both sizes alike.
	# Each copy's verified ref goes back with the record, so that every
	# fetch brings the new commits again.
	for i in $(seq 0 "$repeat"); do
		cp "$T/apply.record" "$T/node-build/state/apply-verified.head"
		git -C "$T/node-build/state/queue.git" update-ref refs/rombsr/verified "$head"
		t0=$(now)
		apply_build --request "${ids[-1]}" --out "$T/out.json" >/dev/null || fail "apply"
		[ "$i" -eq 0 ] || awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }' >> "$T/apply.times"
		cp "$T/queue.record" "$T/node-auditor/state/queue-verified.head"
		git -C "$T/node-auditor/state/queue.git" update-ref refs/rombsr/verified "$head"
		t0=$(now)
		"$ROMBSR" --config "$AUDIT_CONF" queue-verify > "$T/verify.out" || fail "queue-verify"
		[ "$i" -eq 0 ] || awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }' >> "$T/verify.times"
		grep -q "commits, .* $new verified now\$" "$T/verify.out" || fail "queue-verify did not verify $new: $(cat "$T/verify.out")"
	done
	full=skipped
	if [ "$n" -le 1000 ]; then
		rc=0
		"$ROMBSR" --config "$AUDIT_CONF" queue-verify --full 2>"$T/full.err" >/dev/null || rc=$?
		grep -q "is not signed" "$T/full.err" && [ "$rc" -eq 3 ] || fail "--full did not refuse the unsigned history"
		full="exit $rc: $(cat "$T/full.err")"
	fi
	echo "$n $build_s $(paste -sd, "$T/apply.times") $(paste -sd, "$T/verify.times")"
	# VERIFY_BENCH_KEEP=1: leave the folder for a closer look (the git
	# daemon is stopped).
	if [ -n "${VERIFY_BENCH_KEEP:-}" ]; then
		kill $(jobs -p) 2>/dev/null || true
		trap - EXIT
		echo "  kept $T (AUDIT_CONF=$AUDIT_CONF BUILD_CONF=$BUILD_CONF id=${ids[-1]})" >&2
	fi
	echo "  $n commits: $(cat "$T/verify.out")" >&2
	echo "  --full on it: $full" >&2
	exit 0
fi

build=$(cd "${1:-$top/build}" && pwd)
pairs=${2:-5}
repeat=${3:-7}
shift $(($# < 3 ? $# : 3))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 100000)
export ROMBSR_BUILD=$build ROMBSR_TOP=$top ROMBSR_TEST_CACHE
ROMBSR_TEST_CACHE=$(mktemp -d /tmp/rombsr-bench-cache.XXXXXX)
trap 'rm -rf "$ROMBSR_TEST_CACHE"' EXIT

echo "apply and queue-verify after $((2 * pairs)) new signed commits, from a recorded head ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
# The smallest size is measured before and after the others, its runs
# pooled: the machine is shared, and a load that drifts would otherwise
# favour whichever size runs last.
order=("${sizes[@]}")
[ ${#sizes[@]} -lt 2 ] || order+=("${sizes[0]}")
out=()
for n in "${order[@]}"; do
	out+=("$(bash "$0" --one "$n" "$pairs" "$repeat")")
done
# stats N: "median-apply min-apply median-verify min-verify runs built" of
# every run of size N.
stats() {
	printf '%s\n' "${out[@]}" | awk -v n="$1" '
	function med(v, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2 }
	$1 == n { built = built sep $2 "s"; sep = "+"; k = split($3, x, ","); for (i = 1; i <= k; i++) a[++na] = x[i]
		k = split($4, x, ","); for (i = 1; i <= k; i++) v[++nv] = x[i] }
	END { ma = med(a, na); mv = med(v, nv); printf "%.4f %.4f %.4f %.4f %d %s\n", ma, a[1], mv, v[1], na, built }'
}
printf '%9s %22s %22s %6s %s\n' commits "apply median (min) s" "verify median (min) s" runs "history built in"
for n in "${sizes[@]}"; do
	read -r ma mina mv minv runs built <<<"$(stats "$n")"
	printf '%9s %13.3f (%.3f) %13.3f (%.3f) %6s %s\n' "$n" "$ma" "$mina" "$mv" "$minv" "$runs" "$built"
done
read -r a1 ma1 v1 mv1 _ <<<"$(stats "${sizes[0]}")"
read -r a2 ma2 v2 mv2 _ <<<"$(stats "${sizes[-1]}")"
awk -v n1="${sizes[0]}" -v n2="${sizes[-1]}" -v a1="$a1" -v a2="$a2" -v v1="$v1" -v v2="$v2" \
	-v ma1="$ma1" -v ma2="$ma2" -v mv1="$mv1" -v mv2="$mv2" 'BEGIN {
	printf "goal: cost at %d commits <= 1.2 x cost at %d (ratio of medians; of minimums in brackets)\n", n2, n1
	printf "RATIO apply %d/%d %.2f (%.2f) %s\n", n2, n1, a2 / a1, ma2 / ma1, a2 / a1 <= 1.2 ? "(met)" : "(NOT met)"
	printf "RATIO queue-verify %d/%d %.2f (%.2f) %s\n", n2, n1, v2 / v1, mv2 / mv1, v2 / v1 <= 1.2 ? "(met)" : "(NOT met)"
}'
