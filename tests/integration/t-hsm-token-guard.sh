# SoftHSM2 rewrites a token's token.object in place at every login
# (truncate, then write); a kill between the two leaves it empty and the
# token, with every key in it, unlisted. ROMbsr keeps a copy beside it and
# writes an empty one back before SoftHSM2 is loaded. The empty file here is
# exactly what such a kill leaves (the window is too short to hit on cue).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"

with_bundle
with_queue
sign_config
folder=$(dirname "$(grep -l 'rombsr-release' "$T"/state/tokens/*/token.object)")
live="$folder/token.object"
copy="$folder/rombsr-token-object.copy"
[ -s "$copy" ] || fail "no copy of the release token's token.object after the first start"
cmp -s "$live" "$copy" || fail "the copy differs from token.object"
objects=$(ls "$folder"/*.object | wc -l)

request() { # NAME: a one-operation request; prints its ID
	printf '%s\n' "$1" > "$T/$1.bin"
	capture_config "$T/capture.conf" capture
	rm -f "$T/journal.jsonl"
	capture_run "$T/capture.conf" pkcs11-tool --module "$CAP_MODULE" --login --pin x --sign \
		-m SHA256-RSA-PKCS --id "$(bundle_id platform)" -i "$T/$1.bin" -o "$T/$1.ph" 2>/dev/null
	submit_journal user
}

# What the kill leaves: an empty token.object. The next start restores it.
req=$(request one)
: > "$live"
"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once >/dev/null 2>"$T/once.err" || fail "sign after the restore: $(cat "$T/once.err")"
grep -q "token.object was empty (a login rewrite was interrupted): restored from" "$T/once.err" ||
	fail "the restore was not reported: $(cat "$T/once.err")"
[ "$(response_of "$req" | jq -r .status)" = signed ] || fail "not signed after the restore"
[ -s "$live" ] || fail "token.object is empty after the restore"
[ "$(ls "$folder"/*.object | wc -l)" -eq "$objects" ] || fail "the copy was taken for a token object"
echo "ok: an empty token.object is written back from its copy and the node signs"

# No copy and an empty token.object: a clear refusal, nothing signed.
req=$(request two)
: > "$live"
rm "$copy"
expect_fail "is empty (a login rewrite was interrupted) and its copy cannot be read: restore the token folder from a backup" \
	"$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once
git -C "$T/queue.git" cat-file -e "main:$(resp_path "$req")" 2>/dev/null && fail "a response was published without the token"
[ ! -s "$live" ] || fail "token.object was written without a copy"
echo "ok: without a copy the node refuses to start and says how to recover"
