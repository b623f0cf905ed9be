/* The privileged half of the sign node: one process per authority, the only
 * one that reads that authority's PIN and holds its HSM session. It answers
 * the worker's typed requests on one socket and nothing else. */
#ifndef ROMBSR_SIGN_SIGNER_H
#define ROMBSR_SIGN_SIGNER_H

#include "../common/config.h"

#include <sys/types.h>

/* Forks a signer for authority a, speaking on the returned socket. The
 * child reads the PIN, logs in, loads the signing cache at cache_path and
 * serves until the socket closes. */
int rombsr_signer_start(const struct rombsr_authority_config *a, const char *cache_path, int *fd, pid_t *pid);

/* Closes the socket and waits for the signer to end. */
void rombsr_signer_stop(int fd, pid_t pid);

#endif
