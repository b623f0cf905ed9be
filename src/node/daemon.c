/* The sign node's long-running loop (daemon.h). */
#include "daemon.h"

#include "../common/error.h"
#include "../sign/metrics.h"
#include "../sign/metrics_http.h"
#include "../sign/server.h"
#include "../sign/sign_log.h"
#include "../sign/worker.h"

#include <signal.h>
#include <string.h>

#define BACKOFF_MAX_MS 30000
/* The metrics snapshot is taken after a pass that answered or failed,
 * else at most this often: ages are computed at each scrape anyway. */
#define METRICS_REFRESH_SECONDS 2
/* How long the loop waits for a server call at a time: how soon it sees
 * a stop signal. */
#define WAKE_MS 100

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static double monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* Waits ms, answering the server's calls as they come (each batch is
 * decided, signed and logged before the next is taken). */
static void wait_ms(struct rombsr_sign_node *node, struct node_daemon *d, unsigned long ms)
{
	double until = monotonic_ms() + (double)ms;

	while (!stopping) {
		double left = until - monotonic_ms();
		unsigned step = left <= 0 ? 0 : left > WAKE_MS ? WAKE_MS : (unsigned)left;
		struct rombsr_server_call *calls;
		int r;

		if (left <= 0)
			return;
		if (d->server == NULL) {
			nanosleep(&(struct timespec){0, (long)step * 1000000L}, NULL);
			continue;
		}
		calls = rombsr_server_take(d->server, step);
		if (calls == NULL)
			continue;
		r = rombsr_sign_serve(node, d->server, calls);
		if (r < 0) {
			rombsr_sign_log(LOG_ERR, NULL, "rombsr serve: %s", rombsr_error_message(r));
			rombsr_error_clear();
		}
	}
}

static void refresh_metrics(struct rombsr_sign_node *node, struct node_daemon *d, bool now)
{
	struct rombsr_metrics_snapshot snap;
	struct timespec t;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (d->metrics == NULL || (!now && t.tv_sec - d->metrics_at.tv_sec < METRICS_REFRESH_SECONDS))
		return;
	d->metrics_at = t;
	r = rombsr_sign_node_metrics(node, &snap);
	if (r < 0) {
		/* The endpoint keeps the last snapshot; the next pass retries. */
		rombsr_sign_log(LOG_WARNING, NULL, "rombsr sign: metrics: %s", rombsr_error_message(r));
		rombsr_error_clear();
		return;
	}
	snap.started = d->started;
	if (d->server != NULL)
		snap.server_connections = rombsr_server_connections(d->server);
	snap.serving = d->server != NULL;
	rombsr_metrics_server_publish(d->metrics, &snap);
}

static void log_published(struct rombsr_sign_node *node, size_t answered)
{
	struct rombsr_sign_stats st;

	/* Totals since the start, for whoever measures the node
	 * (bench/rom-sign.sh): the signing phase's time is the HSM's share
	 * of a build's wait. */
	if (rombsr_sign_node_stats(node, &st) == 0)
		rombsr_sign_log(LOG_INFO, NULL,
				"rombsr sign: published %zu responses; since the start: %llu HSM operations, verify "
				"%.2fs, sign %.2fs, publish %.2fs",
				answered, (unsigned long long)st.hsm_operations, st.verify_seconds, st.sign_seconds,
				st.publish_seconds);
	else
		rombsr_sign_log(LOG_INFO, NULL, "rombsr sign: published %zu responses", answered);
}

/* After a pass the server admits the clients of the commit it verified,
 * and finishes what a crash left of its requests. */
static void after_pass(struct rombsr_sign_node *node, struct node_daemon *d, bool *recovered)
{
	int r;

	if (d->server == NULL)
		return;
	r = rombsr_sign_serve_clients(node, d->server);
	if (r == 0 && !*recovered)
		r = rombsr_sign_serve_recover(node);
	*recovered = *recovered || r == 0;
	if (r < 0) {
		rombsr_sign_log(LOG_ERR, NULL, "rombsr serve: %s", rombsr_error_message(r));
		rombsr_error_clear();
	}
}

/* Keeps going through queue outages: a failed pass waits longer each time
 * (up to 30 s), a good one resets to the normal interval. A security
 * failure stops the daemon: nothing after a bad commit is trusted; so does
 * a signer that ended, which only a new start of the node brings back. */
int node_daemon_run(struct rombsr_sign_node *node, struct node_daemon *d)
{
	unsigned long wait = d->interval_ms;
	bool recovered = false;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rombsr_sign_log(LOG_INFO, NULL, "rombsr sign: watching the queue every %lu ms", d->interval_ms);
	refresh_metrics(node, d, true);
	while (!stopping) {
		size_t answered;
		int r = rombsr_sign_node_check_signers(node);

		/* A signer gone for good: retrying could never sign again. */
		if (r < 0)
			return r;
		r = rombsr_sign_pass(node, &answered);
		if (r == ROMBSR_ESECURITY)
			return r;
		refresh_metrics(node, d, r < 0 || answered > 0);
		if (r < 0) {
			rombsr_sign_log(LOG_ERR, NULL, "rombsr sign: %s (retrying in %lu ms)", rombsr_error_message(r), wait);
			rombsr_error_clear();
			wait_ms(node, d, wait);
			wait = wait * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait * 2;
			continue;
		}
		if (answered > 0)
			log_published(node, answered);
		after_pass(node, d, &recovered);
		wait = d->interval_ms;
		wait_ms(node, d, d->interval_ms);
	}
	rombsr_sign_log(LOG_INFO, NULL, "rombsr sign: stopping");
	return 0;
}
