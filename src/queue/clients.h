/* The signing server's clients list, version 1 (docs/formats/clients.md):
 * which TLS client certificates may call `rombsr-sign serve`, and the
 * build node each one speaks for. It lives in the queue at
 * policy/clients.json, so only a pinned admin changes it (like the policy)
 * and a request made over HTTPS is judged as one from that build node:
 * the same policy, quotas and hard rules as a queued request. */
#ifndef ROMBSR_QUEUE_CLIENTS_H
#define ROMBSR_QUEUE_CLIENTS_H

#include "repo.h"

#include <stddef.h>

#define ROMBSR_CLIENTS_PATH "policy/clients.json"
#define ROMBSR_CLIENTS_FORMAT "rombsr.clients"
#define ROMBSR_CLIENTS_VERSION 1
#define ROMBSR_CLIENTS_MAX 1024
#define ROMBSR_CLIENTS_MAX_BYTES (1u << 20)
#define ROMBSR_CLIENT_NAME_MAX 64

struct rombsr_client {
	char name[ROMBSR_CLIENT_NAME_MAX + 1];  /* letters, digits, '.', '_', '-' */
	char certificate_sha256[65];          /* of the certificate's DER, lower-case hex */
	char build_node[41];                  /* OpenPGP fingerprint, upper-case hex */
};

struct rombsr_clients {
	struct rombsr_client *list;
	size_t n;
};

/* Strict: unknown or missing fields, a bad name, digest or fingerprint, a
 * certificate or a name listed twice are refused with the JSON path. */
int rombsr_clients_parse(const char *text, size_t len, struct rombsr_clients *out);
/* The list at commit; a queue without the file has no clients (n = 0). */
int rombsr_clients_at(struct rombsr_repo *repo, const git_oid *commit, struct rombsr_clients *out);
/* The client holding the certificate whose DER hashes to sha256_hex, or NULL. */
const struct rombsr_client *rombsr_clients_find(const struct rombsr_clients *c, const char *sha256_hex);
void rombsr_clients_free(struct rombsr_clients *c);

#endif
