/* rombsr-artifact avb: Android Verified Boot (docs/avb.md). */
#include "artifact.h"
#include "avb_commands.h"

static const struct cli_command commands[] = {
	{"extract-public-key", cmd_avb_extract_public_key, "write the AVB public key blob of a key"},
};

int artifact_avb(struct cli_context *ctx, int argc, char **argv)
{
	return cli_run_group(ctx, commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
