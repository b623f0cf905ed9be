# hsm-provision --backend yubihsm on the emulator: seed 000's role keys
# with their capabilities, the factory key gone, force audit on, each role
# able to do its job and nothing else (the device's answers, through
# yh-as), a second run refused, an interrupted run refused without
# --resume and finished with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/yubihsm-lib.sh"

YH_AS="$TOOLS/yh-as"
start_emu
new_config "$T/state"
yh_section >> "$T/rombsr.conf"
url="http://127.0.0.1:$EMU_PORT"
pins="$T/state/pins"

# An interrupted run: the connector loses the device after the
# administrator and signing keys are on it (9 commands: 5 checks, one per
# role, then a check and a put per key).
start_mitm cut-after:9
sed "s|127.0.0.1:$EMU_PORT|127.0.0.1:$MITM_PORT|" "$T/rombsr.conf" > "$T/cut.conf"
"$ROMBSR_SIGN" --config "$T/cut.conf" hsm-provision --backend yubihsm > "$T/p1.log" 2>&1 &&
	fail "provisioning went on without the device"
stop_mitm
grep -q 'created the rombsr-signing authentication key (0x0003)' "$T/p1.log" || fail "stopped too early: $(cat "$T/p1.log")"
grep -q 'rombsr-backup' "$T/p1.log" || fail "stopped elsewhere: $(cat "$T/p1.log")"
"$YH_AS" "$url" factory session > /dev/null || fail "the factory key is gone before the end"
signing_pin=$(cat "$pins/release.pin")
expect_fail "pass --resume" "$ROMBSR_SIGN" hsm-provision --backend yubihsm
# As if it had stopped between the signing PIN's first file and the next.
rm "$pins/manifest.pin"
"$ROMBSR_SIGN" hsm-provision --backend yubihsm --resume > "$T/p2.log" 2>&1 || { cat "$T/p2.log"; fail "resume"; }
grep -q 'deleted the factory authentication key 1' "$T/p2.log" || fail "the factory key was not deleted"
[ "$(cat "$pins/release.pin")" = "$signing_pin" ] || fail "resume replaced the signing PIN"
[ "$(cat "$pins/manifest.pin")" = "$signing_pin" ] || fail "resume did not write the missing manifest PIN file"

# Every PIN file: mode 0600, its key's ID, a 32-character password; the
# signing and administrator PINs serve every authority.
for f in release.pin manifest.pin audit.pin release.so-pin manifest.so-pin audit.so-pin yubihsm-backup.pin yubihsm-log.pin yubihsm-loader.pin; do
	[ "$(stat -c %a "$pins/$f")" = 600 ] || fail "$f is not mode 0600"
done
for f in release manifest audit; do
	grep -qx '0003[0-9a-f]\{32\}' "$pins/$f.pin" || fail "$f.pin is not the signing key's PIN"
	grep -qx '0002[0-9a-f]\{32\}' "$pins/$f.so-pin" || fail "$f.so-pin is not the administrator's PIN"
done
grep -qx '0004[0-9a-f]\{32\}' "$pins/yubihsm-backup.pin" || fail "backup PIN"
grep -qx '0005[0-9a-f]\{32\}' "$pins/yubihsm-log.pin" || fail "log reader PIN"
grep -qx '0006[0-9a-f]\{32\}' "$pins/yubihsm-loader.pin" || fail "loader PIN"

# The factory key is gone; a second run is refused.
expect_fail "(key 0x0001): object not found" "$YH_AS" "$url" factory session
expect_fail "not the factory default" "$ROMBSR_SIGN" hsm-provision --backend yubihsm
expect_fail "nothing to resume" "$ROMBSR_SIGN" hsm-provision --backend yubihsm --resume
expect_fail "hsm.backend is yubihsm" "$ROMBSR_SIGN" hsm-provision --backend softhsm2
expect_fail "--resume and --custodian are for --backend yubihsm" "$ROMBSR_SIGN" hsm-provision --resume

# Force audit is on: the device says so in its own state.
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["options"]["force_audit"] != 1)' "$T/emu.state" ||
	fail "force audit is off"

