/* The sign node's long-running loop, shared by `sign --daemon` and
 * `serve`: a pass over the queue every interval, with the metrics endpoint
 * and, for serve, the signing server's calls answered in between. */
#ifndef ROMBSR_NODE_DAEMON_H
#define ROMBSR_NODE_DAEMON_H

#include <stdbool.h>
#include <time.h>

struct rombsr_sign_node;
struct rombsr_metrics_server;
struct rombsr_server;

struct node_daemon {
	unsigned long interval_ms;
	struct rombsr_metrics_server *metrics; /* NULL: none */
	struct rombsr_server *server;          /* NULL: none (sign --daemon) */
	time_t started;
	struct timespec metrics_at;
};

/* What `sign` and `serve` run: the configuration, the endpoints bound
 * before the worker changes user, the node, then one pass (once) or the
 * loop; serve adds the signing server (docs/server.md). */
struct cli_context;
int node_run(struct cli_context *ctx, unsigned long interval_ms, bool once, bool serve);

/* Runs until SIGTERM or SIGINT (0), a security failure, or a signer that
 * ended (its error). */
int node_daemon_run(struct rombsr_sign_node *node, struct node_daemon *d);

#endif
