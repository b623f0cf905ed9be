/* rombsr thaw [--reason TEXT]: let a frozen sign node sign again (an
 * admin's signed commit, like rombsr freeze). A queue that is not frozen
 * is refused: a thaw records a decision, never a no-op. */
#include "cli.h"
#include "freeze_commit.h"

#include "../common/error.h"

enum { OPT_REASON = 1 };

static const struct cli_option options[] = {
	{"reason", "TEXT", "why signing resumes (1 to 256 printable ASCII characters; default \"signing resumed\")",
	 OPT_REASON},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "[--reason TEXT]";

int cmd_thaw(struct cli_context *ctx, int argc, char **argv)
{
	struct cli_parser p;
	const char *reason = "signing resumed";
	int opt;

	cli_parser_init(&p, options, argc, argv);
	while ((opt = cli_next(&p, usage)) > 0)
		if (opt == OPT_REASON)
			reason = p.value;
	if (opt < 0)
		return opt;
	if (p.index < argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	return freeze_commit(ctx, false, reason);
}
