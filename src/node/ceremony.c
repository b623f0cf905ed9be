/* The wrap key's host memory during a ceremony (ceremony.h). */
#define _GNU_SOURCE
#include "ceremony.h"

#include "../common/error.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int ceremony_harden(void)
{
	struct rlimit none = {0, 0};

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return rombsr_error(ROMBSR_EPERM, "cannot make the process non-dumpable: %s", strerror(errno));
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return rombsr_error(ROMBSR_EPERM, "the process is still dumpable");
	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return rombsr_error(ROMBSR_EPERM, "cannot turn core dumps off: %s", strerror(errno));
	return 0;
}

int ceremony_vault_init(struct ceremony_vault *v, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	memset(v, 0, sizeof(*v));
	if (page <= 0)
		return rombsr_error(ROMBSR_EINTERNAL, "no page size");
	size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return rombsr_error(ROMBSR_ENOMEM, "cannot map the ceremony's memory: %s", strerror(errno));
	/* Both before a secret is written: a page swapped out or dumped once
	 * keeps the secret on a disk for good. */
	if (madvise(p, size, MADV_DONTDUMP) != 0) {
		munmap(p, size);
		return rombsr_error(ROMBSR_EPERM, "cannot exclude the ceremony's memory from core dumps: %s",
				    strerror(errno));
	}
	/* The system call itself: AddressSanitizer's mlock() interceptor
	 * returns 0 without locking anything. */
	if (syscall(SYS_mlock, p, size) != 0) {
		int e = errno;

		munmap(p, size);
		return rombsr_error(ROMBSR_EPERM, "cannot lock the ceremony's memory (%s): raise RLIMIT_MEMLOCK",
				    strerror(e));
	}
	v->base = p;
	v->size = size;
	return 0;
}

void *ceremony_vault_take(struct ceremony_vault *v, size_t size)
{
	size_t aligned = (size + 15) & ~(size_t)15;
	void *p;

	if (v->base == NULL || aligned < size || aligned > v->size - v->used)
		return NULL;
	p = v->base + v->used;
	v->used += aligned;
	return p;
}

void ceremony_vault_free(struct ceremony_vault *v)
{
	if (v->base == NULL)
		return;
	OPENSSL_cleanse(v->base, v->size);
	syscall(SYS_munlock, v->base, v->size);
	munmap(v->base, v->size);
	memset(v, 0, sizeof(*v));
}

void ceremony_test_hold(const char *command)
{
	const char *path = getenv("ROMBSR_TEST_CEREMONY_HOLD");
	struct timespec tick = {0, 20 * 1000 * 1000};

	if (path == NULL || path[0] == '\0')
		return;
	fprintf(stderr, "rombsr-sign %s: test hold: pid %ld holds the key, dumpable %d\n", command, (long)getpid(),
		prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	fflush(stderr);
	for (int i = 0; i < 1500 && access(path, F_OK) != 0; i++)
		nanosleep(&tick, NULL);
}
