# hsm-rotate-keys and custody (docs/incident-response.md, "Rotating a key";
# docs/custody.md): a key made --wrappable gets a wrappable successor, so
# backups keep reaching it, and the retired key stays what it was; with the
# token's wrap key gone, rotating a wrappable key is refused and nothing
# changes (its successor could never be backed up). A rotation killed
# midway leaves the old key retired and the label empty: the next run says
# so, and keygen finishes it. Refused: a key whose size the key set no
# longer says, and any key with hsm.capacity (keys kept wrapped on disk).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/custody-lib.sh"

custody_provision
custody_ids 3
"$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 3 "${RECIPIENTS[@]}" --out "$T/shares" 2>/dev/null ||
	fail "wrap-key create"
cat > "$T/keyset.json" <<'JSON'
{"format": "rombsr.keyset", "version": 1, "keys": [
 {"label": "platform", "algorithm": "rsa-2048", "authority": "release", "purpose": "system apps"},
 {"label": "media", "algorithm": "rsa-2048", "authority": "release", "purpose": "media apps"},
 {"label": "plain", "algorithm": "rsa-2048", "authority": "release", "purpose": "not wrappable"},
 {"label": "other", "algorithm": "rsa-2048", "authority": "release", "purpose": "rotation cut short"},
 {"label": "manifest", "algorithm": "ec-p256", "authority": "manifest", "purpose": "OTA manifests"},
 {"label": "audit", "algorithm": "ec-p256", "authority": "audit", "purpose": "audit log checkpoints only"}]}
JSON
printf '[keyset]\n\tfile = %s\n' "$T/keyset.json" >> "$ROMBSR_CONFIG"
for key in platform media; do
	"$ROMBSR_SIGN" keygen --wrappable --key "$key" >/dev/null 2>&1 || fail "keygen --wrappable --key $key"
done
for key in plain other; do
	"$ROMBSR_SIGN" keygen --key "$key" >/dev/null 2>&1 || fail "keygen $key"
done

# access LABEL: pkcs11-tool's Access line of the private key labelled LABEL.
access() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login \
		--pin "$(cat "$T/state/pins/release.pin")" --list-objects --type privkey 2>/dev/null |
		awk -v want="$1" '/^Private Key Object/ {l = ""} $1 == "label:" {l = $2} $1 == "Access:" && l == want {print}'
}
[ -n "$(access platform)" ] || fail "no Access line for platform"
case "$(access platform)" in *never\ extractable*) fail "platform is not wrappable: $(access platform)" ;; esac

"$ROMBSR_SIGN" hsm-rotate-keys --key platform > "$T/rotate.txt" 2>/dev/null || fail "hsm-rotate-keys platform"
retired=$(sed -n "s/.* is kept as '\(platform@[0-9a-f]*\)'.*/\1/p" "$T/rotate.txt")
[ -n "$retired" ] || fail "rotate said: $(cat "$T/rotate.txt")"
case "$(access platform)" in *never\ extractable*|"") fail "the successor is not wrappable: $(access platform)" ;; esac
[ "$(access "$retired")" = "$(access platform)" ] || fail "the retired key changed: $(access "$retired")"
echo "ok: platform's successor is wrappable too; $retired kept as it was"
case "$(access plain)" in *never\ extractable*) ;; *) fail "plain is wrappable: $(access plain)" ;; esac
"$ROMBSR_SIGN" hsm-rotate-keys --key plain > /dev/null 2>&1 || fail "hsm-rotate-keys plain"
case "$(access plain)" in *never\ extractable*) ;; *) fail "plain's successor became wrappable: $(access plain)" ;; esac
echo "ok: a key that was never wrappable gets a successor that is not either"

# A rotation killed between the relabelling and the new key (the fault
# module holds C_GenerateKeyPair back): the label is empty, which the next
# run says, and keygen finishes it.
cp "$ROMBSR_CONFIG" "$T/fault-rombsr.conf"
printf '[authority "release"]\n\tmodule = %s\n' "$ROMBSR_BUILD/tests/librombsr-p11-fault.so" >> "$T/fault-rombsr.conf"
printf 'module %s\ndelay C_GenerateKeyPair 20000\n' "$SOFTHSM_MODULE" > "$T/fault.conf"
ROMBSR_P11_FAULT_CONFIG="$T/fault.conf" "$ROMBSR_SIGN" --config "$T/fault-rombsr.conf" hsm-rotate-keys --key other \
	>/dev/null 2>"$T/cut.err" &