# Capabilities as the device holds them (bit numbers: docs/yubihsm.md).
caps() { "$YH_AS" "$url" "$pins/release.so-pin" caps "$1" 2 | awk '{print $2, $4}'; }
[ "$(caps 3)" = "00000000000000e1 0000000000000000" ] || fail "signing key: $(caps 3)"
[ "$(caps 4)" = "0000028000003003 00000000000100e0" ] || fail "backup key: $(caps 4)"
[ "$(caps 5)" = "0000000001000000 0000000000000000" ] || fail "log reader key: $(caps 5)"
[ "$(caps 6)" = "0000020000002000 00000000000100e0" ] || fail "loader key: $(caps 6)"

# The keys, then each role against the device.
"$ROMBSR_SIGN" keygen --authority release --key platform > "$T/keygen.log" 2>&1 || { cat "$T/keygen.log"; fail keygen; }
key=$("$ROMBSR_SIGN" keys 2>/dev/null | awk '$1 == "platform" {print $1}')
[ "$key" = platform ] || fail "keys does not list platform"
id=$(python3 -c 'import json,sys
for o in json.load(open(sys.argv[1]))["objects"]:
    if o["type"] == 3 and bytes.fromhex(o["label"]).rstrip(b"\0") == b"platform": print(o["id"])' "$T/emu.state")
[ -n "$id" ] || fail "no platform key on the device"
"$YH_AS" "$url" "$pins/release.pin" sign "$id" | grep -q '^signed: 512 bytes' || fail "the signing key cannot sign"
expect_fail "insufficient permissions" "$YH_AS" "$url" "$pins/release.pin" delete "$id" 3
expect_fail "insufficient permissions" "$YH_AS" "$url" "$pins/yubihsm-backup.pin" sign "$id"
expect_fail "insufficient permissions" "$YH_AS" "$url" "$pins/yubihsm-log.pin" sign "$id"
expect_fail "insufficient permissions" "$YH_AS" "$url" "$pins/yubihsm-loader.pin" sign "$id"
expect_fail "insufficient permissions" "$YH_AS" "$url" "$pins/release.pin" export 1 3 "$id"
"$YH_AS" "$url" "$pins/release.so-pin" session > /dev/null || fail "the administrator cannot log in"

# A custodian's role: the backup key's password typed twice on a terminal
# (tests/tools/tty-answer.py gives the command one) and written nowhere.
stop_emu
mv "$T/emu.state" "$T/first.state"
start_emu
new_config "$T/state2"
yh_section >> "$T/rombsr.conf"
custodian() { # FIRST SECOND ARGS...: hsm-provision on a terminal, typing FIRST then SECOND
	local first=$1 second=$2
	shift 2
	python3 "$TOP/tests/tools/tty-answer.py" 'stored nowhere: ' "$first" 'Again: ' "$second" -- \
		"$ROMBSR_SIGN" hsm-provision --backend yubihsm "$@" > "$T/custodian.out" 2>&1
}
custodian 'correct horse battery' 'correct horse batterz' --custodian backup && fail "two different passwords accepted"
grep -q 'the two passwords for the rombsr-backup key differ' "$T/custodian.out" || fail "mismatch: $(cat "$T/custodian.out")"
custodian 'correct horse battery' 'correct horse battery' --custodian backup --resume ||
	fail "custodian: $(cat "$T/custodian.out")"
grep -q 'rombsr-backup authentication key (0x0004), its password its custodian' "$T/custodian.out" ||
	fail "custodian said: $(cat "$T/custodian.out")"
[ ! -e "$T/state2/pins/yubihsm-backup.pin" ] || fail "the custodian's password was written"
grep -rq 'correct horse' "$T/state2" && fail "the custodian's password is in the state folder"
printf '0004correct horse battery' > "$T/typed.pin" && chmod 600 "$T/typed.pin"
"$YH_AS" "http://127.0.0.1:$EMU_PORT" "$T/typed.pin" session > /dev/null || fail "the custodian's password does not open the backup key"
expect_fail "neither admin nor backup" "$ROMBSR_SIGN" hsm-provision --backend yubihsm --custodian signing
echo "yubihsm provisioning ok"
