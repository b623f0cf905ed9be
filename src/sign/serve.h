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

/* <state>/sign/server/<id>.json: the call and its request, saved before
 * the decision and removed once it is logged. */
int rombsr_serve_pending_path(const struct rombsr_sign_node *node, const char *id, char *out, size_t size);
int rombsr_serve_pending_save(const struct rombsr_sign_node *node, const struct rombsr_server_call *call,
			      const char *id, const struct rombsr_buf *request);
int rombsr_serve_pending_load(const char *path, struct rombsr_server_call *call, struct rombsr_buf *request);

#endif
