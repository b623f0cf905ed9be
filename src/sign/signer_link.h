/* The worker's end of a signer: starts the program rombsr-signer for one
 * authority (src/signer/) and stops it. */
#ifndef ROMBSR_SIGN_SIGNER_LINK_H
#define ROMBSR_SIGN_SIGNER_LINK_H

#include "privsep.h"

#include "../common/config.h"

#include <sys/types.h>

/* Execs rombsr-signer (beside the running program) for authority a with
 * only its channel open, as user (NULL: this process's user), with a
 * cleared environment; waits for its hello, which names the token it
 * logged in to (token_label). state_path: its signing cache,
 * or the audit signer's record of the last checkpoint. */
int rombsr_signer_start(const struct rombsr_config *cfg, const struct rombsr_authority_config *a,
			const char *state_path, const struct rombsr_user *user, int *fd, pid_t *pid,
			char token_label[33]);

/* Closes the channel and waits for the signer to end. */
void rombsr_signer_stop(int fd, pid_t pid);

#endif
