#!/usr/bin/env bash
# The kill -9 soak of the real sign node (tests/integration/soak-lib.sh):
# REQUESTS requests (1,000 by default) from three build nodes pushing
# concurrently, the daemon killed with SIGKILL at random moments and
# restarted; prints requests, kills, responses, cache lines and log entries.
# Usage: bench/soak.sh [BUILD_DIR] [REQUESTS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export ROMBSR_BUILD=$(cd "${1:-$top/build}" && pwd) ROMBSR_TOP=$top
export ROMBSR_TEST_CACHE=$(mktemp -d /tmp/rombsr-bench-cache.XXXXXX)
. "$top/tests/integration/lib.sh"
. "$top/tests/integration/capture-lib.sh"
. "$top/tests/integration/queue-lib.sh"
. "$top/tests/integration/sign-lib.sh"
. "$top/tests/integration/audit-lib.sh"
. "$top/tests/integration/soak-lib.sh"
trap 'cleanup; rm -rf "$ROMBSR_TEST_CACHE"' EXIT
soak "${2:-1000}"
