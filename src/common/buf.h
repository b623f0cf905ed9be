/* A growable byte buffer with a size cap and a sticky failure flag: append
 * freely, check once (p11-kit's p11_buffer, OpenSSH's sshbuf). Every buffer
 * is wiped when freed, so one type serves for secrets and untrusted input. */
#ifndef ROMBSR_BUF_H
#define ROMBSR_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct rombsr_buf {
	unsigned char *data;
	size_t len;
	size_t alloc;
	size_t max;      /* appends past this fail (sticky) */
	bool failed;
	bool over_limit; /* failed because of max, not memory */
};

void rombsr_buf_init(struct rombsr_buf *b, size_t max);
/* Appends n bytes; on overflow of max or on allocation failure marks the
 * buffer failed and ignores this and every later append. */
void rombsr_buf_append(struct rombsr_buf *b, const void *data, size_t n);
void rombsr_buf_append_str(struct rombsr_buf *b, const char *s);
void rombsr_buf_printf(struct rombsr_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Makes data a NUL-terminated string (the NUL is not counted in len). */
const char *rombsr_buf_cstr(struct rombsr_buf *b);
/* 0, or ROMBSR_ENOMEM / ROMBSR_EINVAL (cap exceeded) with a message. */
int rombsr_buf_check(const struct rombsr_buf *b, const char *what);
/* Wipes and frees; accepts NULL and an already freed buffer. */
void rombsr_buf_free(struct rombsr_buf *b);

#endif
