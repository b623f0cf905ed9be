#!/usr/bin/env bash
# rombsr audit-verify through a real queue clone, at N/10 and N entries
# (default 100,000; goal < 10 s at N).
#
# A sign node would need hours of HSM signing to write 100,000 entries, so
# bench/make_audit_queue builds the queue's files with the library the way
# the sign node publishes them (per pass: the new entries as one chunk, the
# pass's checkpoint, the responses with their audit proofs), and they are
# committed to a git repository. An auditor then runs `rombsr audit-verify
# --repo` on it: the first run fetches the whole queue into its own copy
# (queue.clone) and verifies; the second finds nothing to fetch and verifies
# again (the steady state of an auditor who checks regularly). audit-show
# and audit-proof on the same clone are timed too. Last, the library bench
# (bench/audit_verify) gives the cost of one durable append at 1k, 10k and
# 100k entries (goal: flat).
#
# REQUESTS_PER_PASS (default 250, about 1,000 entries per checkpoint) sets
# how many requests a pass answers; 1 is a quiet sign node that checkpoints
# after every request (a checkpoint per ~3.7 entries, 27,000 of them).
#
# Usage: bench/audit-queue.sh [BUILD_DIR] [ENTRIES] [REQUESTS_PER_PASS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
entries=${2:-100000}
per_pass=${3:-250}
rombsr="$build/rombsr"
work=$(mktemp -d /tmp/rombsr-audit-queue-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# run_size N: prints "N gen git first second show proof" (seconds).
run_size() {
	local n=$1 dir="$work/$1" t0 t1 t2 t3 t4 t5 t6 conf resp id
	mkdir -p "$dir"
	t0=$(now)
	"$build/bench/make_audit_queue" "$dir" "$n" "$per_pass" >"$dir/gen.txt"
	t1=$(now)
	git init -q -b main "$dir/tree"
	git -C "$dir/tree" add -A
	git -C "$dir/tree" -c user.name=bench -c user.email=bench@rombsr.test commit -qm "audit bench queue"
	t2=$(now)
	mkdir -p "$dir/auditor"
	conf="$dir/auditor/rombsr.conf"
	printf '[core]\n\tstate-dir = %s\n[audit]\n\tvkey = %s\n' "$dir/auditor" "$dir/audit.vkey" >"$conf"
	"$rombsr" --config "$conf" audit-verify --repo "$dir/tree" >"$dir/first.txt"
	t3=$(now)
	"$rombsr" --config "$conf" audit-verify --repo "$dir/tree" >"$dir/second.txt"
	t4=$(now)
	resp=$(git -C "$dir/tree" ls-files responses | head -1)
	id=$(basename "$resp" .json)
	"$rombsr" --config "$conf" audit-show --repo "$dir/tree" --request "$id" >"$dir/show.txt" 2>/dev/null
	t5=$(now)
	"$rombsr" --config "$conf" audit-proof --repo "$dir/tree" --index 20 >"$dir/proof.txt" 2>/dev/null
	t6=$(now)
	grep -q '^audit ok: ' "$dir/second.txt"
	python3 "$top/tests/tools/audit-proof-check.py" "$dir/proof.txt" "$dir/audit.vkey" >/dev/null
	echo "$n $(secs "$t0" "$t1") $(secs "$t1" "$t2") $(secs "$t2" "$t3") $(secs "$t3" "$t4") $(secs "$t4" "$t5") $(secs "$t5" "$t6")"
	echo "  $(cat "$dir/gen.txt"); $(cat "$dir/second.txt")" >&2
	rm -rf "$dir"
}

echo "audit-verify through a queue clone, passes of $per_pass requests ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
small=$(run_size $((entries / 10)))
large=$(run_size "$entries")
printf '%9s %8s %8s %12s %12s %10s %10s\n' entries build git-commit "first run" "second run" audit-show audit-proof
for row in "$small" "$large"; do
	read -r n gen git first second show proof <<<"$row"
	printf '%9s %7ss %7ss %11ss %11ss %9ss %9ss\n' "$n" "$gen" "$git" "$first" "$second" "$show" "$proof"
done
read -r n1 _ _ f1 s1 _ _ <<<"$small"
read -r n2 _ _ f2 s2 _ _ <<<"$large"
awk -v n1="$n1" -v n2="$n2" -v s1="$s1" -v s2="$s2" -v f2="$f2" 'BEGIN {
	printf "second run: %.1f us per entry at %d, %.1f at %d (ratio %.2f; linear = 1: every entry is checked)\n",
		s1 / n1 * 1e6, n1, s2 / n2 * 1e6, n2, (s2 / n2) / (s1 / n1)
	printf "goal: audit-verify of %d entries < 10 s: second run %.2f s %s; first run, fetching the whole queue, %.2f s\n",
		n2, s2, s2 < 10 ? "(met)" : "(NOT met)", f2
}'
echo
echo "durable append per entry (library, bench/audit_verify $entries):"
"$build/bench/audit_verify" "$entries" | sed 's/^/  /'
