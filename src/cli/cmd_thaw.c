/* rombsr thaw [--reason TEXT]: let a frozen sign node sign again (an
 * admin's signed commit, like rombsr freeze). A queue that is not frozen
 * is refused: a thaw records a decision, never a no-op. */
#include "cli.h"
#include "freeze_commit.h"

static const struct cli_option options[] = {
	{"reason", "TEXT", "why signing resumes (1 to 256 printable ASCII characters; default \"signing resumed\")",
	 FREEZE_OPT_REASON},
	{NULL, NULL, NULL, 0},
};

int cmd_thaw(struct cli_context *ctx, int argc, char **argv)
{
	return freeze_command(ctx, options, "[--reason TEXT]", argc, argv, false, "signing resumed");
}
