# The README's first command, the main job, end to end on the embedded
# default, into a folder of this test: it must finish and its summary must
# show the sample ROM signed in its rounds, every verifier passing, and a
# rerun that asks nothing.
. "$(dirname "$0")/lib.sh"

ROMBSR_DEMO_DIR="$T/demo" "$TOP/scripts/demo.sh" > "$T/demo.log" 2>&1 || { tail -30 "$T/demo.log"; fail "the main job failed"; }
grep -q '^  rom-sign: 4 rounds, 5 requests, 24 operations captured and signed' "$T/demo.log" || fail "summary: rom-sign"
grep -q '^  rerun: 0 requests' "$T/demo.log" || fail "summary: the rerun asked for signatures"
grep -q '^  sign node: 24 HSM operations' "$T/demo.log" || fail "summary: sign node"
grep -q '^  APKs signed and verified: 4' "$T/demo.log" || fail "summary: APKs"
grep -q '^APKs from the images verified by apksigner: 4' "$T/demo.log" || fail "not every APK verified"
grep -q '^verified SamplePlatform000.apk from system.img: signed by platform' "$T/demo.log" || fail "certificate check"
grep -q '^release manifest ok: product sample_phone' "$T/demo.log" || fail "manifest verify"
grep -q '^queue ok: [0-9]* commits, 5 requests, 5 responses' "$T/demo.log" || fail "queue-verify"
grep -q '^audit ok: .* 5 responses and [0-9]* signatures match the log' "$T/demo.log" || fail "audit-verify in the main job"
echo "main job ok"
