/* `sign` and `serve`, once their options are read (daemon.h). */
#include "daemon.h"
#include "node.h"

#include "../common/error.h"
#include "../sign/metrics_http.h"
#include "../sign/server.h"
#include "../sign/sign_log.h"
#include "../sign/worker.h"

#include <stdio.h>
#include <unistd.h>

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

/* Bound before the worker is confined and changes user, served after
 * (metrics_http.h, server.h); --once serves none, but a bad value still
 * fails. */
static int bind_endpoints(const struct rombsr_config *cfg, bool once, bool serve, struct node_daemon *d)
{
	int r = 0;

	if (cfg->metrics_listen != NULL && !once)
		r = rombsr_metrics_server_bind(cfg->metrics_listen, &d->metrics);
	else if (cfg->metrics_listen != NULL)
		r = rombsr_metrics_listen_parse(cfg->metrics_listen, &(struct sockaddr_storage){0}, &(socklen_t){0});
	if (r == 0 && serve)
		r = rombsr_server_bind(cfg, &d->server);
	return r;
}

static int start_endpoints(struct node_daemon *d)
{
	char bound[80];
	int r = 0;

	if (d->metrics != NULL) {
		r = rombsr_metrics_server_start(d->metrics, bound, sizeof(bound));
		if (r == 0)
			rombsr_sign_log(LOG_INFO, NULL, "rombsr sign: metrics on http://%s/metrics", bound);
	}
	if (r == 0 && d->server != NULL) {
		r = rombsr_server_start(d->server, bound, sizeof(bound));
		if (r == 0)
			rombsr_sign_log(LOG_INFO, NULL, "rombsr serve: signing server on https://%s", bound);
	}
	return r;
}

int node_run(struct cli_context *ctx, unsigned long interval_ms, bool once, bool serve)
{
	const struct rombsr_config *cfg;
	struct rombsr_sign_node *node = NULL;
	struct node_daemon d = {.interval_ms = interval_ms, .started = time(NULL)};
	size_t answered = 0;
	int r = cli_config(ctx, &cfg);

	if (r == 0)
		r = bind_endpoints(cfg, once, serve, &d);
	/* A service so started gives a compromised worker the PIN files. */
	if (r == 0 && !once && geteuid() == 0 && cfg->worker_user == NULL)
		rombsr_sign_log(LOG_WARNING, NULL, "rombsr sign: running as root without sign.user and "
				"sign.signer-user: the worker and the signers share one user (for a trial only; see "
				"docs/sign-node.md)");
	if (r == 0)
		r = rombsr_sign_node_open(cfg, &node);
	if (r == 0)
		r = start_endpoints(&d);
	if (r == 0 && once) {
		r = rombsr_sign_pass(node, &answered);
		if (r == 0)
			print_summary(node, answered);
	} else if (r == 0) {
		r = node_daemon_run(node, &d);
	}
	/* The servers' threads read only their snapshots and hand calls to
	 * this thread: they stop first (every call not answered gets 503). */
	rombsr_server_stop(d.server);
	rombsr_metrics_server_stop(d.metrics);
	rombsr_sign_node_close(node);
	return r;
}
