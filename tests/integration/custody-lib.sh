# Sourced by the t-custody-* tests (docs/custody.md): fresh tokens, age
# custodians, and a wrap key split among them.

# A provisioned state without keys ($T/state), its config and SOFTHSM2_CONF.
custody_provision() {
	new_config "$T/state"
	"$ROMBSR_SIGN" hsm-provision >/dev/null 2>&1 || fail "hsm-provision failed"
	export SOFTHSM2_CONF="$T/state/softhsm2.conf"
}

# custody_ids N: age identities $T/id1..N; RECIPIENTS holds --recipient
# arguments for them.
custody_ids() {
	RECIPIENTS=()
	for i in $(seq "$1"); do
		age-keygen -o "$T/id$i" 2>/dev/null
		RECIPIENTS+=(--recipient "$(age-keygen -y "$T/id$i")")
	done
}

# The number of objects of a type (privkey, secrkey, cert) in the release
# token, as pkcs11-tool lists them.
release_objects() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label rombsr-release --login \
		--pin "$(cat "$T/state/pins/release.pin")" --list-objects --type "$1" 2>/dev/null | grep -c '^[A-Z]' || true
}
