/* The sign node's users (docs/sign-node.md, "Privilege separation"): the
 * signers run as the signer user, the only one that can read the PIN
 * files; the worker, which parses everything the queue brings, runs as the
 * worker user and, where the kernel has Landlock, may write only its own
 * state folder, its queue clone and its GnuPG home. */
#ifndef ROMBSR_SIGN_PRIVSEP_H
#define ROMBSR_SIGN_PRIVSEP_H

#include <stdbool.h>
#include <sys/types.h>

struct rombsr_user {
	char name[64];
	uid_t uid;
	gid_t gid;
};

/* Looks a user up by name (its primary group is the one taken). */
int rombsr_user_lookup(const char *name, struct rombsr_user *out);

/* Becomes user for good: supplementary groups dropped, real, effective and
 * saved IDs set, every capability given up; then checks that the old IDs
 * cannot be taken back. For a forked child before exec, and for the
 * worker once its signers run. */
int rombsr_user_become(const struct rombsr_user *user);

/* Restricts this process and its children (gpg) with Landlock: reading
 * and executing the system folders, writing only the folders given (the
 * node's state folder, queue clone and GnuPG home). *applied is false when
 * the kernel has no Landlock (the node then runs without it and says so). */
int rombsr_landlock_restrict(const char *const *writable, size_t nwritable, const char *const *readable,
			    size_t nreadable, bool *applied);

#endif
