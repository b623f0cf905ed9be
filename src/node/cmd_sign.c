/* rombsr sign: the sign node. --once answers what is pending and exits (for
 * manual or air-gapped use); --daemon keeps watching the queue (what the
 * rombsr-sign service runs). Both run the same worker and signers. */
#include "node.h"

#include "../common/error.h"
#include "../sign/worker.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

enum { OPT_ONCE = 1, OPT_DAEMON, OPT_INTERVAL };

static const struct cli_option options[] = {
	{"once", NULL, "answer every pending request, then exit", OPT_ONCE},
	{"daemon", NULL, "keep answering requests as they come", OPT_DAEMON},
	{"interval-ms", "N", "how often the daemon looks for new requests (default 250)", OPT_INTERVAL},
	{NULL, NULL, NULL, 0},
};

#define BACKOFF_MAX_MS 30000

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void sleep_ms(unsigned long ms)
{
	while (ms > 0 && !stopping) {
		unsigned long step = ms > 100 ? 100 : ms;

		nanosleep(&(struct timespec){0, (long)step * 1000000L}, NULL);
		ms -= step;
	}
}

static void print_summary(struct rombsr_sign_node *node, size_t answered)
{
	struct rombsr_sign_stats st;

	if (rombsr_sign_node_stats(node, &st) < 0)
		return;
	printf("sign: %zu responses published (%zu signed, %zu rejected), %zu operations, %llu HSM operations, "
	       "%llu from the signing cache; verify %.2fs, sign %.2fs, publish %.2fs\n",
	       answered, st.requests_signed, st.requests_rejected, st.operations, (unsigned long long)st.hsm_operations,
	       (unsigned long long)st.cache_hits, st.verify_seconds, st.sign_seconds, st.publish_seconds);
	if (st.unwraps > 0)
		printf("sign: %llu keys unwrapped from the wrapped store, %llu evicted\n", (unsigned long long)st.unwraps,
		       (unsigned long long)st.evictions);
}

/* Keeps going through queue outages: a failed pass waits longer each time
 * (up to 30 s), a good one resets to the normal interval. A security
 * failure stops the daemon: nothing after a bad commit is trusted; so does
 * a signer that ended, which only a new start of the node brings back. */
static int run_daemon(struct rombsr_sign_node *node, unsigned long interval_ms)
{
	unsigned long wait_ms = interval_ms;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "rombsr sign: watching the queue every %lu ms\n", interval_ms);
	while (!stopping) {
		size_t answered;
		int r = rombsr_sign_node_check_signers(node);

		/* A signer gone for good: retrying could never sign again. */
		if (r < 0)
			return r;
		r = rombsr_sign_pass(node, &answered);
		if (r == ROMBSR_ESECURITY)
			return r;
		if (r < 0) {
			fprintf(stderr, "rombsr sign: %s (retrying in %lu ms)\n", rombsr_error_message(r), wait_ms);
			sleep_ms(wait_ms);
			wait_ms = wait_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait_ms * 2;
			continue;
		}
		if (answered > 0) {
			struct rombsr_sign_stats st;

			/* Totals since the start, for whoever measures the node
			 * (bench/rom-sign.sh): the signing phase's time is the
			 * HSM's share of a build's wait. */
			if (rombsr_sign_node_stats(node, &st) == 0)
				fprintf(stderr, "rombsr sign: published %zu responses; since the start: %llu HSM operations, "
						"verify %.2fs, sign %.2fs, publish %.2fs\n", answered,
					(unsigned long long)st.hsm_operations, st.verify_seconds, st.sign_seconds,
					st.publish_seconds);
			else
				fprintf(stderr, "rombsr sign: published %zu responses\n", answered);
		}
		wait_ms = interval_ms;
		sleep_ms(interval_ms);
	}
	fprintf(stderr, "rombsr sign: stopping\n");
	return 0;
}

int cmd_sign(struct cli_context *ctx, int argc, char **argv)
{
	const struct rombsr_config *cfg;
	struct rombsr_sign_node *node = NULL;
	unsigned long interval_ms = 250;
	bool once = false, daemon = false;
	struct cli_parser p;
	size_t answered = 0;
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
	if (r == 0)
		r = cli_config(ctx, &cfg);
	/* A service so started gives a compromised worker the PIN files. */
	if (r == 0 && daemon && geteuid() == 0 && cfg->worker_user == NULL)
		fprintf(stderr, "rombsr sign: running as root without sign.user and sign.signer-user: the worker and "
				"the signers share one user (for a trial only; see docs/sign-node.md)\n");
	if (r == 0)
		r = rombsr_sign_node_open(cfg, &node);
	if (r == 0 && once) {
		r = rombsr_sign_pass(node, &answered);
		if (r == 0)
			print_summary(node, answered);
	} else if (r == 0) {
		r = run_daemon(node, interval_ms);
	}
	rombsr_sign_node_close(node);
	return r;
}
