#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/fuzz_*.c, docs/fuzzing.md) for SECONDS
# each, one after the other, and prints the executions per harness and
# every crash, leak or sanitizer finding with the file that reproduces it.
# Builds with `make fuzz` first (clang + libFuzzer; installed from Debian
# when missing and running as root).
# Usage: bench/fuzz.sh [SECONDS] [NAME...]     (default 60 s, every harness)
# Findings and the inputs a run adds stay under build-fuzz/runs/, out of
# git: a finding is minimised and committed to fuzz/corpus/<name>/ by hand,
# with the fix.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
seconds=${1:-60}
shift || true

if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "fuzz: needs clang and libFuzzer (apt-get install clang libfuzzer-14-dev) or root to install them" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang libfuzzer-14-dev
fi
make -j"$(nproc | awk '{print ($1 > 2 ? 2 : $1)}')" fuzz >/dev/null

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in fuzz/fuzz_*.c; do
		n=${f#fuzz/fuzz_}
		names+=("${n%.c}")
	done
fi
# The capture journal is fsync'd on every signature: on tmpfs that costs
# nothing, so the runs measure the parsers, not the disk.
# A harness killed by a finding leaves its folder behind: all of them live in
# one folder per run, removed at the end.
shm=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=/dev/shm
fi
TMPDIR=$(mktemp -d "$shm/rombsr-fuzz-run.XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

found=0
printf '%-16s %12s %10s  %s\n' harness execs exec/s result
for n in "${names[@]}"; do
	run=build-fuzz/runs/$n
	rm -rf "$run"
	mkdir -p "$run/corpus" "$run/artifacts"
	# The committed seeds are read, never written: new inputs go to the run's
	# own corpus folder (the first one libFuzzer is given).
	log=$run/log
	build-fuzz/fuzz/fuzz_"$n" "$run/corpus" "fuzz/corpus/$n" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$run/artifacts/" -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1 || true
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	crashes=$(find "$run/artifacts" -type f | sort)
	if [ -z "$execs" ] && [ -z "$crashes" ]; then
		found=$((found + 1))
		printf '%-16s %12s %10s  DID NOT RUN\n' "$n" - -
		tail -n 3 "$log" | sed 's/^/    /'
	elif [ -n "$crashes" ]; then
		found=$((found + 1))
		printf '%-16s %12s %10s  FOUND\n' "$n" "${execs:-?}" "${rate:-?}"
		grep -m 3 -E 'ERROR: |runtime error|fuzz: ' "$log" | sed 's/^/    /' || true
		printf '    %s\n' $crashes
	else
		printf '%-16s %12s %10s  ok\n' "$n" "${execs:-?}" "${rate:-?}"
	fi
done
[ "$found" -eq 0 ]
