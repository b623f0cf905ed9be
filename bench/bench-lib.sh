# Sourced by the benches that drive the real binaries the way the tests do
# (sign-orchestrator.sh, sign-pass-scale.sh, soak.sh): the test libraries,
# a key set cache of the bench's own, and cleanup on exit. BUILD is the
# build folder (default build/).
bench_setup() { # BUILD
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	export ROMBSR_BUILD ROMBSR_TOP=$top ROMBSR_TEST_CACHE
	ROMBSR_BUILD=$(cd "${1:-$top/build}" && pwd)
	ROMBSR_TEST_CACHE=$(mktemp -d /tmp/rombsr-bench-cache.XXXXXX)
	local lib
	for lib in lib capture-lib queue-lib sign-lib audit-lib soak-lib server-lib; do
		. "$top/tests/integration/$lib.sh"
	done
	trap 'cleanup; rm -rf "$ROMBSR_TEST_CACHE"' EXIT
}
