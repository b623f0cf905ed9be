/* rombsr-artifact ota: the whole-file signature of OTA packages (docs/ota.md). */
#include "artifact.h"
#include "ota_commands.h"

static const struct cli_command commands[] = {
	{"sign", cmd_ota_sign, "sign an OTA zip as signapk -w does, with a PKCS#11 key"},
	{"verify", cmd_ota_verify, "check an OTA zip's whole-file signature as recovery does"},
};

int artifact_ota(struct cli_context *ctx, int argc, char **argv)
{
	return cli_run_group(ctx, commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
