#ifndef ROMBSR_QUEUE_STALE_LOCKS_H
#define ROMBSR_QUEUE_STALE_LOCKS_H

#include <stddef.h>

/* Removes the lock files a killed git writer leaves in a bare repository
 * (any *.lock under refs/, packed-refs.lock, HEAD.lock, config.lock, shallow.lock):
 * libgit2, like git, never removes them, so every later fetch or push would
 * fail. Only for a repository no other process writes: the caller must hold
 * the lock that makes it the only user (the sign node holds its audit log's).
 * Prints each removal on stderr; *removed counts them. */
int rombsr_repo_clear_stale_locks(const char *gitdir, size_t *removed);

#endif
