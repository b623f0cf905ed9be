/* rombsr freeze --reason TEXT: stop the sign node from signing anything,
 * from the queue, without a shell on the sign node (incident response,
 * docs/incident-response.md). An admin's signed commit; the node rejects
 * every request with reason "frozen" until rombsr thaw. */
#include "cli.h"
#include "freeze_commit.h"

static const struct cli_option options[] = {
	{"reason", "TEXT", "why signing stops (1 to 256 printable ASCII characters; in the record and in every rejection)",
	 FREEZE_OPT_REASON},
	{NULL, NULL, NULL, 0},
};

int cmd_freeze(struct cli_context *ctx, int argc, char **argv)
{
	return freeze_command(ctx, options, "--reason TEXT", argc, argv, true, NULL);
}
