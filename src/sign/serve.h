/* The signing server's calls, decided on the worker's main thread
 * (docs/server.md): each becomes a signing request in the queue's format,
 * judged by the same hard rules, policy and quotas as a queued one, signed
 * by the same signers, logged in the same audit log with a server-client
 * entry naming who asked, and answered with its place in the log. */
#ifndef ROMBSR_SIGN_SERVE_H
#define ROMBSR_SIGN_SERVE_H

#include "server.h"
#include "worker_internal.h"

#define ROMBSR_SERVE_PENDING_FORMAT "rombsr.server-pending"

/* The request a call asks for, with a new ID, as canonical text. */
int rombsr_serve_request_text(const struct rombsr_sign_node *node, const struct rombsr_server_call *call,
			      char id[ROMBSR_REQUEST_ID_LEN + 1], struct rombsr_buf *out);

/* <state>/sign/server.pending: each call and its request, recorded
 * before its decision; emptied once every call in hand is logged. */
#define ROMBSR_SERVE_PENDING_FILE "server.pending"
/* Appends a record (not durable until rombsr_serve_pending_sync()). */
int rombsr_serve_pending_add(struct rombsr_sign_node *node, const struct rombsr_server_call *call, const char *id,
			     const struct rombsr_buf *request);
int rombsr_serve_pending_sync(struct rombsr_sign_node *node);
/* Empties the file, durably. */
int rombsr_serve_pending_clear(struct rombsr_sign_node *node);
/* Calls fn for each record, in order, with the audit log's size when the
 * file was started; a torn last line is left out. */
typedef int (*rombsr_serve_record_fn)(struct rombsr_sign_node *node, uint64_t log_from, const char *id,
				      const struct rombsr_server_call *call, const struct rombsr_buf *request, void *ctx);
int rombsr_serve_pending_read(struct rombsr_sign_node *node, rombsr_serve_record_fn fn, void *ctx);

#endif
