/* rombsr-sign backup: the release keys, wrapped, and back (docs/custody.md). */
#include "node.h"

static const struct cli_command commands[] = {
	{"export", cmd_backup_export, "write every release key wrapped, its certificate and an admin-signed manifest"},
	{"restore", cmd_backup_restore, "import a verified backup into a fresh token holding the same wrap key"},
};

int cmd_backup(struct cli_context *ctx, int argc, char **argv)
{
	return cli_run_group(ctx, commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
