#!/usr/bin/env bash
# The native YubiHSM backend's signing bench on a short run, so that it
# keeps building and running: on the emulator, the backend and the raw Sign
# PKCS1 loop make the same signatures, both meet a full device log (force
# audit), on one session and on two; rates and the ratio are printed (not
# judged: a shared test machine is no place for a rate).
set -euo pipefail
for sessions in 1 2; do
	out=$(SESSIONS=$sessions bash "$ROMBSR_TOP/bench/yubihsm-sign-rate.sh" "$ROMBSR_BUILD" 2 30 2>&1)
	printf '%s\n' "$out"
	s=s; [ "$sessions" = 1 ] && s=
	grep -q "^RSA-4096 PKCS#1 v1.5 signatures per second, 60 each, over $sessions session$s: native backend [0-9.]*, raw Sign PKCS1 loop [0-9.]*$" <<<"$out"
	grep -q '^per-round ratios: min [0-9.]*, median [0-9.]*, max [0-9.]*; raw loop drained the device log [1-9][0-9]* times$' <<<"$out"
	grep -q '^native backend / raw Sign PKCS1 loop: [0-9.]* (goal >= 0.9)$' <<<"$out"
done
