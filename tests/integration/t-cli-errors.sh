# Bad input: one clear line, a non-zero exit, nothing created.
. "$(dirname "$0")/lib.sh"

with_keys
# Token files change on a failed login (SoftHSM2 counts it): compare their
# names, and everything else byte for byte.
state_print() {
	find "$T/state" -type f | sort
	find "$T/state" -type f -not -path '*/tokens/*' -exec sha256sum {} + | sort
}
before=$(state_print)

echo wrong-pin > "$T/wrong.pin"
chmod 600 "$T/wrong.pin"
expect_fail "C_Login (token 'rombsr-release'): CKR_PIN_INCORRECT" "$ROMBSR_SIGN" keys --authority release --pin-file "$T/wrong.pin"
expect_fail "CKR_PIN_INCORRECT" "$ROMBSR_SIGN" keys --authority release --pin-fd 3 3<"$T/wrong.pin"

printf '[core]\n\tstate-dir = %s\n[hsm]\n\tmodule = %s\n' "$T/state" "$T/missing.so" > "$T/c-missing"
expect_fail "PKCS#11 module $T/missing.so: No such file or directory" "$ROMBSR_SIGN" --config "$T/c-missing" keys
printf '[core]\n\tstate-dir = %s\n[hsm]\n\tmodule = %s\n' "$T/state" "$(readlink -f /usr/lib/x86_64-linux-gnu/libz.so.1)" > "$T/c-notp11"
expect_fail "is not a PKCS#11 module" "$ROMBSR_SIGN" --config "$T/c-notp11" keys
echo "not a library" > "$T/fake.so"
printf '[core]\n\tstate-dir = %s\n[hsm]\n\tmodule = %s\n' "$T/state" "$T/fake.so" > "$T/c-fake"
expect_fail "is not a loadable PKCS#11 module" "$ROMBSR_SIGN" --config "$T/c-fake" keys

expect_fail "the key set has no key 'nosuchkey'" "$ROMBSR_SIGN" keys --key nosuchkey

for opt in --pin --pin=1234 --so-pin --passphrase=x; do
	expect_fail "refusing ${opt%%=*}" "$ROMBSR_SIGN" keygen "$opt" 1234
done
printf '[core]\n\tstate-dir = %s\n[authority "release"]\n\ttoken = pkcs11:token=rombsr-release?pin-value=1234\n' "$T/state" > "$T/c-pinuri"
expect_fail "carries a PIN" "$ROMBSR_SIGN" --config "$T/c-pinuri" keys --authority release

chmod 644 "$T/wrong.pin"
expect_fail "may be read by group or others (mode 0644)" "$ROMBSR_SIGN" keys --authority release --pin-file "$T/wrong.pin"
: > "$T/empty.pin"; chmod 600 "$T/empty.pin"
expect_fail "the secret is empty" "$ROMBSR_SIGN" keys --authority release --pin-file "$T/empty.pin"
# No terminal and no PIN file: refused, not hung.
rm "$T/state/pins/release.pin"
expect_fail "no terminal to ask for the PIN" setsid "$ROMBSR_SIGN" keys --authority release </dev/null
cp "$ROMBSR_TEST_CACHE/keys/state/pins/release.pin" "$T/state/pins/release.pin"

printf '[core]\n\tstate-dir = %s\n\tstat-dir = /tmp\n' "$T/state" > "$T/c-unknown"
expect_fail "unknown key 'core.stat-dir'" "$ROMBSR_SIGN" --config "$T/c-unknown" keys
printf '[core]\n\tstate-dir = %s\n[authority "release"]\n\tpin-fil = x\n' "$T/state" > "$T/c-unknown2"
expect_fail "unknown key 'authority.release.pin-fil'" "$ROMBSR_SIGN" --config "$T/c-unknown2" keys
printf '[authority "staging"]\n\ttoken = pkcs11:token=x\n' > "$T/c-authority"
expect_fail "unknown authority 'staging'" "$ROMBSR_SIGN" --config "$T/c-authority" keys
printf '[core]\n\tstate-dir = %s\n\n[hsm\n\tmodule = x\n' "$T/state" > "$T/c-syntax"
expect_fail "$T/c-syntax:4" "$ROMBSR_SIGN" --config "$T/c-syntax" keys
printf '[core]\n\tstate-dir\n' > "$T/c-novalue"
expect_fail "has no value" "$ROMBSR_SIGN" --config "$T/c-novalue" keys
expect_fail "config file $T/nowhere.conf does not exist" "$ROMBSR_SIGN" --config "$T/nowhere.conf" keys
# A fingerprint one digit too long is refused, never cut to 40 digits.
expect_fail "--admin: '08D218992087D67F3A78598355CDD1168212F16E0' is not an OpenPGP fingerprint" \
	"$ROMBSR" queue-hook --install "$T/no-queue.git" --admin 08D218992087D67F3A78598355CDD1168212F16E0
expect_fail "rombsr-sign keys: unknown option '--bogus' (see 'rombsr-sign keys --help')" "$ROMBSR_SIGN" keys --bogus
# A command of a group is named whole, in the error and in the hint, as a
# user types it (rombsr avb hands over to rombsr-artifact).
expect_fail "rombsr avb make-vbmeta: unknown option '--bogus' (see 'rombsr avb make-vbmeta --help')" \
	"$ROMBSR" avb make-vbmeta --bogus
expect_fail "rombsr avb: unknown avb command 'frobnicate' (see 'rombsr avb --help')" "$ROMBSR" avb frobnicate
expect_fail "rombsr-sign wrap-key create: unknown option '--bogus' (see 'rombsr-sign wrap-key create --help')" \
	"$ROMBSR_SIGN" wrap-key create --bogus
"$ROMBSR_SIGN" backup export --help | head -n 1 | grep -qx 'usage: rombsr-sign backup export .*' ||
	fail "backup export --help: $("$ROMBSR_SIGN" backup export --help | head -n 1)"
"$ROMBSR" audit-find --help | head -n 1 | grep -qx 'usage: rombsr audit-find --artifact FILE .*' ||
	fail "audit-find --help: $("$ROMBSR" audit-find --help | head -n 1)"
expect_fail "unknown command 'frobnicate'" "$ROMBSR" frobnicate
expect_fail "--days: 'soon' is not a whole number" "$ROMBSR_SIGN" keygen --days soon

after=$(state_print)
[ "$before" = "$after" ] || fail "a refused command changed the state folder"
echo "errors ok"
