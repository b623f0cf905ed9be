# The build node's whole loop with apksigner: capture through the module,
# rombsr submit, the sign node's response (signed in the HSM, committed with
# the sign key, accepted by the hook), then rombsr apply verifies it and
# reruns apksigner in replay mode. The APK passes `apksigner verify` with
# the default providers and is byte-identical to signing directly on
# SoftHSM2. One round (v1 off, apply already waiting for the response), and
# two rounds (v1 inside what v2/v3 sign: apply --merge carries round 1).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/apply-lib.sh"

with_apply_queue
sunpkcs11_config rombsr-release "$T/hsm.cfg"
capture_sunpkcs11_config "$T/cap.cfg"
"$TOP/scripts/make-sample-apk.sh" org.rombsr.apply28 "$T/app28.apk" 28
"$TOP/scripts/make-sample-apk.sh" org.rombsr.apply21 "$T/app21.apk" 21

SIGN_ARGS=(sign "${APKSIGN_FLAGS[@]}" --ks-pass pass:any --provider-arg "$T/cap.cfg" --ks-key-alias platform)
# What apply runs after --: apksigner against the module, with no way to
# the token (an executable, not a shell function).
REPLAY=(env SOFTHSM2_CONF="$T/no-token.conf" ${CAP_ENV[@]+"${CAP_ENV[@]}"} apksigner
	-J-add-exports=jdk.crypto.cryptoki/sun.security.pkcs11=ALL-UNNAMED "${SIGN_ARGS[@]}")

direct() { # IN OUT flags...
	local in=$1 out=$2
	shift 2
	apksigner_p11 sign "${APKSIGN_FLAGS[@]}" --ks-pass "file:$RELEASE_PIN" --provider-arg "$T/hsm.cfg" \
		--ks-key-alias platform "$@" --out "$out" "$in"
}

# capture_round SIGSET IN flags...: one capture run into a fresh journal,
# answering what SIGSET (may be empty) already has.
capture_round() {
	local sigs=$1 in=$2
	shift 2
	rm -f "$T/journal.jsonl"
	capture_config "$T/capture.conf" capture "$sigs"
	capture_run "$T/capture.conf" apksigner_p11 "${SIGN_ARGS[@]}" "$@" --out "$T/captured.apk" "$in" >&2 ||
		fail "apksigner failed in capture mode"
}

check_apk() { # NAME
	apksigner verify "$T/$1.apk" || fail "$1: apksigner verify failed"
	apksigner verify -v "$T/$1.apk" > "$T/$1.verify"
	grep -q 'Verified using v3 scheme (APK Signature Scheme v3): true' "$T/$1.verify" || fail "$1: no v3 signature"
	cmp "$T/$1.apk" "$T/$1.direct.apk" || fail "$1: differs from the APK signed on the token"
	echo "ok: $1: verified, byte-identical to direct signing"
}

# One round: apply waits for the response, then replays.
flags=(--v1-signing-enabled false --v4-signing-enabled false)
direct "$T/app28.apk" "$T/v3only.direct.apk" "${flags[@]}"
capture_round "" "$T/app28.apk" "${flags[@]}"
id=$(submit_journal "$BUILD_CONF" --artifact "$T/app28.apk=app28.apk")
apply_build --request "$id" --out "$T/v3only.sigs.json" --timeout 120 -- \
	"${REPLAY[@]}" "${flags[@]}" --out "$T/v3only.apk" "$T/app28.apk" > "$T/apply.out" 2>&1 &
waiting=$!
respond_and_push "$T/sign-clone" "$id"
wait "$waiting" || { cat "$T/apply.out"; fail "apply with apksigner replay failed"; }
check_apk v3only
[ "$(jq '.signatures | length' "$T/v3only.sigs.json")" -eq "$(jq '.operations | length' "$T/request-$id.json")" ] ||
	fail "v3only: the set does not hold one signature per operation"

# Two rounds: v1's signature is inside what v2/v3 sign.
flags=(--v4-signing-enabled false)
direct "$T/app21.apk" "$T/v1.direct.apk" "${flags[@]}"
capture_round "" "$T/app21.apk" "${flags[@]}"
id=$(submit_journal "$BUILD_CONF" --round 1)
respond_and_push "$T/sign-clone" "$id"
apply_build --request "$id" --out "$T/round1.json" >/dev/null || fail "apply of round 1"
capture_round "$T/round1.json" "$T/app21.apk" "${flags[@]}"
[ "$(journal_lines)" -gt 0 ] || fail "round 2 captured nothing: v1 should need a second round"
id=$(submit_journal "$BUILD_CONF" --round 2)
respond_and_push "$T/sign-clone" "$id"
apply_build --request "$id" --merge "$T/round1.json" --out "$T/round2.json" --replay-config "$T/replay.conf" -- \
	"${REPLAY[@]}" "${flags[@]}" --out "$T/v1.apk" "$T/app21.apk" >/dev/null || fail "apply of round 2"
check_apk v1
python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$T/v1.apk" > "$T/v1.list"
grep -q 'META-INF/PLATFORM.RSA' "$T/v1.list" || fail "v1: no JAR signature"
[ "$(jq '.signatures | length' "$T/round2.json")" -eq \
	$(($(jq '.signatures | length' "$T/round1.json") + $(jq '.operations | length' "$T/request-$id.json"))) ] ||
	fail "round 2's set is not round 1's plus round 2's signatures"
# The merged set is a fixed point: capturing against it adds nothing.
capture_round "$T/round2.json" "$T/app21.apk" "${flags[@]}"
[ "$(journal_lines)" -eq 0 ] || fail "a third round captured new operations"
# The replay configuration apply wrote drives the module on its own.
capture_run "$T/replay.conf" apksigner_p11 "${SIGN_ARGS[@]}" "${flags[@]}" --out "$T/v1-again.apk" "$T/app21.apk" ||
	fail "apksigner with apply's replay configuration"
cmp "$T/v1-again.apk" "$T/v1.direct.apk" || fail "replay with apply's configuration differs"
echo "apply with apksigner ok"
