# hsm-provision: tokens inside the state folder, PINs in 0600 files, no
# second provisioning without --force, nothing half-made on failure.
. "$(dirname "$0")/lib.sh"

new_config
"$ROMBSR_SIGN" hsm-provision
[ -f "$T/state/softhsm2.conf" ] || fail "no softhsm2.conf in the state folder"
grep -q "directories.tokendir = $T/state/tokens" "$T/state/softhsm2.conf" || fail "tokendir not in state"
for f in release.pin release.so-pin manifest.pin manifest.so-pin audit.pin audit.so-pin; do
	[ "$(stat -c %a "$T/state/pins/$f")" = 600 ] || fail "$f is not mode 0600"
	[ "$(wc -c < "$T/state/pins/$f")" -eq 32 ] || fail "$f is not a 32-character PIN"
done
cmp -s "$T/state/pins/release.pin" "$T/state/pins/manifest.pin" && fail "authorities share a PIN"
export SOFTHSM2_CONF="$T/state/softhsm2.conf"
pkcs11-tool --module "$SOFTHSM_MODULE" -L | grep -q "token label *: rombsr-release" || fail "no release token"
pkcs11-tool --module "$SOFTHSM_MODULE" -L | grep -q "token label *: rombsr-manifest" || fail "no manifest token"
# The user PIN works, the SO PIN is a different one.
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login \
	--pin "$(cat "$T/state/pins/release.pin")" --list-objects >/dev/null

# A second run refuses and keeps the tokens.
before=$(ls "$T/state/tokens")
expect_fail "already exist" "$ROMBSR_SIGN" hsm-provision
[ "$(ls "$T/state/tokens")" = "$before" ] || fail "refused provisioning changed the tokens"
"$ROMBSR_SIGN" hsm-provision --force
[ "$(ls "$T/state/tokens")" != "$before" ] || fail "--force did not make new tokens"
[ "$(ls "$T/state/tokens" | wc -l)" -eq 3 ] || fail "old tokens left behind by --force"
ls -A "$T/state" | grep -q provision && fail "scratch folder left behind"

# Two authorities on one token would put both behind one credential.
printf '[core]\n\tstate-dir = %s\n[authority "manifest"]\n\ttoken = pkcs11:token=rombsr-release\n' "$T/same" > "$T/same.conf"
expect_fail "needs a token of its own" "$ROMBSR_SIGN" --config "$T/same.conf" hsm-provision
[ ! -e "$T/same" ] || fail "refused provisioning created the state folder"

# A bad second authority (its label is too long for a token) is found
# before anything is made: no token, PIN or configuration is left behind.
mkdir -p "$T/fresh"
cat > "$T/bad.conf" <<CONF
[core]
	state-dir = $T/fresh
[authority "manifest"]
	token = pkcs11:token=a-label-that-is-longer-than-thirty-two-characters
CONF
expect_fail "manifest authority: token URI" "$ROMBSR_SIGN" --config "$T/bad.conf" hsm-provision
[ -z "$(ls -A "$T/fresh")" ] || fail "failed provisioning left: $(ls -A "$T/fresh")"

# Not for hardware: a module that is not SoftHSM2 is refused.
printf '[core]\n\tstate-dir = %s\n[hsm]\n\tmodule = /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\n' "$T/hw" > "$T/hw.conf"
expect_fail "not SoftHSM2" "$ROMBSR_SIGN" --config "$T/hw.conf" hsm-provision
[ ! -e "$T/hw" ] || fail "refused provisioning created the state folder"
echo "hsm-provision ok"
