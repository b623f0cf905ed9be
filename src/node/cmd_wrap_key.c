/* rombsr-sign wrap-key: the wrap key's ceremonies (docs/custody.md). */
#include "node.h"

static const struct cli_command commands[] = {
	{"create", cmd_wrap_key_create,
	 "make the release token's wrap key and give each custodian one age-encrypted Shamir share"},
	{"restore", cmd_wrap_key_restore, "rebuild the wrap key from custodians' shares into a fresh release token"},
};

int cmd_wrap_key(struct cli_context *ctx, int argc, char **argv)
{
	return cli_run_group(ctx, commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
