/* The signing server, rombsr-sign serve (docs/server.md): HTTPS with a
 * client certificate required, in the worker. libmicrohttpd's threads
 * authenticate the client against the clients list (clients.h), bound and
 * parse the input, and hand each call over here; the worker's main thread,
 * the only one that touches the queue, the audit log and the signers,
 * decides it as it decides a queued request (serve.c) and answers. So the
 * HTTP code never reaches a key, and the single-threaded worker stays so. */
#ifndef ROMBSR_SIGN_SERVER_H
#define ROMBSR_SIGN_SERVER_H

#include "../common/buf.h"
#include "../common/capture_format.h"
#include "../common/config.h"
#include "../queue/clients.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct rombsr_server;

/* POST /v1/sign: one digest, hashed by the client (docs/server.md). */
struct rombsr_server_sign_input {
	char key[65];
	char mechanism[65];
	unsigned char digest[ROMBSR_CAP_TBS_MAX];
	size_t digest_len;
	char product[129], build_id[129], source_commit[65], build_type[16];
	bool have_artifact;
	char artifact_name[256];
	unsigned char artifact_sha256[32];
	uint64_t artifact_size;
};

/* One operation of an artifact route's capture round, with the program
 * that asked for it (the journal's). */
struct rombsr_server_op {
	struct rombsr_cap_op op;
	char program[256];
};

struct rombsr_server_call {
	const char *route;                  /* "/v1/sign", "/sign/modules", ... */
	struct rombsr_client client;         /* who, from the clients list */
	char clients_commit[65];            /* the queue commit that list was read at */
	/* /v1/sign: the digest, key and mechanism; artifact routes: the key,
	 * the build and the uploaded artifact only, and their round's
	 * operations in ops (nops > 0), one request for them all. */
	struct rombsr_server_sign_input in;
	const struct rombsr_server_op *ops;
	size_t nops;
	/* Artifact routes, when signed: every operation's signature, in ops'
	 * order (malloc'd, the caller frees). */
	struct rombsr_cap_signature *sigs;
	size_t nsigs;
	/* The answer, set by the main thread before rombsr_server_answer(). */
	unsigned status;                    /* HTTP status */
	struct rombsr_buf reply;            /* JSON */
	/* Owned by server_http.c. */
	bool answered;
	pthread_cond_t done;  /* its own: an answer wakes one connection, not all */
	struct rombsr_server_call *next;
};

/* Reads the TLS files and binds server.listen: before the worker changes
 * user and is confined (the key file stays the operator's). */
int rombsr_server_bind(const struct rombsr_config *cfg, struct rombsr_server **out);
/* Starts answering; bound gets "address:port" as bound. */
int rombsr_server_start(struct rombsr_server *s, char *bound, size_t size);
/* Answers every call not answered yet with 503, then stops. */
void rombsr_server_stop(struct rombsr_server *s);

/* The clients list the server admits from now on (taken over), read at
 * the queue commit commit_hex. Until the first, every call is refused. */
void rombsr_server_set_clients(struct rombsr_server *s, struct rombsr_clients *clients, const char *commit_hex);
/* Waits up to wait_ms for calls (returns at once if some are waiting, or
 * when stop is set by a signal handler: it polls) and takes them all, oldest first. */
struct rombsr_server_call *rombsr_server_take(struct rombsr_server *s, unsigned wait_ms);
/* Hands call's answer back to its connection; call is not used after. */
void rombsr_server_answer(struct rombsr_server *s, struct rombsr_server_call *call);
/* Connections open now (the metrics' server connections). */
unsigned rombsr_server_connections(struct rombsr_server *s);

/* A JSON error body: {"error": {"code": code, "message": message}}. */
void rombsr_server_error_body(struct rombsr_buf *out, const char *code, const char *message);

#endif
