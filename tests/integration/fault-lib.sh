# Sourced by the tests that sign through the fault module (tests/p11-fault)
# after lib.sh, capture-lib.sh, queue-lib.sh and sign-lib.sh: the module,
# its configuration and counters, the release signer's cache, and requests
# over new data (so that the signing cache cannot answer them).

SHIM="$ROMBSR_BUILD/tests/librombsr-p11-fault.so"
[ -f "$SHIM" ] || fail "no fault module at $SHIM (make builds it)"
export ROMBSR_P11_FAULT_CONFIG="$T/fault.conf"
COUNTERS="$T/counters"
CACHE="$T/state/signer/cache-release"

# faults DIRECTIVE...: the shim's configuration, replaced whole (the shim
# reads it again when it changes, so this works on a running node).
faults() {
	{
		printf 'counters %s\n' "$COUNTERS"
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} > "$T/fault.conf.new"
	mv "$T/fault.conf.new" "$T/fault.conf"
}
counter() { awk -v k="$1" '$1 == k {print $2}' "$COUNTERS"; }
cache_lines() { if [ -f "$CACHE" ]; then wc -l < "$CACHE"; else echo 0; fi; }

