# Sourced by the t-capture-*.sh tests after lib.sh: a key set on SoftHSM2,
# its public bundle, and helpers that run clients against the capture
# module in an environment that cannot reach the token.
#
# Sanitized builds (any build folder named *asan*, e.g. build-asan): the
# module then needs the ASan runtime loaded first, so clients pointed at it
# run with LD_PRELOAD of libasan and with leak detection off (java and openssl keep memory until exit, which is
# not our leak). The JVM handles SIGSEGV itself, so ASan must leave that
# signal alone. The module's own code therefore runs sanitized under every
# client in these tests.

CAP_MODULE="$ROMBSR_BUILD/libmock_pkcs11.so"
CAP_ALIAS="$ROMBSR_BUILD/librombsr-capture.so"
CAP_ENV=()
case "$(basename "$ROMBSR_BUILD")" in
*asan*)
	CAP_ENV=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
		ASAN_OPTIONS=detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:abort_on_error=1
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
	;;
esac

# with_bundle: keys on SoftHSM2 (lib.sh) and their public bundle in
# $T/bundle. The token stays reachable only through $SOFTHSM2_CONF, which
# capture_run removes.
with_bundle() {
	with_keys
	"$ROMBSR_SIGN" export-public --out "$T/bundle" >/dev/null 2>&1 || fail "export-public failed"
	mkdir -p "$T/no-token"
	printf 'directories.tokendir = %s\n' "$T/no-token" > "$T/no-token.conf"
	RELEASE_PIN="$T/state/pins/release.pin"
	MANIFEST_PIN="$T/state/pins/manifest.pin"
}

# The CKA_ID (hex) of a bundle key.
bundle_id() {
	python3 -c 'import json,sys; print([k["pkcs11_id"] for k in json.load(open(sys.argv[1]))["keys"] if k["label"] == sys.argv[2]][0])' \
		"$T/bundle/manifest.json" "$1"
}

# capture_config FILE MODE [SIGNATURES]: a module configuration with the
# bundle and the journal $T/journal.jsonl.
capture_config() {
	local file=$1 mode=$2 sigs=${3:-}
	{
		printf '# written by the capture tests\nmode = %s\nbundle = %s\n' "$mode" "$T/bundle"
		[ "$mode" = replay ] || printf 'journal = %s\n' "$T/journal.jsonl"
		[ -z "$sigs" ] || printf 'signatures = %s\n' "$sigs"
	} > "$file"
}

# capture_run CONFIG command...: runs a client against the module with no
# way to the token (SoftHSM2 sees an empty token folder).
# The command may be a shell function (apksigner_p11).
capture_run() {
	local cfg=$1; shift
	(
		export ROMBSR_CAPTURE_CONFIG="$cfg" SOFTHSM2_CONF="$T/no-token.conf"
		for kv in ${CAP_ENV[@]+"${CAP_ENV[@]}"}; do export "${kv?}"; done
		"$@"
	)
}

# sign_journal JOURNAL OUT [extra args]: the sign side's stand-in.
sign_journal() {
	local journal=$1 out=$2; shift 2
	"$TOOLS/sign-journal" --journal "$journal" --out "$out" \
		--token pkcs11:token=rombsr-release "$RELEASE_PIN" \
		--token pkcs11:token=rombsr-manifest "$MANIFEST_PIN" "$@"
}

journal_lines() {
	if [ -f "$T/journal.jsonl" ]; then wc -l < "$T/journal.jsonl"; else echo 0; fi
}

# A SunPKCS11 configuration for the capture module.
capture_sunpkcs11_config() {
	printf 'name = ROMbsrCapture\nlibrary = %s\nslot = 0\n' "$CAP_MODULE" > "$1"
}

APKSIGN_FLAGS=(--ks NONE --ks-type PKCS11 --provider-class sun.security.pkcs11.SunPKCS11 --provider-pos 1)

# engine_config FILE: an openssl configuration that loads
# libengine-pkcs11-openssl with the capture module (any PIN: the module
# holds no secret), for clients run with OPENSSL_CONF=FILE.
engine_config() {
	local engine=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
	[ -f "$engine" ] || engine=$(find /usr/lib -name pkcs11.so -path '*engines*' | head -1)
	[ -f "$engine" ] || fail "libengine-pkcs11-openssl is not installed"
	cat > "$1" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = $CAP_MODULE
PIN = any
init = 0
CNF
}