pid=$!
for _ in $(seq 100); do grep -q "generating" "$T/cut.err" && break; sleep 0.1; done
grep -q "generating" "$T/cut.err" || fail "the rotation did not reach the key generation: $(cat "$T/cut.err")"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
expect_fail "token 'rombsr-release' holds no key 'other', only its retired predecessor 'other@" \
	"$ROMBSR_SIGN" hsm-rotate-keys --key other
expect_fail "a rotation was cut short; 'rombsr-sign keygen --key other' (with --wrappable if it was) finishes it" \
	"$ROMBSR_SIGN" hsm-rotate-keys --key other
"$ROMBSR_SIGN" keygen --key other >/dev/null 2>&1 || fail "keygen --key other after the cut"
"$ROMBSR_SIGN" keys > "$T/keys.txt"
grep -q "^other@[0-9a-f]\{16\} " "$T/keys.txt" && grep -q "^other  " "$T/keys.txt" ||
	fail "keygen did not finish the rotation: $(cat "$T/keys.txt")"
echo "ok: a rotation cut short is said so, and keygen finishes it"

# A key set that now says another size for plain than its key has.
sed 's|"plain", "algorithm": "rsa-2048"|"plain", "algorithm": "rsa-4096"|' "$T/keyset.json" > "$T/keyset-4096.json"
sed "s|$T/keyset.json|$T/keyset-4096.json|" "$ROMBSR_CONFIG" > "$T/keyset-4096.conf"
"$ROMBSR_SIGN" keys > "$T/keys-before.txt"
expect_fail "key 'plain' in token 'rombsr-release' is of another type or size than the key set defines (2048 bits): nothing rotated" \
	"$ROMBSR_SIGN" --config "$T/keyset-4096.conf" hsm-rotate-keys --key plain
"$ROMBSR_SIGN" keys | cmp -s - "$T/keys-before.txt" || fail "a refused rotation changed the token"

# With hsm.capacity the wrapped store holds one copy per label: refused.
cp "$ROMBSR_CONFIG" "$T/capacity.conf"
printf '[hsm]\n\tcapacity = 8\n\tunwrap-slots = 3\n' >> "$T/capacity.conf"
"$ROMBSR_SIGN" keys > "$T/keys-before.txt"
expect_fail "the release authority keeps keys wrapped on disk (hsm.capacity), which hsm-rotate-keys does not handle yet: nothing rotated" \
	"$ROMBSR_SIGN" --config "$T/capacity.conf" hsm-rotate-keys --key media
"$ROMBSR_SIGN" keys | cmp -s - "$T/keys-before.txt" || fail "a refused rotation changed the token"

# The wrap key gone: a wrappable key is not rotated.
P11=(--module "$SOFTHSM_MODULE" --token-label rombsr-release --login --pin "$(cat "$T/state/pins/release.pin")")
wrap_id=$(pkcs11-tool "${P11[@]}" --list-objects --type secrkey 2>/dev/null | awk '$1 == "ID:" {print $2}')
pkcs11-tool "${P11[@]}" --delete-object --type secrkey --id "$wrap_id" >/dev/null 2>&1 || fail "deleting the wrap key"
[ "$(release_objects secrkey)" -eq 0 ] || fail "the wrap key is still there"
"$ROMBSR_SIGN" keys > "$T/keys-before.txt"
expect_fail "key 'media' may leave the token wrapped (backup), and token 'rombsr-release' holds no wrap key for its successor: nothing rotated" \
	"$ROMBSR_SIGN" hsm-rotate-keys --key media
"$ROMBSR_SIGN" keys | cmp -s - "$T/keys-before.txt" || fail "a refused rotation changed the token"
echo "key rotate wrap ok"
