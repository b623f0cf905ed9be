# Sourced by every integration test. Each test gets its own folder under
# /tmp, removed on exit with every process the test started.
set -euo pipefail

: "${ROMBSR_BUILD:?run through tests/run}"
ROMBSR="$ROMBSR_BUILD/rombsr"
ROMBSR_SIGN="$ROMBSR_BUILD/rombsr-sign"
ROMBSR_ARTIFACT="$ROMBSR_BUILD/rombsr-artifact"
TOOLS="$ROMBSR_BUILD/tools"
TOP="$ROMBSR_TOP"
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so

T=$(mktemp -d /tmp/rombsr-test.XXXXXX)
cleanup() {
	local pids home
	pids=$(jobs -p)
	[ -z "$pids" ] || kill $pids 2>/dev/null || true
	# gpg starts an agent per GnuPG home; none may outlive the test.
	for home in "$T"/gpg-*; do
		[ -d "$home" ] && gpgconf --homedir "$home" --kill all 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAILED: $*" >&2
	exit 1
}

# flip_byte FILE OFFSET: inverts every bit of one byte in place. Writing a
# fixed value would change nothing when the byte already holds it (random
# data does, one time in 256).
flip_byte() {
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1)
    if len(b) != 1: sys.exit("flip_byte: offset past the end")
    f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
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
			ROMBSR_CONFIG="$cache/rombsr.conf" "$ROMBSR_SIGN" hsm-provision >/dev/null 2>&1
			ROMBSR_CONFIG="$cache/rombsr.conf" "$ROMBSR_SIGN" keygen >/dev/null 2>&1
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

# gpg_identity NAME [EXPIRE]: a throwaway OpenPGP key in a GnuPG home of its
# own ($T/gpg-NAME); sets FPR_NAME to its fingerprint.
gpg_identity() {
	local name=$1 expire=${2:-never} home="$T/gpg-$1"
	mkdir -p "$home"
	chmod 700 "$home"
	# Made once: a second call (with_queue after a test's own) keeps it.
	GNUPGHOME="$home" gpg --batch --list-secret-keys "$name <$name@rombsr.test>" >/dev/null 2>&1 ||
		GNUPGHOME="$home" gpg --batch --quiet --passphrase '' \
			--quick-gen-key "$name <$name@rombsr.test>" ed25519 sign "$expire" 2>/dev/null
	local fpr
	fpr=$(GNUPGHOME="$home" gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
	[ -n "$fpr" ] || fail "no key made for $name"
	printf -v "FPR_${name^^}" '%s' "$fpr"
}

# Copies NAME's public key into OTHER's keyring.
gpg_share() {
	GNUPGHOME="$T/gpg-$1" gpg --batch --export --armor "$(gpg_fpr "$1")" 2>/dev/null |
		GNUPGHOME="$T/gpg-$2" gpg --batch --quiet --import 2>/dev/null
}
gpg_fpr() { local v="FPR_${1^^}"; printf '%s' "${!v}"; }

# node_config NAME ROLE_URL: a rombsr.conf for one node of the queue, with its
# own state folder and GnuPG home, pinning the admin.
node_config() {
	local name=$1 url=$2
	mkdir -p "$T/node-$name"
	cat > "$T/node-$name/rombsr.conf" <<CONF
[core]
	state-dir = $T/node-$name/state
[queue]
	url = $url
	admin = $FPR_ADMIN
[gpg]
	home = $T/gpg-$name
	key = $(gpg_fpr "$name")
CONF
	printf '%s' "$T/node-$name/rombsr.conf"
}

# start_git_daemon: serves $T over git:// on a free loopback port (receive-pack
# on, so pushes run the queue's hook); sets GIT_PORT.
start_git_daemon() {
	GIT_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	git daemon --reuseaddr --listen=127.0.0.1 --port="$GIT_PORT" --base-path="$T" --export-all \
		--enable=receive-pack --informative-errors "$T" >"$T/git-daemon.log" 2>&1 &
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$GIT_PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "git daemon did not start"
}
