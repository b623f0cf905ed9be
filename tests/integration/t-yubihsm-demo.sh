# The README's main job on a YubiHSM 2 (scripts/demo.sh --hsm
# yubihsm-emulator): seed 000's provisioning, the key set made on the
# device, the sample ROM signed through the native backend and verified by
# apksigner and the other verifiers, and the device's own log bound into
# the audit log that audit-verify checks.
. "$(dirname "$0")/lib.sh"

ROMBSR_DEMO_DIR="$T/demo" "$TOP/scripts/demo.sh" --hsm yubihsm-emulator > "$T/demo.log" 2>&1 ||
	{ tail -30 "$T/demo.log"; fail "the main job on the emulator failed"; }
grep -q 'deleted the factory authentication key 1' "$T/demo.log" || fail "provisioning"
grep -q '^keys generated: 12' "$T/demo.log" || fail "keygen on the device"
grep -q '^  rom-sign: 4 rounds, 5 requests, 24 operations captured and signed' "$T/demo.log" || fail "summary: rom-sign"
grep -q '^  sign node: 24 HSM operations' "$T/demo.log" || fail "summary: sign node"
grep -q '^APKs from the images verified by apksigner: 4' "$T/demo.log" || fail "not every APK verified"
grep -q '^release manifest ok: product sample_phone' "$T/demo.log" || fail "manifest verify"
grep -Eq '^audit ok: .* 5 responses and 24 signatures match the log, [0-9]+ device log entries chain unbroken' \
	"$T/demo.log" || fail "audit-verify: the device's log"
! grep -q 'device log anomal' "$T/demo.log" || fail "anomalies in the device log"
echo "main job on the yubihsm emulator ok"
