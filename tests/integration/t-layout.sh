# The trust boundary in the tree and in the programs (CONTRIBUTING.md,
# "Layout shows the trust boundary"):
# - only the signer (src/signer/) and the provisioning commands of
#   rombsr-sign include the HSM layer; the worker (src/sign/), the client
#   (src/cli/), the build side (src/build/), the queue, the audit log and the
#   capture module never do;
# - the client rombsr links neither p11-kit nor the HSM layer nor the sign
#   node's code; rombsr-sign has no signer code; rombsr-signer has no worker.
. "$(dirname "$0")/lib.sh"

src="$TOP/src"
provisioning="cmd_hsm_provision.c cmd_keygen.c cmd_hsm_rotate_keys.c keygen_store.c keygen_store.h hsm_login.c inventory.c wrap_key_token.c cmd_backup_export.c cmd_backup_restore.c cmd_hsm_revoke.c yubihsm_provision.c"
bad=$(grep -rlE '#include "(\.\./)+(src/)?hsm/' "$src" | while read -r f; do
	case "$f" in
	"$src"/hsm/*|"$src"/signer/*) ;;
	"$src"/node/*) case " $provisioning " in *" ${f##*/} "*) ;; *) echo "$f" ;; esac ;;
	*) echo "$f" ;;
	esac
done)
[ -z "$bad" ] || fail "these include the HSM layer outside the signer and provisioning: $bad"
# The native YubiHSM 2 client (src/yubihsm/) is the HSM layer's too: the same
# programs only (its protocol numbers, yh_proto.h, are the emulator's as well),
# and the YubiHSM's own provisioning (yubihsm_provision.c, hsm-provision).
bad=$({ grep -rlE '#include "(\.\./)+(src/)?yubihsm/yh_(client|internal)\.h"' "$src" || true; } | while read -r f; do
	case "$f" in
	"$src"/yubihsm/*|"$src"/hsm/*|"$src"/signer/*) ;;
	"$src"/node/*) case " $provisioning yubihsm_provision.c " in *" ${f##*/} "*) ;; *) echo "$f" ;; esac ;;
	*) echo "$f" ;;
	esac
done)
[ -z "$bad" ] || fail "these include the YubiHSM client outside the HSM layer, the signer and provisioning: $bad"
grep -rlE '#include "(\.\./)+(sign|signer|node)/' "$src/cli" "$src/build" "$src/queue" "$src/audit" "$src/common" \
	"$src/capture" "$src/artifact" "$src/p11client" "$src/avb" "$src/avb_helper" "$src/manifest" >"$T/up" || true
[ ! -s "$T/up" ] || fail "the client or a shared folder includes sign-side code: $(cat "$T/up")"
grep -rlE '#include "(\.\./)+sign/' "$src/signer" >"$T/up" || true
[ ! -s "$T/up" ] || fail "the signer includes the worker: $(cat "$T/up")"
echo "ok: only the signer and the provisioning commands include src/hsm/"

needed() { readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'; }
has_symbols() { # BINARY REGEX: the defined or used symbols matching REGEX
	nm -D --defined-only "$1" 2>/dev/null | grep -E "$2" || true
	nm "$1" 2>/dev/null | grep -E " [TtUuDdBb] ($2)" || true
}
client="$ROMBSR_BUILD/rombsr"
needed "$client" | grep -i p11-kit && fail "the client links p11-kit"
needed "$client" | grep -i libcurl && fail "the client links libcurl (the YubiHSM connector's transport)"
needed "$ROMBSR_BUILD/rombsr-artifact" | grep -i gpgme && fail "rombsr-artifact links GnuPG"
syms=$(has_symbols "$client" 'rombsr_hsm_|rombsr_yh_|rombsr_softhsm_|rombsr_sign_|rombsr_signer_|rombsr_audit_writer_|p11_kit_|C_GetFunctionList|C_Sign')
[ -z "$syms" ] || fail "the client holds HSM or sign-node code: $(printf '%s\n' "$syms" | head -5)"
# Each absence below means something only if nm reads the binary: each
# program must show a symbol of its own first.
for pair in "rombsr:rombsr_repo_open" "rombsr-sign:rombsr_sign_pass" "rombsr-signer:rombsr_signer_serve" \
	"rombsr-artifact:rombsr_p11_key_open"; do
	[ -n "$(has_symbols "$ROMBSR_BUILD/${pair%%:*}" "${pair#*:}")" ] ||
		fail "nm finds no ${pair#*:} in ${pair%%:*}: the symbol checks would prove nothing"
done
needed "$ROMBSR_BUILD/rombsr-signer" | grep -q . || fail "readelf lists no library of rombsr-signer"
# The journal client and the HTTP server are the worker's (docs/metrics.md).
needed "$ROMBSR_BUILD/rombsr-signer" | grep -E 'libsystemd|libmicrohttpd' &&
	fail "rombsr-signer links the worker's journal client or HTTP server"
needed "$client" | grep -E 'libsystemd|libmicrohttpd' && fail "the client links the sign node's journal or HTTP server"
syms=$(has_symbols "$ROMBSR_BUILD/rombsr-sign" 'rombsr_signer_serve|rombsr_sign_cache_|rombsr_checkpoint_signer_')
[ -z "$syms" ] || fail "rombsr-sign holds the signer's code: $(printf '%s\n' "$syms" | head -5)"
syms=$(has_symbols "$ROMBSR_BUILD/rombsr-signer" 'rombsr_sign_pass|rombsr_sign_decide|rombsr_verify_range|rombsr_repo_|gpgme_')
[ -z "$syms" ] || fail "rombsr-signer holds the worker's code: $(printf '%s\n' "$syms" | head -5)"
# The build side's signing tools: their own PKCS#11 client, nothing of the
# sign node, its HSM layer or the queue.
syms=$(has_symbols "$ROMBSR_BUILD/rombsr-artifact" \
	'rombsr_hsm_|rombsr_yh_|rombsr_softhsm_|rombsr_sign_|rombsr_signer_|rombsr_audit_writer_|rombsr_repo_|gpgme_|git_repository')
[ -z "$syms" ] || fail "rombsr-artifact holds sign-side or queue code: $(printf '%s\n' "$syms" | head -5)"
echo "ok: rombsr links no PKCS#11 and no sign code; rombsr-sign has no signer; rombsr-signer no worker;" \
	"rombsr-artifact no sign-side code"

# Small files with one job: none over 800 lines, no function over 120.
big=$(cd "$TOP" && git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'bench/*.c' 'fuzz/*.c' | while read -r f; do
	n=$(wc -l < "$f"); [ "$n" -le 800 ] || echo "$f ($n lines)"; done)
[ -z "$big" ] || fail "files over 800 lines: $big"
long=$(cd "$TOP" && git ls-files 'src/*.c' 'tests/*.c' 'bench/*.c' 'fuzz/*.c' | while read -r f; do
	awk -v f="$f" '/^[a-z].*\(/ { name = $0 } /^\{/ { start = NR }
		/^\}/ { if (start && NR - start > 120) print f ": " name " (" NR - start " lines)"; start = 0 }' "$f"; done)
[ -z "$long" ] || fail "functions over 120 lines: $long"
echo "ok: no file over 800 lines, no function over 120"

# The signer refuses to run except as rombsr-sign starts it.
out=$("$ROMBSR_BUILD/rombsr-signer" --authority release --state "$T/x" 2>&1 </dev/null 3>&-) && fail "rombsr-signer ran by hand"
case "$out" in *"started by rombsr-sign only"*) ;; *) fail "rombsr-signer by hand said: $out" ;; esac
echo "layout ok"
