#!/usr/bin/env bash
# The cost of finding pending work in the signing queue as its history
# grows: rombsr_repo_diff from the last processed commit to the head, with
# 100 and with 10,000 processed requests (request + response each, sharded
# layout), 10 new requests in both. Histories are written directly with
# libgit2 and are not signed (see bench/queue_pending.c). Trees are cached
# as rombsr_repo_open() sets up libgit2 (the 256-entry requests/ tree would
# otherwise be re-read on every call).
# Usage: bench/queue-pending.sh [BUILD_DIR] [SMALL LARGE NEW REPEAT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shift || true
tool="$build/bench/queue_pending"
[ -x "$tool" ] || { echo "build first: make" >&2; exit 1; }
dir=$(mktemp -d /tmp/rombsr-bench-queue.XXXXXX)
trap 'rm -rf "$dir"' EXIT
TREE_CACHE=1 "$tool" "$dir" "$@"
