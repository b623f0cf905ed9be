# The README's first command, the main job, end to end on the embedded
# default, into a folder of this test: it must finish and its summary must
# show the request signed and every APK verified.
. "$(dirname "$0")/lib.sh"

ROMBSR_DEMO_DIR="$T/demo" "$TOP/scripts/demo.sh" > "$T/demo.log" 2>&1 || { tail -30 "$T/demo.log"; fail "the main job failed"; }
grep -q '^  sign node: 1 responses published (1 signed, 0 rejected), 6 operations' "$T/demo.log" || fail "summary: sign node"
grep -q '^  APKs signed and verified: 3' "$T/demo.log" || fail "summary: APKs"
[ "$(grep -c '^verified org.rombsr.demo' "$T/demo.log")" -eq 3 ] || fail "not every APK verified"
grep -q '^queue ok: 3 commits, 1 requests, 1 responses' "$T/demo.log" || fail "queue-verify"
grep -q '^audit ok: .* 1 responses and [0-9]* signatures match the log' "$T/demo.log" || fail "audit-verify in the main job"
echo "main job ok"
