# Eight apksigner processes capture into one journal at once: every
# operation is there exactly once and every entry is whole. The reference
# is the same eight APKs captured one after the other (capture is
# deterministic for v2/v3, whose digests do not cover placeholders).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"

N=8
with_bundle
capture_sunpkcs11_config "$T/cap.cfg"
for i in $(seq 1 $N); do
	"$TOP/scripts/make-sample-apk.sh" "org.rombsr.concurrent$i" "$T/app$i.apk" 28
done

sign_one() { # CONFIG I
	capture_run "$1" apksigner_p11 sign "${APKSIGN_FLAGS[@]}" --ks-pass pass:any --provider-arg "$T/cap.cfg" \
		--ks-key-alias platform --v1-signing-enabled false --v4-signing-enabled false \
		--out "$T/out$2.apk" "$T/app$2.apk"
}

# Operations of a journal, without what differs per run (id, pid, time).
ops() {
	python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print(e["label"], e["spki_sha256"], e["mechanism"], e["tbs"], e["sig_len"])
PY
}

capture_config "$T/capture.conf" capture
for i in $(seq 1 $N); do sign_one "$T/capture.conf" "$i"; done
mv "$T/journal.jsonl" "$T/sequential.jsonl"
ops "$T/sequential.jsonl" | sort > "$T/sequential.ops"
per_apk=$(($(wc -l < "$T/sequential.ops") / N))
[ "$per_apk" -ge 2 ] || fail "expected at least 2 operations per APK"
[ "$(sort -u "$T/sequential.ops" | wc -l)" -eq $((per_apk * N)) ] || fail "sequential operations are not distinct"

pids=()
for i in $(seq 1 $N); do
	sign_one "$T/capture.conf" "$i" 2>"$T/err$i.txt" &
	pids+=($!)
done
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || { cat "$T/err$((i + 1)).txt"; fail "apksigner $((i + 1)) failed"; }
done

# Whole entries only: the strict reader checks every line's SHA-256.
sign_journal "$T/journal.jsonl" "$T/sigs.json" 2>"$T/sign.txt" || { cat "$T/sign.txt"; fail "journal unreadable"; }
ops "$T/journal.jsonl" | sort > "$T/concurrent.ops"
diff "$T/sequential.ops" "$T/concurrent.ops" || fail "concurrent capture lost or duplicated operations"
python3 - "$T/journal.jsonl" "$N" <<'PY' || fail "journal ids or pids wrong"
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
ids = [e["id"] for e in entries]
assert len(ids) == len(set(ids)), "duplicate operation ids"
assert len({e["pid"] for e in entries}) == int(sys.argv[2]), "not one process per apksigner"
PY
echo "ok: $N processes, $(wc -l < "$T/journal.jsonl") entries, each operation once"

# And the signatures of all of them replay.
capture_config "$T/replay.conf" replay "$T/sigs.json"
for i in $(seq 1 $N); do
	sign_one "$T/replay.conf" "$i"
	apksigner verify "$T/out$i.apk" || fail "APK $i does not verify after replay"
done
echo "concurrent capture ok"
