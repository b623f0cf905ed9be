#!/usr/bin/env bash
# The kill -9 soak of the real sign node (tests/integration/soak-lib.sh):
# REQUESTS requests (1,000 by default) from three build nodes pushing
# concurrently, the daemon killed with SIGKILL at random moments and
# restarted; prints requests, kills, responses, cache lines and log entries.
# Usage: bench/soak.sh [BUILD_DIR] [REQUESTS]
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
bench_setup "${1:-}"
soak "${2:-1000}"
