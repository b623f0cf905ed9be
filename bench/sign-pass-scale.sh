#!/usr/bin/env bash
# A sign node pass over one commit of N one-operation requests, for a small
# and a large N: the cost per decision (fetch, verify, decide, sign in the
# HSM, log, checkpoint, publish in batches) must not grow with N (goal:
# large/small <= 1.2). ECDSA P-256 (the manifest key) keeps the HSM's share
# small, so the pass's own overhead shows.
# Usage: bench/sign-pass-scale.sh [BUILD_DIR] [SMALL] [LARGE]  (250 and 5000)
set -euo pipefail
. "$(dirname "$0")/bench-lib.sh"
bench_setup "${1:-}"
small=${2:-250} large=${3:-5000}

echo "setting up: SoftHSM2 key set, queue, identities..." >&2
with_bundle
with_queue
sign_config
capture_config "$T/capture.conf" capture
printf 'bench\n' > "$T/data"
capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign -m ECDSA-SHA256 \
	--id "$(bundle_id manifest)" -i "$T/data" -o "$T/ph" 2>/dev/null
template=$("$ROMBSR" --config "$BUILD_CONF" submit --journal "$T/journal.jsonl" --product bench --build-id T \
	--source-commit "$(printf '%040d' 1)" --build-type user --authority manifest)
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>&1
git_clone_as build "$T/work"
git -C "$T/work" show "HEAD:$(req_path "$template")" > "$T/template.json"

# one_commit N SEED: N requests like the template (new IDs, new digests) in
# one commit of the build node, pushed through the hook.
one_commit() {
	git -C "$T/work" pull -q --ff-only origin main
	python3 - "$T/template.json" "$T/work" "$1" "$2" <<'PY'
import json, os, random, sys
t = json.load(open(sys.argv[1]))
rng = random.Random(int(sys.argv[4]))
for i in range(int(sys.argv[3])):
    rid = t["id"][:8] + "%024x" % rng.getrandbits(96)
    t["id"] = rid
    t["operations"][0]["tbs"] = "%064x" % rng.getrandbits(256)
    d = os.path.join(sys.argv[2], "requests", rid[:4], rid[4:6], rid[6:8], rid[8:10])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, rid + ".json"), "w") as f:
        json.dump(t, f, indent=2, sort_keys=True)
        f.write("\n")
PY
	git -C "$T/work" add -A
	GNUPGHOME="$T/gpg-build" git -C "$T/work" -c user.signingkey="$FPR_BUILD" commit -q -S -m "bench $1"
	git -C "$T/work" push -q origin HEAD:main
}

# per_decision N SEED: seconds per decision of one pass over N requests.
per_decision() {
	local s e
	one_commit "$1" "$2"
	s=$(date +%s.%N)
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once > "$T/pass-$1.txt" 2>/dev/null
	e=$(date +%s.%N)
	grep -q "($1 signed, 0 rejected)" "$T/pass-$1.txt" || { cat "$T/pass-$1.txt" >&2; exit 1; }
	commits=$(git -C "$T/queue.git" rev-list --count main)
	awk -v a="$s" -v b="$e" -v n="$1" 'BEGIN { printf "%.6f\n", (b - a) / n }'
}
a=$(per_decision "$small" 1)
printf 'one commit of %d requests: %.2f ms per decision (%s)\n' "$small" "$(awk -v x="$a" 'BEGIN { print x * 1000 }')" \
	"$(sed -n 's/^sign: //p' "$T/pass-$small.txt")"
b=$(per_decision "$large" 2)
printf 'one commit of %d requests: %.2f ms per decision (%s)\n' "$large" "$(awk -v x="$b" 'BEGIN { print x * 1000 }')" \
	"$(sed -n 's/^sign: //p' "$T/pass-$large.txt")"
printf 'published in %d response commits for %d requests\n' \
	"$(git -C "$T/queue.git" log --format=%s main | grep -c '^responses:')" $((small + large + 1))
printf 'per-decision cost ratio %d/%d requests: %.3f (goal <= 1.2)\n' "$large" "$small" \
	"$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')"
