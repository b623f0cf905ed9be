/* The host side of a wrap-key ceremony (docs/custody.md): the wrap key and
 * its shares exist in this process's memory only while the ceremony runs,
 * in pages that are locked (never swapped), left out of core dumps, in a
 * process that cannot be dumped or traced by its user, and wiped on every
 * path. */
#ifndef ROMBSR_NODE_CEREMONY_H
#define ROMBSR_NODE_CEREMONY_H

#include <stddef.h>

/* One anonymous mapping, mlock'ed and MADV_DONTDUMP, wiped and unmapped by
 * ceremony_vault_free(). */
struct ceremony_vault {
	unsigned char *base;
	size_t size;
	size_t used;
};

/* Makes the process non-dumpable (PR_SET_DUMPABLE 0, which also keeps
 * ptrace and /proc/PID/mem away from other processes of the same user) and
 * sets its core size limit to 0. */
int ceremony_harden(void);

int ceremony_vault_init(struct ceremony_vault *v, size_t size);
/* size bytes from the vault, zeroed, aligned for any type; NULL when full
 * (a bug: the vault is sized for the ceremony). */
void *ceremony_vault_take(struct ceremony_vault *v, size_t size);
/* OPENSSL_cleanse, munlock, munmap; accepts an unset vault. */
void ceremony_vault_free(struct ceremony_vault *v);

/* The test hook of docs/custody.md: with ROMBSR_TEST_CEREMONY_HOLD=PATH in
 * the environment, says on stderr that the key is held (with the pid and
 * the dumpable flag) and waits up to 30 s for PATH to exist. Holds no
 * secret: the environment variable names a file, never a value. */
void ceremony_test_hold(const char *command);

#endif
