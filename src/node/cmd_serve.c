/* rombsr-sign serve: the sign node with the signing server (docs/server.md):
 * it answers the queue as `sign --daemon` does and, between passes, the
 * calls of build nodes over HTTPS, with the same keys, policy, quotas,
 * signers and audit log. Run one or the other: both hold the node's state. */
#include "daemon.h"
#include "node.h"

#include "../common/error.h"

enum { OPT_INTERVAL = 1 };

static const struct cli_option options[] = {
	{"interval-ms", "N", "how often the node looks for new requests in the queue (default 250)", OPT_INTERVAL},
	{NULL, NULL, NULL, 0},
};

int cmd_serve(struct cli_context *ctx, int argc, char **argv)
{
	unsigned long interval_ms = 250;
	struct cli_parser p;
	int id, r = 0;

	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, "[--interval-ms N]")) > 0)
		r = cli_parse_uint(p.value, 60000, &interval_ms, "--interval-ms");
	if (r == 0 && id < 0)
		r = id;
	if (r == 0 && p.index != argc)
		r = rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (r == 0 && interval_ms == 0)
		r = rombsr_error(ROMBSR_EINVAL, "--interval-ms must be at least 1");
	return r < 0 ? r : node_run(ctx, interval_ms, false, true);
}
