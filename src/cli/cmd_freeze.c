/* rombsr freeze --reason TEXT: stop the sign node from signing anything,
 * from the queue, without a shell on the sign node (incident response,
 * docs/incident-response.md). An admin's signed commit; the node rejects
 * every request with reason "frozen" until rombsr thaw. */
#include "cli.h"
#include "freeze_commit.h"

#include "../common/error.h"

enum { OPT_REASON = 1 };

static const struct cli_option options[] = {
	{"reason", "TEXT", "why signing stops (1 to 256 printable ASCII characters; in the record and in every rejection)",
	 OPT_REASON},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "--reason TEXT";

int cmd_freeze(struct cli_context *ctx, int argc, char **argv)
{
	struct cli_parser p;
	const char *reason = NULL;
	int opt;

	cli_parser_init(&p, options, argc, argv);
	while ((opt = cli_next(&p, usage)) > 0)
		if (opt == OPT_REASON)
			reason = p.value;
	if (opt < 0)
		return opt;
	if (p.index < argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (reason == NULL)
		return rombsr_error(ROMBSR_EINVAL, "usage: rombsr freeze %s", usage);
	return freeze_commit(ctx, true, reason);
}
