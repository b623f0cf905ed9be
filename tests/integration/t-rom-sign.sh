# rombsr rom-sign (docs/rom-sign.md) on the sample ROM of
# scripts/sample-rom.sh, through the real sign node: (a) the whole ROM with
# `rombsr-sign sign --daemon` answering (APKs in two requests for v1, the
# images and AVB chain, the OTA package, the release manifest for the
# manifest authority), the ecosystem's verifiers run by the plan and again
# here; (b) a rerun asks nothing (the audit log's signature count does not
# grow) and rebuilds the same bytes; (c) a timeout, then a rom-sign killed
# while waiting for round 2, and a rerun that goes on with the request it
# had submitted; (d) refusals: a plan that does not parse, a failing step,
# a rejected request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

with_bundle
with_queue
sign_config
ROM="$T/rom"
SAMPLE_ROM_BUNDLE="$T/bundle" ROMBSR_BUILD="$ROMBSR_BUILD" "$TOP/scripts/sample-rom.sh" "$ROM" >/dev/null
PLAN="$ROM/plan.json"
# Sanitized builds: the module needs the ASan runtime in every step.
sanitizer_env() { # PLAN
	local kv
	for kv in ${CAP_ENV[@]+"${CAP_ENV[@]}"}; do
		jq --arg k "${kv%%=*}" --arg v "${kv#*=}" '.env[$k] = $v' "$1" > "$1.new" && mv "$1.new" "$1"
	done
}
sanitizer_env "$PLAN"
# The build node reaches no token.
romsign() { env SOFTHSM2_CONF="$T/no-token.conf" "$ROMBSR" --config "$BUILD_CONF" rom-sign "$@"; }
sig_count() {
	git -C "$T/queue.git" ls-tree -r --name-only main audit/entries 2>/dev/null |
		while read -r f; do git -C "$T/queue.git" show "main:$f"; done | grep -c '"type":"signature"' || true
}
outputs() { (cd "$ROM" && sha256sum images/*.img images/ota.zip release.json signed/*.apk); }
pending_of() { jq -r --arg n "$2" '.rounds[] | select(.name == $n) | .pending // empty' "$1/state.json" 2>/dev/null || true; }
start_daemon() {
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --daemon --interval-ms 200 2>>"$T/daemon.log" &
	daemon=$!
}
stop_daemon() { kill -TERM "$daemon"; wait "$daemon" || fail "the daemon did not stop cleanly"; }
# expect_last TEXT command...: fails, and its last line on stderr (after
# the progress lines) holds TEXT.
expect_last() {
	local want=$1 rc=0; shift
	"$@" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "expected failure of: $*"
	tail -n 1 "$T/err" | grep -qF -- "$want" || fail "error of '$*' lacks '$want': $(tail -n 3 "$T/err")"
	echo "ok: refused (exit $rc): $(tail -n 1 "$T/err")"
}

# (a) The whole ROM through the daemon.
start_daemon
romsign --plan "$PLAN" --state "$T/s1" --timeout 120 > "$T/run1.out" 2> "$T/run1.err" ||
	fail "rom-sign: $(tail -n 5 "$T/run1.err")"
cat "$T/run1.out"
grep -q '^rom-sign: 4 rounds done, 5 requests this run' "$T/run1.out" || fail "summary: $(cat "$T/run1.out")"
grep -q "round 1/4 'apks': 12 operations captured" "$T/run1.err" || fail "round 1: $(grep apks "$T/run1.err")"
grep -q "round 1/4 'apks': 8 operations captured" "$T/run1.err" || fail "v1 needs a second request"
grep -q "round 2/4 'images': 2 operations captured" "$T/run1.err" || fail "round 2: $(grep images "$T/run1.err")"
grep -q "round 4/4 'manifest': request [0-9a-f]* submitted to the manifest authority" "$T/run1.err" ||
	fail "round 4: $(grep manifest "$T/run1.err")"
grep -q "round 3/4 'ota': waiting for the response to request" "$T/run1.err" || fail "no waiting shown"
grep -q "round 3/4 'ota': applied request" "$T/run1.err" || fail "no apply shown"
grep -q "rom-sign: verifying: " "$T/run1.err" || fail "the verifiers did not run"
signed=$(sig_count)
# 4 APKs: v1, v2, v3 (over a placeholder v1), then v2, v3 again; 2 vbmeta;
# the OTA package; the manifest.
[ "$signed" -eq $((12 + 8 + 2 + 1 + 1)) ] || fail "the audit log holds $signed signatures, not 24"
echo "ok: the whole ROM signed: 5 requests, $signed signatures in the audit log"
# The verifiers, again here: every APK taken out of the images (no mount).
openssl x509 -in "$T/bundle/certs/avb_root.pem" -pubkey -noout > "$T/root.pub"
"$ROMBSR" avb verify --image "$ROM/images/vbmeta.img" --key "$T/root.pub" > "$T/avb.txt" || fail "avb verify"
grep -q 'partition vendor: sha256 hash tree' "$T/avb.txt" || fail "avb verify: $(cat "$T/avb.txt")"
"$ROMBSR" ota verify --bundle "$T/bundle" --label ota_key --in "$ROM/images/ota.zip" >/dev/null || fail "ota verify"
"$ROMBSR" manifest verify --bundle "$T/bundle" --in "$ROM/release.json" --artifacts "$ROM/images" |
	grep -q '6 artifacts, 2 rollback indexes; every artifact matches' || fail "manifest verify"
n=0
for img in system vendor; do
	for apk in $(debugfs -R 'ls -p /app' "$ROM/images/$img.img" 2>/dev/null | awk -F/ '$6 ~ /^Sample/ {print $6}'); do
		debugfs -R "dump /app/$apk/$apk.apk $T/$apk.apk" "$ROM/images/$img.img" 2>/dev/null
		apksigner verify -v "$T/$apk.apk" > "$T/v.txt" || fail "$apk from $img.img does not verify"
		grep -q 'Verified using v1 scheme (JAR signing): true' "$T/v.txt" || fail "$apk: no v1"
		grep -q 'Verified using v3 scheme (APK Signature Scheme v3): true' "$T/v.txt" || fail "$apk: no v3"
		n=$((n + 1))
	done
done
[ "$n" -eq 4 ] || fail "$n APKs found in the images, not 4"
echo "ok: 4 APKs from the ext4 images, the AVB chain, the OTA package and the manifest verify"
outputs > "$T/first"

# (b) A rerun: nothing asked of the HSM, the same bytes.
romsign --plan "$PLAN" --state "$T/s1" --timeout 120 > "$T/run2.out" 2> "$T/run2.err" ||
	fail "rerun: $(tail -n 5 "$T/run2.err")"
grep -q '^rom-sign: 4 rounds done, 0 requests this run (0 operations)' "$T/run2.out" || fail "rerun: $(cat "$T/run2.out")"
sleep 0.5
[ "$(sig_count)" -eq "$signed" ] || fail "the rerun made the HSM sign"
outputs | cmp -s - "$T/first" || fail "the rerun made other bytes: $(outputs | diff - "$T/first")"
echo "ok: rerun: 0 requests, 0 HSM operations, byte-identical outputs"
stop_daemon

# (c) No sign node: a timeout, the request recorded as pending.
expect_last "round 1/4 'apks': no response to request" romsign --plan "$PLAN" --state "$T/s2" --timeout 1
grep -q "within 1 s (run rom-sign again to go on waiting for it)" "$T/err" || fail "timeout: $(tail -n 1 "$T/err")"
first=$(pending_of "$T/s2" apks)
[ -n "$first" ] || fail "the timed out request is not recorded"
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>&1 || fail "sign --once"
# Killed while waiting for round 2's answer.
# (exec: $! is rom-sign itself, not a subshell)
env SOFTHSM2_CONF="$T/no-token.conf" "$ROMBSR" --config "$BUILD_CONF" rom-sign --plan "$PLAN" --state "$T/s2" \
	--timeout 120 > /dev/null 2> "$T/run3.err" &
rom=$!
for _ in $(seq 600); do
	p=$(pending_of "$T/s2" apks)
	[ -z "$p" ] || [ "$p" = "$first" ] || "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>&1
	[ -z "$(pending_of "$T/s2" images)" ] || break
	sleep 0.2
done
[ -n "$(pending_of "$T/s2" images)" ] || fail "round 2 never submitted: $(tail -n 3 "$T/run3.err")"
grep -q "request $first was submitted by an earlier run" "$T/run3.err" || fail "the pending request was not taken up"
for _ in $(seq 50); do grep -q "round 2/4 'images': waiting" "$T/run3.err" && break; sleep 0.1; done
kill -TERM "$rom"
wait "$rom" && fail "rom-sign was not killed"
second=$(pending_of "$T/s2" images)
jq -e . "$T/s2/state.json" >/dev/null || fail "state.json is not whole"
echo "ok: killed while waiting for round 2 (request $second)"
start_daemon
romsign --plan "$PLAN" --state "$T/s2" --timeout 120 > "$T/run4.out" 2> "$T/run4.err" ||
	fail "resume: $(tail -n 5 "$T/run4.err")"
grep -q "round 2/4 'images': request $second was submitted by an earlier run" "$T/run4.err" ||
	fail "the resume did not take up request $second"
grep -q '^rom-sign: 4 rounds done, 2 requests this run' "$T/run4.out" || fail "resume: $(cat "$T/run4.out")"
outputs | cmp -s - "$T/first" || fail "the resumed run made other bytes"
echo "ok: resumed: round 2's request taken up, rounds 3 and 4 done, the same bytes"

# (d) Refusals.
jq '.rounds[0].step = 1' "$PLAN" > "$ROM/bad.json"
expect_last "plan.rounds[0]: unknown field 'step'" romsign --plan "$ROM/bad.json" --state "$T/s3"
jq '.rounds[1].authority = "audit"' "$PLAN" > "$ROM/bad.json"
expect_last "plan.rounds[1].authority" romsign --plan "$ROM/bad.json" --state "$T/s3"
[ ! -e "$T/s3/state.json" ] || fail "a bad plan left a state"
jq '.rounds[1].steps[3].argv = ["false"]' "$PLAN" > "$ROM/bad.json"
expect_last "round 2/4 'images', step '$(jq -r '.rounds[1].steps[3].name' "$PLAN")': false exited with status 1" \
	romsign --plan "$ROM/bad.json" --state "$T/s1"
printf 'a release signed with the testkey\n' > "$T/data"
jq -n --arg m "$CAP_MODULE" --arg b "$T/bundle" --arg id "$(bundle_id testkey)" --arg d "$T" '{format: "rombsr.rom-plan",
	version: 1, product: "sample_phone", build_id: "TK.1", source_commit: ("0" * 40), build_type: "user", bundle: $b,
	rounds: [{name: "testkey", authority: "release", steps: [{name: "pkcs11-tool", argv: ["pkcs11-tool", "--module", $m,
	"--login", "--pin", "x", "--sign", "-m", "SHA256-RSA-PKCS", "--id", $id, "-i", ($d + "/data"), "-o", ($d + "/sig")]}]}]}' \
	> "$T/testkey.json"
sanitizer_env "$T/testkey.json"
expect_last "round 1/1 'testkey': request" romsign --plan "$T/testkey.json" --state "$T/s4" --timeout 60
grep -q "was rejected by sign node [0-9A-F]*: development-key: " "$T/err" || fail "rejection: $(tail -n 1 "$T/err")"
[ -z "$(pending_of "$T/s4" testkey)" ] || fail "a rejected request stays pending"
stop_daemon
echo "rom-sign ok"
