#!/usr/bin/env bash
# The cost of finding pending work in the signing queue as its history
# grows: rombsr_repo_diff from the last processed commit to the head, with
# 100 and with 10,000 processed requests (request + response each, sharded
# layout), 10 new requests in both. Histories are written directly with
# libgit2 and are not signed (see bench/queue_pending.c). Run twice: with
# libgit2's default object cache (the 256-entry requests/ index tree is
# then re-read on every call) and with trees cached.
# Usage: bench/queue-pending.sh [BUILD_DIR] [SMALL LARGE NEW REPEAT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shift || true
tool="$build/bench/queue_pending"
[ -x "$tool" ] || { echo "build first: make" >&2; exit 1; }
dir=$(mktemp -d /tmp/rombsr-bench-queue.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "== default libgit2 object cache"
"$tool" "$dir" "$@"
rm -rf "$dir"/*
echo "== trees cached (GIT_OPT_SET_CACHE_OBJECT_LIMIT for trees raised to 1 MiB)"
TREE_CACHE=1 "$tool" "$dir" "$@"
