#!/usr/bin/env bash
# add-hashtree-footer on a 1 GiB image against `openssl dgst -sha256` over
# the same bytes, in one run on this machine (goal: >= 0.7 of openssl's
# throughput). Both read the image from the page cache (it is read once
# before either is timed), so the figure is hashing, not the disk. The salt
# is given, as a ROM build gives it (from the build fingerprint), so the
# image is read once; without --salt or --salt-seed it is read twice
# (docs/avb.md, "Salt"). Usage: bench/avb-hashtree.sh [BUILD_DIR] [MiB]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
mib=${2:-1024}
dir=$(mktemp -d /tmp/rombsr-bench-avb.XXXXXX)
trap 'rm -rf "$dir"' EXIT
now() { date +%s.%N; }

head -c $((mib * 1024 * 1024)) /dev/urandom > "$dir/system.img"
cat "$dir/system.img" > /dev/null
partition=$(((mib + mib / 64 + 2) * 1024 * 1024))
best_openssl= best_avb=
for run in 1 2 3; do
	t0=$(now)
	openssl dgst -sha256 "$dir/system.img" > /dev/null
	t1=$(now)
	"$build/rombsr-artifact" avb add-hashtree-footer --image "$dir/system.img" --partition-name system \
		--partition-size "$partition" --salt "$(printf '%064d' "$run")"
	t2=$(now)
	o=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	a=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
	printf 'run %d: openssl dgst -sha256 %.2f s, add-hashtree-footer %.2f s\n' "$run" "$o" "$a"
	best_openssl=$(awk -v x="$o" -v y="${best_openssl:-$o}" 'BEGIN { print (x < y ? x : y) }')
	best_avb=$(awk -v x="$a" -v y="${best_avb:-$a}" 'BEGIN { print (x < y ? x : y) }')
done
printf 'add-hashtree-footer on %d MiB: %.0f MiB/s; openssl dgst -sha256: %.0f MiB/s\n' "$mib" \
	"$(awk -v t="$best_avb" -v m="$mib" 'BEGIN { print m / t }')" \
	"$(awk -v t="$best_openssl" -v m="$mib" 'BEGIN { print m / t }')"
printf 'add-hashtree-footer/openssl throughput ratio (best of 3 each): %.3f (goal >= 0.7)\n' \
	"$(awk -v a="$best_avb" -v o="$best_openssl" 'BEGIN { print o / a }')"
