/* The unprivileged half of the sign node: fetches the queue, verifies every
 * new commit, validates each new request, asks the signers for exactly the
 * operations it allows, and publishes one response per request. It never
 * reads a PIN nor holds an HSM session.
 *
 * Exactly once: a response is written to the state folder before it is
 * committed, and reused (never re-signed) if publishing has to be retried
 * after a crash; a request that already has a response in the queue is
 * never answered again; and every signature the signers hand out was made
 * durable in their cache first (docs/sign-node.md). */
#ifndef ROMBSR_SIGN_WORKER_H
#define ROMBSR_SIGN_WORKER_H

#include "../common/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rombsr_sign_node;

struct rombsr_sign_stats {
	size_t requests_signed, requests_rejected, operations;
	uint64_t hsm_operations, cache_hits;
	uint64_t unwraps, evictions;
	double verify_seconds, sign_seconds, publish_seconds;
};

/* Starts one signer per authority whose token is reachable, then opens the
 * queue. Signers start first, before anything untrusted is read. */
int rombsr_sign_node_open(const struct rombsr_config *cfg, struct rombsr_sign_node **out);
void rombsr_sign_node_close(struct rombsr_sign_node *node);

/* One pass: answers every request that came in since the last pass.
 * *answered counts the responses published. */
int rombsr_sign_pass(struct rombsr_sign_node *node, size_t *answered);
/* Totals since open, with HSM operations and cache hits from the signers. */
int rombsr_sign_node_stats(struct rombsr_sign_node *node, struct rombsr_sign_stats *stats);

/* 0 while every signer the node started still runs; else ROMBSR_EHSM
 * naming the one that ended. The worker cannot start a signer again (it
 * gave up the right to switch users), so a daemon ends then and its
 * service starts the whole node again. */
int rombsr_sign_node_check_signers(struct rombsr_sign_node *node);

/* Everything the metrics show (metrics.h), taken now; the caller frees it
 * with rombsr_metrics_snapshot_free(). Between passes only: it asks each
 * signer for its figures over the channel (node_metrics.c). */
struct rombsr_metrics_snapshot;
int rombsr_sign_node_metrics(struct rombsr_sign_node *node, struct rombsr_metrics_snapshot *out);



/* The signing server (server.h, serve.c); between passes only. */
struct rombsr_server;
struct rombsr_server_call;
/* Gives the server the clients list at the last commit the node verified,
 * when that commit changed since the last call. */
int rombsr_sign_serve_clients(struct rombsr_sign_node *node, struct rombsr_server *server);
/* Decides, signs, logs and answers calls (a list, taken from the server). */
int rombsr_sign_serve(struct rombsr_sign_node *node, struct rombsr_server *server, struct rombsr_server_call *calls);
/* Finishes what a crash or a failed HSM left of the server's requests:
 * each one decided is signed as decided (from the signing cache) and
 * logged; one not decided yet was never signed and is dropped. */
int rombsr_sign_serve_recover(struct rombsr_sign_node *node);
#endif
