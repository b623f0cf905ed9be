/* rombsr sign: the sign node. --once answers what is pending and exits (for
 * manual or air-gapped use); --daemon keeps watching the queue (what the
 * rombsr-sign service runs). Both run the same worker and signers. */
#include "node.h"

#include "../common/error.h"
#include "../sign/metrics_http.h"
#include "../sign/sign_log.h"
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
/* The metrics snapshot is taken after a pass that answered or failed,
 * else at most this often: ages are computed at each scrape anyway. */
#define METRICS_REFRESH_SECONDS 2

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

/* The daemon's metrics endpoint (docs/metrics.md), when configured. */
struct daemon_metrics {
	struct rombsr_metrics_server *server;
	time_t started;
	struct timespec last;
};

static void refresh_metrics(struct rombsr_sign_node *node, struct daemon_metrics *m, bool now)
{
	struct rombsr_metrics_snapshot snap;
	struct timespec t;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (m->server == NULL || (!now && t.tv_sec - m->last.tv_sec < METRICS_REFRESH_SECONDS))
		return;
	m->last = t;
	r = rombsr_sign_node_metrics(node, &snap);
	if (r < 0) {
		/* The endpoint keeps the last snapshot; the next pass retries. */
		rombsr_sign_log(LOG_WARNING, NULL, "rombsr sign: metrics: %s", rombsr_error_message(r));
		rombsr_error_clear();
		return;
	}
	snap.started = m->started;
	rombsr_metrics_server_publish(m->server, &snap);
}

/* Keeps going through queue outages: a failed pass waits longer each time
 * (up to 30 s), a good one resets to the normal interval. A security
 * failure stops the daemon: nothing after a bad commit is trusted; so does
 * a signer that ended, which only a new start of the node brings back. */
static int run_daemon(struct rombsr_sign_node *node, unsigned long interval_ms, struct daemon_metrics *m)
{
	unsigned long wait_ms = interval_ms;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rombsr_sign_log(LOG_INFO, NULL, "rombsr sign: watching the queue every %lu ms", interval_ms);
	refresh_metrics(node, m, true);
	while (!stopping) {
		size_t answered;
		int r = rombsr_sign_node_check_signers(node);

		/* A signer gone for good: retrying could never sign again. */
		if (r < 0)
			return r;
		r = rombsr_sign_pass(node, &answered);
		if (r == ROMBSR_ESECURITY)
			return r;
		refresh_metrics(node, m, r < 0 || answered > 0);
		if (r < 0) {
			rombsr_sign_log(LOG_ERR, NULL, "rombsr sign: %s (retrying in %lu ms)", rombsr_error_message(r),
					wait_ms);
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
				rombsr_sign_log(LOG_INFO, NULL,
						"rombsr sign: published %zu responses; since the start: %llu HSM "
						"operations, verify %.2fs, sign %.2fs, publish %.2fs",
						answered, (unsigned long long)st.hsm_operations, st.verify_seconds,
						st.sign_seconds, st.publish_seconds);
			else
				rombsr_sign_log(LOG_INFO, NULL, "rombsr sign: published %zu responses", answered);
		}
		wait_ms = interval_ms;
		sleep_ms(interval_ms);
	}
	rombsr_sign_log(LOG_INFO, NULL, "rombsr sign: stopping");
	return 0;
}

int cmd_sign(struct cli_context *ctx, int argc, char **argv)
{
	const struct rombsr_config *cfg;
	struct rombsr_sign_node *node = NULL;
	struct daemon_metrics m = {.started = time(NULL)};
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
	/* Bound before the worker is confined and changes user, served after
	 * (metrics_http.h); --once serves none, but a bad value still fails. */
	if (r == 0 && cfg->metrics_listen != NULL && daemon)
		r = rombsr_metrics_server_bind(cfg->metrics_listen, &m.server);
	else if (r == 0 && cfg->metrics_listen != NULL)
		r = rombsr_metrics_listen_parse(cfg->metrics_listen, &(struct sockaddr_storage){0}, &(socklen_t){0});
	/* A service so started gives a compromised worker the PIN files. */
	if (r == 0 && daemon && geteuid() == 0 && cfg->worker_user == NULL)
		rombsr_sign_log(LOG_WARNING, NULL, "rombsr sign: running as root without sign.user and "
				"sign.signer-user: the worker and the signers share one user (for a trial only; see "
				"docs/sign-node.md)");
	if (r == 0)
		r = rombsr_sign_node_open(cfg, &node);
	if (r == 0 && m.server != NULL) {
		char bound[80];

		r = rombsr_metrics_server_start(m.server, bound, sizeof(bound));
		if (r == 0)
			rombsr_sign_log(LOG_INFO, NULL, "rombsr sign: metrics on http://%s/metrics", bound);
	}
	if (r == 0 && once) {
		r = rombsr_sign_pass(node, &answered);
		if (r == 0)
			print_summary(node, answered);
	} else if (r == 0) {
		r = run_daemon(node, interval_ms, &m);
	}
	/* The server's thread reads only its snapshot: it stops first. */
	rombsr_metrics_server_stop(m.server);
	rombsr_sign_node_close(node);
	return r;
}
