# Sourced by every integration test. Each test gets its own folder under
# /tmp, removed on exit with every process the test started.
set -euo pipefail

: "${ROMBSR_BUILD:?run through tests/run}"
ROMBSR="$ROMBSR_BUILD/rombsr"
TOOLS="$ROMBSR_BUILD/tools"
TOP="$ROMBSR_TOP"
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so

T=$(mktemp -d /tmp/rombsr-test.XXXXXX)
cleanup() {
	local pids
	pids=$(jobs -p)
	[ -z "$pids" ] || kill $pids 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAILED: $*" >&2
	exit 1
}

# A config whose state folder is inside the test's folder.
new_config() {
	local dir=${1:-$T/state}
	mkdir -p "$dir"
	printf '[core]\n\tstate-dir = %s\n' "$dir" > "$T/rombsr.conf"
	export ROMBSR_CONFIG="$T/rombsr.conf"
}

# A provisioned token with the whole key set, copied from the run's cache
# (made once per run by the first test that asks).
with_keys() {
	local cache="$ROMBSR_TEST_CACHE/keys"
	(
		flock 9
		if [ ! -f "$cache/done" ]; then
			rm -rf "$cache"
			mkdir -p "$cache"
			printf '[core]\n\tstate-dir = %s\n' "$cache/state" > "$cache/rombsr.conf"
			ROMBSR_CONFIG="$cache/rombsr.conf" "$ROMBSR" hsm-provision >/dev/null 2>&1
			ROMBSR_CONFIG="$cache/rombsr.conf" "$ROMBSR" keygen >/dev/null 2>&1
			touch "$cache/done"
		fi
	) 9>"$ROMBSR_TEST_CACHE/keys.lock"
	new_config "$T/state"
	cp -a "$cache/state/." "$T/state/"
	# The copied softhsm2.conf names the cache's token folder: point it here.
	sed -i "s|$cache/state|$T/state|" "$T/state/softhsm2.conf"
	export SOFTHSM2_CONF="$T/state/softhsm2.conf"
}

# expect_fail "text the error must contain" command...
# The command must exit non-zero and print exactly one line containing text
# on stderr.
expect_fail() {
	local want=$1; shift
	local out rc=0
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -ne 0 ] || fail "expected failure of: $* (it succeeded)"
	case "$out" in
		*"$want"*) ;;
		*) fail "error of '$*' lacks '$want'; it said: $out" ;;
	esac
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "error of '$*' is not one line: $out"
	echo "ok: refused: $out"
}

# The PKCS#11 slot number of a token, for clients that take a slot.
slot_of() {
	pkcs11-tool --module "$SOFTHSM_MODULE" -L 2>/dev/null |
		awk -v want="$1" '/^Slot/{id=$3; gsub(/[():]/,"",id)} $0 ~ "token label *: " want "$" {print id}'
}

# A SunPKCS11 configuration for the named token.
sunpkcs11_config() {
	local slot
	slot=$(slot_of "$1")
	[ -n "$slot" ] || fail "no slot for token $1"
	printf 'name = ROMbsr\nlibrary = %s\nslot = %d\n' "$SOFTHSM_MODULE" "$((slot))" > "$2"
}

apksigner_p11() {
	apksigner -J-add-exports=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED "$@"
}
