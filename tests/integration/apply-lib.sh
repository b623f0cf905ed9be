# Sourced by the t-apply-*.sh tests after lib.sh, capture-lib.sh and
# queue-lib.sh: the sign node's part done by hand (tests/tools/respond signs
# a request's operations through the HSM layer; git commits the response
# with the sign identity's key and pushes it), and a check for refusals.

# submit_journal CONF [extra submit args]: submits $T/journal.jsonl; prints
# the request ID.
submit_journal() {
	local conf=$1; shift
	"$ROMBSR" --config "$conf" submit --journal "$T/journal.jsonl" --product sample_phone \
		--build-id "APPLY.$RANDOM" --source-commit "$(printf '%040d' 5)" --build-type user "$@"
}

# queue_clone_as NAME URL DIR: a working clone whose commits NAME signs.
queue_clone_as() {
	local name=$1 url=$2 dir=$3
	git clone -q "$url" "$dir"
	git -C "$dir" config user.name "$name"
	git -C "$dir" config user.email "$name@rombsr.test"
	git -C "$dir" config user.signingkey "$(gpg_fpr "$name")"
	git -C "$dir" config gpg.program gpg
}

# make_response DIR ID OUT [respond args]: the sign node's answer to request
# ID as DIR's queue has it, written to OUT (nothing is committed).
make_response() {
	local dir=$1 id=$2 out=$3; shift 3
	local path commit
	path=$(req_path "$id")
	git -C "$dir" pull -q --ff-only
	commit=$(git -C "$dir" log --format=%H --diff-filter=A -- "$path" | tail -n 1)
	[ -n "$commit" ] || fail "request $id is not in $dir"
	git -C "$dir" show "$commit:$path" > "$T/request-$id.json"
	"$TOOLS/respond" --request "$T/request-$id.json" --request-commit "$commit" --sign-node "$FPR_SIGN" \
		--out "$out" --token pkcs11:token=rombsr-release "$RELEASE_PIN" \
		--token pkcs11:token=rombsr-manifest "$MANIFEST_PIN" "$@"
}

# push_response DIR ID FILE [WHO]: commits FILE as the response to ID,
# signed by WHO (default sign), and pushes it. Fails if the push is refused.
push_response() {
	local dir=$1 id=$2 file=$3 who=${4:-sign}
	local path
	path=$(resp_path "$id")
	git -C "$dir" pull -q --ff-only
	mkdir -p "$dir/$(dirname "$path")"
	cp "$file" "$dir/$path"
	git -C "$dir" add "$path"
	GNUPGHOME="$T/gpg-$who" git -C "$dir" -c user.signingkey="$(gpg_fpr "$who")" commit -q -S \
		-m "response $id" >/dev/null
	GNUPGHOME="$T/gpg-$who" git -C "$dir" push -q origin HEAD:main 2>"$T/push.err"
}

# respond_and_push DIR ID [respond args]: a signed response, pushed.
respond_and_push() {
	local dir=$1 id=$2; shift 2
	make_response "$dir" "$id" "$T/response-$id.json" "$@"
	push_response "$dir" "$id" "$T/response-$id.json" || { cat "$T/push.err" >&2; fail "push of response $id refused"; }
}

# refused STATUS TEXT OUT command...: the command exits with STATUS, says
# exactly one line containing TEXT, and leaves OUT unwritten.
refused() {
	local want_rc=$1 want=$2 out=$3; shift 3
	local err rc=0
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -eq "$want_rc" ] || fail "expected exit $want_rc from $*, got $rc: $err"
	case "$err" in
		*"$want"*) ;;
		*) fail "error of '$*' lacks '$want'; it said: $err" ;;
	esac
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "error of '$*' is not one line: $err"
	[ ! -e "$out" ] || fail "$out was written although apply refused"
	! compgen -G "$out.tmp-*" >/dev/null || fail "a temporary file of $out was left"
	echo "ok: refused (exit $rc): $err"
}

# Runs an apply of the build node.
apply_build() { "$ROMBSR" --config "$BUILD_CONF" apply --bundle "$T/bundle" "$@"; }

# with_apply_queue: keys and bundle, the queue with the hook, and the sign
# node's working clone in $T/sign-clone.
with_apply_queue() {
	with_bundle
	with_queue
	queue_clone_as sign "$QUEUE_URL" "$T/sign-clone"
}

# altered CLONE JQ_FILTER TEXT: a new request whose good response, changed
# by the jq filter, the sign key commits and pushes; apply must refuse it
# (exit 3, TEXT).
altered() {
	local clone=$1 filter=$2 want=$3 id
	id=$(submit_journal "$BUILD_CONF")
	make_response "$clone" "$id" "$T/r.json"
	jq "$filter" "$T/r.json" > "$T/r2.json"
	push_response "$clone" "$id" "$T/r2.json" || fail "push refused: $(cat "$T/push.err")"
	refused 3 "$want" "$T/out.json" apply_build --request "$id" --out "$T/out.json"
}
