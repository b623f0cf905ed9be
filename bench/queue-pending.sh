#!/usr/bin/env bash
# The cost of finding pending work in the signing queue as its history
# grows: rombsr_repo_diff from the last processed commit to the head, with a
# fixed volume of 100 requests a day (request + response each, dated
# layout) over 1, 100 and 1,000 days (100, 10,000 and 100,000 processed
# requests), 10 new requests on the newest day in each. Histories are
# written directly with libgit2 and are not signed (see
# bench/queue_pending.c). Trees are cached as rombsr_repo_open() sets up
# libgit2.
# Usage: bench/queue-pending.sh [BUILD_DIR] [PER_DAY NEW REPEAT DAYS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shift || true
tool="$build/bench/queue_pending"
[ -x "$tool" ] || { echo "build first: make" >&2; exit 1; }
# tmpfs when there is one: the largest queue is some 170,000 loose objects,
# which a disk takes far longer to write and delete than the bench runs.
base=${TMPDIR:-/dev/shm}
[ -d "$base" ] && [ -w "$base" ] || base=/tmp
dir=$(mktemp -d "$base/rombsr-bench-queue.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$tool" "$dir" "$@"
