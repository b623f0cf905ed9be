/* rombsr: the client, for build nodes, operators and auditors. It links
 * neither the HSM layer nor p11-kit nor the sign node's code (a test
 * checks): those are rombsr-sign and rombsr-signer. */
#include "cli.h"

static const struct cli_command commands[] = {
	{"queue-init", cmd_queue_init, "create a signing queue with its trust file (admin)"},
	{"queue-hook", cmd_queue_hook, "install or run the queue server's pre-receive hook"},
	{"queue-verify", cmd_queue_verify, "verify every commit of a queue clone"},
	{"submit", cmd_submit, "turn capture journals and artifacts into a signing request"},
	{"approve", cmd_approve, "approve a pending request as an operator (dual control)"},
	{"freeze", cmd_freeze, "stop the sign node from signing anything until a thaw (admin, incident response)"},
	{"thaw", cmd_thaw, "let a frozen sign node sign again (admin)"},
	{"apply", cmd_apply, "verify a response and replay its signatures into the build"},
	{"rom-sign", cmd_rom_sign, "sign a whole ROM by the rounds of a plan: capture, submit, wait, apply, verify"},
	{"audit-verify", cmd_audit_verify, "verify the audit log of a queue clone against the audit key"},
	{"audit-show", cmd_audit_show, "show the verified audit log's entries, by key, request, time or type"},
	{"audit-proof", cmd_audit_proof, "a proof that one signature is in the audit log, checkable without rombsr"},
	{"audit-find", cmd_audit_find, "the audit log's entries that sign a released file (binary transparency)"},
	{"audit-anomalies", cmd_audit_anomalies, "what in the verified audit log deserves a look: off-hours, volume, new keys and build nodes"},
	{"avb", cmd_artifact, "Android Verified Boot images: make, footers, info, verify (rombsr-artifact)"},
	{"ota", cmd_artifact, "OTA packages: the whole-file signature (signapk -w layout), verify (rombsr-artifact)"},
	{"manifest", cmd_artifact, "release manifests: create (signed by the manifest authority), verify (rombsr-artifact)"},
};

int main(int argc, char **argv)
{
	return cli_run("rombsr", commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
