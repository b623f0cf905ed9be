# The sign node's users on a YubiHSM 2 (the emulator) with hsm.capacity:
# keygen run as root gives the wrapped store and the device log's spool to
# the signer user; the node started as root with sign.user and
# sign.signer-user runs its signers as the signer user, which read the
# signing, log reader and loader PINs, move the full device log into the
# spool, bring stored keys onto the device and sign; the worker cannot open
# the loader's PIN file. Throwaway users, removed on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/capture-lib.sh"
. "$(dirname "$0")/queue-lib.sh"
. "$(dirname "$0")/sign-lib.sh"
. "$(dirname "$0")/keyset-lib.sh"
. "$(dirname "$0")/custody-lib.sh"
. "$(dirname "$0")/yubihsm-lib.sh"

node_users
keyset_file 1 "$T/keyset.json"
chmod 0644 "$T/keyset.json"
extra_conf() {
	printf '[keyset]\n\tfile = %s\n[hsm]\n\tcapacity = 5\n\tunwrap-slots = 2\n' "$T/keyset.json"
	printf '[sign]\n\tuser = %s\n\tsigner-user = %s\n' "$worker" "$signer"
}
start_emu
new_config "$T/state"
yh_section >> "$T/rombsr.conf"
extra_conf >> "$T/rombsr.conf"
"$ROMBSR_SIGN" hsm-provision --backend yubihsm > /dev/null 2>&1 || fail "provision"
custody_ids 2
"$ROMBSR_SIGN" wrap-key create --threshold 2 --shares 2 "${RECIPIENTS[@]}" --out "$T/shares" >/dev/null 2>&1 ||
	fail "wrap-key create"
"$ROMBSR_SIGN" keygen > "$T/keygen.log" 2>&1 || fail "keygen: $(tail -3 "$T/keygen.log")"
[ -z "$(find "$T/state/wrapped" ! -user "$signer")" ] ||
	fail "keygen as root left store files that are not the signer's: $(find "$T/state/wrapped" ! -user "$signer")"
spool=$(ls "$T"/state/signer/yubihsm-log.spool-* 2>/dev/null | head -1)
[ -n "$spool" ] || fail "keygen spilled no device log"
[ "$(stat -c %U "$spool")" = "$signer" ] || fail "the spool keygen wrote is $(stat -c %U "$spool")'s"
echo "ok: keygen as root gave the store and the spool to $signer"
yh_keyset_node "$T/keyset.json"
extra_conf >> "$SIGN_CONF"
chmod 0644 "$SIGN_CONF"
# What make install's tmpfiles.d does: each part to its user.
chmod 0711 "$T" "$T/state"
chown -R "$signer:" "$T/state/pins"
gpgconf --homedir "$T/gpg-sign" --kill all 2>/dev/null || true
chown -R "$worker:" "$T/gpg-sign"

# A request over every release key, with the device's log full.
id=$(capacity_request 'users payload')
fill_emu_log
ROMBSR_PROBE_OPEN="$T/state/pins/yubihsm-loader.pin" "$ROMBSR_SIGN" --config "$SIGN_CONF" sign --once \
	>"$T/pass.txt" 2>"$T/once.err" || fail "sign --once with users: $(cat "$T/once.err")"
grep -q "worker runs as $worker" "$T/once.err" || fail "the worker did not say its user: $(cat "$T/once.err")"
grep -q "probe: open($T/state/pins/yubihsm-loader.pin): Permission denied" "$T/once.err" ||
	fail "the worker could open the loader's PIN file: $(grep probe "$T/once.err")"
[ "$(response_of "$id" | jq -r .status)" = signed ] || fail "not signed: $(response_of "$id" | jq -c .reason)"
grep -q "^sign: 7 keys unwrapped from the wrapped store" "$T/pass.txt" || fail "pass: $(cat "$T/pass.txt")"
[ -z "$(find "$T"/state/signer/yubihsm-log.spool-* ! -user "$signer")" ] || fail "a spool file is not the signer's"
emu_log_full && fail "the device's log is still full after the pass"
capacity_apply "$id"
echo "ok: signers as $signer spilled the full device log, imported 7 stored keys and signed; the worker as $worker could not open the loader's PIN"
echo "yubihsm users ok"
