/* The signer (program rombsr-signer): one process per authority, the only
 * one that opens a PKCS#11 module holding real keys, reads that authority's
 * PIN and holds its HSM session. The worker execs it with one descriptor,
 * its channel; it answers the worker's typed requests (channel.h) and
 * nothing else. */
#ifndef ROMBSR_SIGNER_SIGNER_H
#define ROMBSR_SIGNER_SIGNER_H

#include "../common/config.h"

/* Opens a's token, logs in, loads the signing cache (or, for the audit
 * authority, the record of the last checkpoint signed) at state_path,
 * sends the hello reply (its status, and the token's label) and serves on
 * fd until the worker hangs up. */
int rombsr_signer_serve(const struct rombsr_authority_config *a, const char *state_path, int fd);

#endif
