/* rombsr sign: the sign node. --once answers what is pending and exits (for
 * manual or air-gapped use); --daemon keeps watching the queue (what the
 * rombsr-sign service runs). Both run the same worker and signers. */
#include "node.h"

#include "daemon.h"

#include "../common/error.h"

enum { OPT_ONCE = 1, OPT_DAEMON, OPT_INTERVAL };

static const struct cli_option options[] = {
	{"once", NULL, "answer every pending request, then exit", OPT_ONCE},
	{"daemon", NULL, "keep answering requests as they come", OPT_DAEMON},
	{"interval-ms", "N", "how often the daemon looks for new requests (default 250)", OPT_INTERVAL},
	{NULL, NULL, NULL, 0},
};

int cmd_sign(struct cli_context *ctx, int argc, char **argv)
{
	unsigned long interval_ms = 250;
	bool once = false, daemon = false;
	struct cli_parser p;
	int id, r = 0;

	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, "--once | --daemon [--interval-ms N]")) > 0) {
		if (id == OPT_ONCE)
			once = true;
		else if (id == OPT_DAEMON)
			daemon = true;
		else
			r = cli_parse_uint(p.value, 60000, &interval_ms, "--interval-ms");
	}
	if (r == 0 && id < 0)
		r = id;
	if (r == 0 && p.index != argc)
		r = rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (r == 0 && once == daemon)
		r = rombsr_error(ROMBSR_EINVAL, "give either --once or --daemon");
	if (r == 0 && interval_ms == 0)
		r = rombsr_error(ROMBSR_EINVAL, "--interval-ms must be at least 1");
	return r < 0 ? r : node_run(ctx, interval_ms, once, false);
}
