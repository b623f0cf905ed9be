# apksigner through the capture module: capture, sign the captured digests
# through the HSM layer, replay; the APK verifies and is byte-identical to
# the one signed directly on the token. Signatures inside signed bytes
# need rounds: v1 (JAR) is inside what v2/v3 sign, and v4's signature
# covers the v2/v3 signatures.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"

with_bundle
sunpkcs11_config rombsr-release "$T/hsm.cfg"
capture_sunpkcs11_config "$T/cap.cfg"
"$TOP/scripts/make-sample-apk.sh" org.rombsr.capture28 "$T/app28.apk" 28
"$TOP/scripts/make-sample-apk.sh" org.rombsr.capture21 "$T/app21.apk" 21

# capture_rounds IN OUT apksigner-flags...: runs apksigner against the
# module in capture mode, signs what it captured, and again, until a run
# captures nothing new; then one run in replay mode makes OUT. Prints the
# number of signing rounds.
capture_rounds() {
	local in=$1 out=$2 rounds=0 before after
	shift 2
	rm -f "$T/journal.jsonl" "$T/sigs.json"
	while :; do
		capture_config "$T/round.conf" capture "$([ -f "$T/sigs.json" ] && echo "$T/sigs.json")"
		before=$(journal_lines)
		capture_run "$T/round.conf" apksigner_p11 sign "${APKSIGN_FLAGS[@]}" --ks-pass pass:any \
			--provider-arg "$T/cap.cfg" --ks-key-alias platform "$@" --out "$T/round.apk" "$in" >&2 ||
			fail "apksigner failed in capture round $((rounds + 1))"
		after=$(journal_lines)
		[ "$after" -gt "$before" ] || break
		rounds=$((rounds + 1))
		[ "$rounds" -le 4 ] || fail "no fixed point after 4 rounds"
		if [ -f "$T/sigs.json" ]; then
			sign_journal "$T/journal.jsonl" "$T/sigs.json.new" --merge "$T/sigs.json" 2>/dev/null
			mv "$T/sigs.json.new" "$T/sigs.json"
		else
			sign_journal "$T/journal.jsonl" "$T/sigs.json" 2>/dev/null
		fi
	done
	capture_config "$T/replay.conf" replay "$T/sigs.json"
	capture_run "$T/replay.conf" apksigner_p11 sign "${APKSIGN_FLAGS[@]}" --ks-pass pass:any \
		--provider-arg "$T/cap.cfg" --ks-key-alias platform "$@" --out "$out" "$in" >&2 ||
		fail "apksigner failed in replay mode"
	[ "$(journal_lines)" -eq "$after" ] || fail "replay mode wrote to the journal"
	echo "$rounds"
}

direct() { # IN OUT flags...
	local in=$1 out=$2
	shift 2
	apksigner_p11 sign "${APKSIGN_FLAGS[@]}" --ks-pass "file:$RELEASE_PIN" --provider-arg "$T/hsm.cfg" \
		--ks-key-alias platform "$@" --out "$out" "$in"
}

check_case() { # NAME APK WANT_ROUNDS flags...
	local name=$1 apk=$2 want=$3 rounds
	shift 3
	direct "$apk" "$T/$name.direct.apk" "$@"
	rounds=$(capture_rounds "$apk" "$T/$name.apk" "$@")
	[ "$rounds" -eq "$want" ] || fail "$name: $rounds signing rounds, expected $want"
	# Default providers: the real verifier, not the module.
	apksigner verify "$T/$name.apk" || fail "$name: apksigner verify failed"
	apksigner verify -v "$T/$name.apk" > "$T/$name.verify"
	grep -q 'Verified using v3 scheme (APK Signature Scheme v3): true' "$T/$name.verify" ||
		fail "$name: no v3 signature"
	cmp "$T/$name.apk" "$T/$name.direct.apk" || fail "$name: differs from the APK signed on the token"
	if [ -f "$T/$name.direct.apk.idsig" ]; then
		cmp "$T/$name.apk.idsig" "$T/$name.direct.apk.idsig" || fail "$name: v4 signature differs"
	fi
	echo "ok: $name: $rounds round(s), byte-identical to direct signing"
}

# v1 off: one round.
check_case v3only "$T/app28.apk" 1 --v1-signing-enabled false --v4-signing-enabled false
# minSdk 21, v1 on: v1's signature is inside what v2/v3 sign: two rounds.
check_case v1 "$T/app21.apk" 2 --v4-signing-enabled false
python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$T/v1.apk" > "$T/v1.list"
grep -q 'META-INF/PLATFORM.RSA' "$T/v1.list" || fail "v1: no JAR signature"
# apksigner's defaults (v4 on too): v4 signs over the v2/v3 signatures.
check_case defaults "$T/app21.apk" 3

# A placeholder APK is not a signed APK.
capture_config "$T/capture.conf" capture
capture_run "$T/capture.conf" apksigner_p11 sign "${APKSIGN_FLAGS[@]}" --ks-pass pass:any --provider-arg "$T/cap.cfg" \
	--ks-key-alias platform --v1-signing-enabled false --v4-signing-enabled false --out "$T/ph.apk" "$T/app28.apk"
if apksigner verify "$T/ph.apk" >/dev/null 2>&1; then
	fail "an APK with placeholders verified"
fi
echo "apksigner capture and replay ok"
