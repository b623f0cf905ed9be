# The PKCS#11 rules clients rely on, checked by driving the module directly
# (tests/tools/capture-p11-check.c), plus 8 threads signing at once through
# one process. In the sanitized build this runs the module under ASan and
# UBSan with no preloading. Every placeholder handed out is one whole
# journal entry.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"

with_bundle
capture_config "$T/capture.conf" capture
ROMBSR_CAPTURE_CONFIG="$T/capture.conf" SOFTHSM2_CONF="$T/no-token.conf" \
	"$TOOLS/capture-p11-check" "$CAP_MODULE" 8 25 > "$T/check.txt" 2> "$T/stderr.txt" || {
	grep -v '^ok' "$T/check.txt"
	cat "$T/stderr.txt"
	fail "capture-p11-check failed"
}
grep -c '^ok' "$T/check.txt"
issued=$(sed -n 's/^placeholders //p' "$T/check.txt")
[ "$issued" -eq $((8 * 25 + 3)) ] || fail "expected $((8 * 25 + 3)) placeholders, got $issued"
[ "$(journal_lines)" -eq "$issued" ] || fail "journal has $(journal_lines) entries for $issued placeholders"
# Every refusal named the key and said why, on one line each.
grep -q "rombsr-capture: C_Sign: key 'platform': CKM_RSA_PKCS_PSS with SHA256 needs a 32-byte digest, got 31 bytes" \
	"$T/stderr.txt" || fail "no clear message for a digest of the wrong length"
grep -q "rombsr-capture: C_SignInit: key 'platform': mechanism 0x6 is not supported" "$T/stderr.txt" ||
	fail "no clear message for an unsupported mechanism"
grep -q "rombsr-capture: C_CreateObject: CKA_EC_PARAMS names a curve other than P-256 and P-384" "$T/stderr.txt" ||
	fail "no clear message for a session key on an unsupported curve"
# The journal is whole and signable.
sign_journal "$T/journal.jsonl" "$T/sigs.json" 2>"$T/sign.txt" || { cat "$T/sign.txt"; fail "journal not signable"; }
grep -q "$issued entries" "$T/sign.txt" || fail "sign-journal did not read every entry"
echo "PKCS#11 rules ok"
