#include "buf.h"

#include "error.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rombsr_buf_init(struct rombsr_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Grows to hold need bytes plus a terminating NUL. The old block is wiped
 * before it is released: it may have held a secret. */
static bool buf_reserve(struct rombsr_buf *b, size_t need)
{
	unsigned char *grown;
	size_t want;

	if (need > b->max || need == (size_t)-1) {
		b->over_limit = true;
		return false;
	}
	if (need + 1 <= b->alloc)
		return true;
	want = b->alloc ? b->alloc : 64;
	while (want < need + 1) {
		if (want > ((size_t)-1) / 2)
			return false;
		want *= 2;
	}
	grown = malloc(want);
	if (grown == NULL)
		return false;
	if (b->data != NULL) {
		memcpy(grown, b->data, b->len);
		OPENSSL_cleanse(b->data, b->alloc);
		free(b->data);
	}
	b->data = grown;
	b->alloc = want;
	return true;
}

void rombsr_buf_append(struct rombsr_buf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (n > ((size_t)-1) - b->len - 1 || !buf_reserve(b, b->len + n)) {
		b->failed = true;
		return;
	}
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void rombsr_buf_append_str(struct rombsr_buf *b, const char *s)
{
	rombsr_buf_append(b, s, strlen(s));
}

void rombsr_buf_printf(struct rombsr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, b->len + (size_t)n)) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *rombsr_buf_cstr(struct rombsr_buf *b)
{
	if (b->data == NULL) {
		if (!buf_reserve(b, 0)) {
			b->failed = true;
			return "";
		}
		/* Nothing was appended, so nothing wrote the terminator: an
		 * empty file read whole is an empty string, not fresh heap. */
		b->data[0] = '\0';
	}
	return b->failed ? "" : (const char *)b->data;
}

int rombsr_buf_check(const struct rombsr_buf *b, const char *what)
{
	if (!b->failed)
		return 0;
	if (b->over_limit)
		return rombsr_error(ROMBSR_EINVAL, "%s: larger than the limit of %zu bytes", what, b->max);
	return rombsr_error(ROMBSR_ENOMEM, "%s: out of memory", what);
}

void rombsr_buf_free(struct rombsr_buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		OPENSSL_cleanse(b->data, b->alloc);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->failed = false;
	b->over_limit = false;
}
