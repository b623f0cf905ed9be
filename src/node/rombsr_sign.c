/* rombsr-sign: the sign node's program, for the sign node's host and its
 * operators. The daemon's worker runs here; the keys are reached only
 * through rombsr-signer, which it starts. The provisioning commands open a
 * token themselves, with the PIN of the operator who runs them. */
#include "node.h"

static const struct cli_command commands[] = {
	{"hsm-provision", cmd_hsm_provision, "create ROMbsr's SoftHSM2 tokens (embedded default)"},
	{"keygen", cmd_keygen, "generate the release key set and certificates in the HSM"},
	{"hsm-revoke", cmd_hsm_revoke, "revoke a key for good: recorded in the queue by an admin, destroyed in the HSM"},
	{"hsm-rotate-keys", cmd_hsm_rotate_keys, "rotate a sound key: new one under its label, old one kept for the lineage"},
	{"keys", cmd_keys, "list the keys in the HSM with fingerprints and validity"},
	{"export-public", cmd_export_public, "write the public bundle for build nodes"},
	{"wrap-key", cmd_wrap_key, "the wrap key's ceremonies: create (split to custodians), restore (from shares)"},
	{"backup", cmd_backup, "export the release keys wrapped, admin-signed; restore them into a fresh token"},
	{"status", cmd_status, "the sign node's view: policy in force, requests waiting for approvals, quotas"},
	{"sign", cmd_sign, "the sign node: answer pending requests (--once) or keep watching (--daemon)"},
	{"serve", cmd_serve, "the sign node with the signing server: HTTPS for build nodes (docs/server.md)"},
};

int main(int argc, char **argv)
{
	return cli_run("rombsr-sign", commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
