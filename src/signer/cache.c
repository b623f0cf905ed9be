#include "cache.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_LINE_MAX (2 * 32 + 1 + 2 * ROMBSR_CAP_SIG_MAX + 2)

struct slot {
	unsigned char id[32];
	uint16_t sig_len;
	unsigned char *sig;   /* NULL: empty slot */
};

struct rombsr_sign_cache {
	int fd;
	struct slot *slots;
	size_t nslots, used;
};

/* What identifies an operation: all of it, hashed. */
void rombsr_sign_cache_op_id(const struct rombsr_cap_op *op, unsigned char id[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char fields[4 * 8];
	uint64_t v[4] = {op->mech->type, op->pss.hash, op->pss.mgf, op->pss.salt_len};

	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 8; b++)
			fields[i * 8 + b] = (unsigned char)(v[i] >> (56 - 8 * b));
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, "rombsr-sign-cache-v1", 20) != 1 ||
	    EVP_DigestUpdate(ctx, op->spki_sha256, 64) != 1 || EVP_DigestUpdate(ctx, fields, sizeof(fields)) != 1 ||
	    EVP_DigestUpdate(ctx, op->tbs, op->tbs_len) != 1 || EVP_DigestFinal_ex(ctx, id, NULL) != 1)
		memset(id, 0, 32); /* never matches a stored entry: no answer from the cache */
	EVP_MD_CTX_free(ctx);
}

static struct slot *find(struct rombsr_sign_cache *c, const unsigned char id[32])
{
	size_t i = ((size_t)id[0] << 24 | (size_t)id[1] << 16 | (size_t)id[2] << 8 | id[3]) % c->nslots;

	while (c->slots[i].sig != NULL && memcmp(c->slots[i].id, id, 32) != 0)
		i = (i + 1) % c->nslots;
	return &c->slots[i];
}

static int grow(struct rombsr_sign_cache *c)
{
	struct slot *old = c->slots;
	size_t old_n = c->nslots;

	c->nslots = old_n ? old_n * 2 : 1024;
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	if (c->slots == NULL) {
		c->slots = old;
		c->nslots = old_n;
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < old_n; i++)
		if (old[i].sig != NULL)
			*find(c, old[i].id) = old[i];
	free(old);
	return 0;
}

static int insert(struct rombsr_sign_cache *c, const unsigned char id[32], const unsigned char *sig, size_t len)
{
	struct slot *s;
	int r;

	if ((c->used + 1) * 2 > c->nslots && (r = grow(c)) < 0)
		return r;
	s = find(c, id);
	if (s->sig != NULL)
		return 0;
	s->sig = malloc(len);
	if (s->sig == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	memcpy(s->id, id, 32);
	memcpy(s->sig, sig, len);
	s->sig_len = (uint16_t)len;
	c->used++;
	return 0;
}

/* Reads every complete line; returns the offset after the last one, where
 * the file is cut so the next entry starts on a fresh line. */
static int load(struct rombsr_sign_cache *c, const char *path, off_t *good_end)
{
	FILE *f = fdopen(dup(c->fd), "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t pos = 0;
	int r = 0, line_no = 0;

	*good_end = 0;
	if (f == NULL)
		return rombsr_error(ROMBSR_EIO, "cannot read %s", path);
	while (r == 0 && (n = getline(&line, &cap, f)) > 0) {
		unsigned char id[32], sig[ROMBSR_CAP_SIG_MAX];
		char *space = strchr(line, ' ');
		size_t sig_hex;

		line_no++;
		if (line[n - 1] != '\n')
			break; /* torn by a crash: never handed out */
		line[n - 1] = '\0';
		sig_hex = space ? strlen(space + 1) : 0;
		if (space == NULL || space - line != 64 || sig_hex == 0 || sig_hex % 2 != 0 ||
		    sig_hex / 2 > sizeof(sig)) {
			r = rombsr_error(ROMBSR_EINVAL, "%s:%d: not a cache entry", path, line_no);
			break;
		}
		*space = '\0';
		r = rombsr_hex_decode(line, id, 32, path);
		if (r == 0)
			r = rombsr_hex_decode(space + 1, sig, sig_hex / 2, path);
		if (r == 0)
			r = insert(c, id, sig, sig_hex / 2);
		pos += n;
	}
	free(line);
	fclose(f);
	*good_end = pos;
	return r;
}

int rombsr_sign_cache_open(const char *path, struct rombsr_sign_cache **out)
{
	struct rombsr_sign_cache *c = calloc(1, sizeof(*c));
	off_t good_end;
	int r;

	*out = NULL;
	if (c == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	c->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		free(c);
		return rombsr_error(ROMBSR_EIO, "cannot open the signing cache %s: %s", path, strerror(errno));
	}
	r = grow(c);
	if (r == 0)
		r = load(c, path, &good_end);
	if (r == 0 && ftruncate(c->fd, good_end) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot repair %s: %s", path, strerror(errno));
	if (r < 0) {
		rombsr_sign_cache_close(c);
		return r;
	}
	*out = c;
	return 0;
}

void rombsr_sign_cache_close(struct rombsr_sign_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nslots; i++)
		free(c->slots[i].sig);
	free(c->slots);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

bool rombsr_sign_cache_get(struct rombsr_sign_cache *c, const struct rombsr_cap_op *op, unsigned char *sig,
			   size_t *sig_len)
{
	unsigned char id[32];
	struct slot *s;

	rombsr_sign_cache_op_id(op, id);
	s = find(c, id);
	if (s->sig == NULL || s->sig_len > *sig_len)
		return false;
	memcpy(sig, s->sig, s->sig_len);
	*sig_len = s->sig_len;
	return true;
}

int rombsr_sign_cache_put(struct rombsr_sign_cache *c, const struct rombsr_cap_op *op, const unsigned char *sig,
			  size_t sig_len)
{
	char line[CACHE_LINE_MAX + 1];
	unsigned char id[32];
	size_t len;
	int r;

	if (sig_len == 0 || sig_len > ROMBSR_CAP_SIG_MAX)
		return rombsr_error(ROMBSR_EINVAL, "signature of %zu bytes", sig_len);
	rombsr_sign_cache_op_id(op, id);
	rombsr_hex_encode(id, 32, line);
	line[64] = ' ';
	rombsr_hex_encode(sig, sig_len, line + 65);
	len = 65 + 2 * sig_len;
	line[len++] = '\n';
	/* One write per entry: with O_APPEND a crash leaves at most a torn last
	 * line, which load() drops. */
	r = rombsr_append_whole(c->fd, line, len, "the signing cache");
	return r < 0 ? r : insert(c, id, sig, sig_len);
}

int rombsr_sign_cache_sync(struct rombsr_sign_cache *c)
{
	if (fdatasync(c->fd) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot sync the signing cache: %s", strerror(errno));
	return 0;
}

size_t rombsr_sign_cache_size(const struct rombsr_sign_cache *c)
{
	return c->used;
}
