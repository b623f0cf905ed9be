/* Share format v1 and the libgfshare calls (share.h). */
#define _GNU_SOURCE
#include "share.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <libgfshare.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_MAGIC "rombsr-wrap-key-share v1"
#define CHECK_DOMAIN "rombsr wrap-key check v1"

static int sha256_parts(const void *a, size_t a_len, const void *b, size_t b_len, const void *c, size_t c_len,
			unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(md, a, a_len) == 1 && EVP_DigestUpdate(md, b, b_len) == 1 &&
		 EVP_DigestUpdate(md, c, c_len) == 1 && EVP_DigestFinal_ex(md, out, NULL) == 1;

	EVP_MD_CTX_free(md);
	return ok ? 0 : rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 failed");
}

int share_check_value(const unsigned char id[SHARE_ID_LEN], const unsigned char secret[SHARE_SECRET_LEN],
		      unsigned char out[32])
{
	/* The NUL of the domain string is hashed too: it ends the domain. */
	return sha256_parts(CHECK_DOMAIN, sizeof(CHECK_DOMAIN), id, SHARE_ID_LEN, secret, SHARE_SECRET_LEN, out);
}

/* libgfshare draws the polynomial's coefficients through this pointer; its
 * default is NULL (and its offered fallback is random()). A void callback
 * cannot fail, so a failure is remembered and the split thrown away. */
static bool rand_failed;

static void fill_rand(unsigned char *buf, unsigned int n)
{
	if (RAND_priv_bytes(buf, (int)n) != 1)
		rand_failed = true;
}

int share_split(const unsigned char secret[SHARE_SECRET_LEN], const unsigned char id[SHARE_ID_LEN],
		unsigned threshold, unsigned count, struct wrap_share *out)
{
	unsigned char numbers[SHARE_MAX];
	unsigned char copy[SHARE_SECRET_LEN];
	unsigned char check[32];
	gfshare_ctx *ctx;
	int r;

	if (threshold < 2 || threshold > count || count > SHARE_MAX)
		return rombsr_error(ROMBSR_EINVAL, "a split needs 2 <= threshold <= shares <= %d", SHARE_MAX);
	r = share_check_value(id, secret, check);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < count; i++)
		numbers[i] = (unsigned char)(i + 1);
	gfshare_fill_rand = fill_rand;
	rand_failed = false;
	ctx = gfshare_ctx_init_enc(numbers, count, (unsigned char)threshold, SHARE_SECRET_LEN);
	if (ctx == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "libgfshare: cannot start a split");
	/* libgfshare takes a non-const secret. */
	memcpy(copy, secret, sizeof(copy));
	gfshare_ctx_enc_setsecret(ctx, copy);
	OPENSSL_cleanse(copy, sizeof(copy));
	for (unsigned i = 0; i < count; i++) {
		memcpy(out[i].secret_id, id, SHARE_ID_LEN);
		out[i].threshold = threshold;
		out[i].count = count;
		out[i].index = i + 1;
		memcpy(out[i].check, check, sizeof(check));
		gfshare_ctx_enc_getshare(ctx, (unsigned char)i, out[i].y);
	}
	gfshare_ctx_free(ctx);
	if (rand_failed) {
		OPENSSL_cleanse(out, count * sizeof(*out));
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "no random bytes for the split");
	}
	return 0;
}

int share_format(const struct wrap_share *s, char *out, size_t *len)
{
	char id[2 * SHARE_ID_LEN + 1], check[65], y[2 * SHARE_SECRET_LEN + 1], integrity[65];
	unsigned char md[32];
	int n, m, r;

	rombsr_hex_encode(s->secret_id, SHARE_ID_LEN, id);
	rombsr_hex_encode(s->check, sizeof(s->check), check);
	rombsr_hex_encode(s->y, SHARE_SECRET_LEN, y);
	n = snprintf(out, SHARE_TEXT_MAX, SHARE_MAGIC "\nsecret-id %s\nthreshold %u\nshares %u\nindex %u\n"
		     "secret-check %s\nshare %s\n", id, s->threshold, s->count, s->index, check, y);
	OPENSSL_cleanse(y, sizeof(y));
	if (n < 0 || n >= SHARE_TEXT_MAX - 80)
		return rombsr_error(ROMBSR_EINTERNAL, "share text too long");
	r = sha256_parts(out, (size_t)n, "", 0, "", 0, md);
	if (r < 0)
		return r;
	rombsr_hex_encode(md, sizeof(md), integrity);
	m = snprintf(out + n, SHARE_TEXT_MAX - (size_t)n, "integrity %s\n", integrity);
	if (m < 0 || (size_t)m >= SHARE_TEXT_MAX - (size_t)n)
		return rombsr_error(ROMBSR_EINTERNAL, "share text too long");
	*len = (size_t)(n + m);
	return 0;
}

/* The next line must be "<key> <value>\n"; *value points into text and
 * ends at the newline, which becomes the end of the returned length. */
static int next_field(const char *name, const char **p, const char *end, const char *key, const char **value,
		      size_t *value_len)
{
	size_t klen = strlen(key);
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (nl == NULL || (size_t)(nl - *p) <= klen + 1 || memcmp(*p, key, klen) != 0 || (*p)[klen] != ' ')
		return rombsr_error(ROMBSR_EINVAL, "%s: not a wrap-key share (expected the line '%s …')", name, key);
	*value = *p + klen + 1;
	*value_len = (size_t)(nl - *value);
	*p = nl + 1;
	return 0;
}

static int field_hex(const char *name, const char **p, const char *end, const char *key, unsigned char *out,
		     size_t out_len)
{
	char hex[2 * 64 + 1];
	const char *v;
	size_t n;
	int r = next_field(name, p, end, key, &v, &n);

	if (r < 0)
		return r;
	if (n != 2 * out_len)
		return rombsr_error(ROMBSR_EINVAL, "%s: %s must be %zu hex digits", name, key, 2 * out_len);
	memcpy(hex, v, n);
	hex[n] = '\0';
	r = rombsr_hex_decode(hex, out, out_len, key);
	OPENSSL_cleanse(hex, sizeof(hex));
	return r < 0 ? rombsr_error_wrap(r, "%s", name) : 0;
}

static int field_uint(const char *name, const char **p, const char *end, const char *key, unsigned *out)
{
	const char *v;
	size_t n;
	unsigned value = 0;
	int r = next_field(name, p, end, key, &v, &n);

	if (r < 0)
		return r;
	/* Decimal without sign or leading zero, 1..255. */
	if (n == 0 || n > 3 || v[0] == '0')
		return rombsr_error(ROMBSR_EINVAL, "%s: bad %s", name, key);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return rombsr_error(ROMBSR_EINVAL, "%s: bad %s", name, key);
		value = value * 10 + (unsigned)(v[i] - '0');
	}
	if (value > SHARE_MAX)
		return rombsr_error(ROMBSR_EINVAL, "%s: %s over %d", name, key, SHARE_MAX);
	*out = value;
	return 0;
}

int share_parse(const char *name, const char *text, size_t len, struct wrap_share *s)
{
	const char *p = text, *end = text + len, *body_end;
	unsigned char want[32], have[32];
	int r;

	if (len < sizeof(SHARE_MAGIC) || memcmp(text, SHARE_MAGIC "\n", sizeof(SHARE_MAGIC)) != 0) {
		if (len >= 22 && memcmp(text, "rombsr-wrap-key-share ", 22) == 0)
			return rombsr_error(ROMBSR_EUNSUPPORTED, "%s: a wrap-key share of another version", name);
		return rombsr_error(ROMBSR_EINVAL, "%s: not a ROMbsr wrap-key share", name);
	}
	p += sizeof(SHARE_MAGIC);
	r = field_hex(name, &p, end, "secret-id", s->secret_id, SHARE_ID_LEN);
	if (r == 0)
		r = field_uint(name, &p, end, "threshold", &s->threshold);
	if (r == 0)
		r = field_uint(name, &p, end, "shares", &s->count);
	if (r == 0)
		r = field_uint(name, &p, end, "index", &s->index);
	if (r == 0)
		r = field_hex(name, &p, end, "secret-check", s->check, sizeof(s->check));
	if (r == 0)
		r = field_hex(name, &p, end, "share", s->y, SHARE_SECRET_LEN);
	body_end = p;
	if (r == 0)
		r = field_hex(name, &p, end, "integrity", want, sizeof(want));
	if (r == 0 && p != end)
		r = rombsr_error(ROMBSR_EINVAL, "%s: bytes after the integrity line", name);
	if (r == 0)
		r = sha256_parts(text, (size_t)(body_end - text), "", 0, "", 0, have);
	if (r == 0 && CRYPTO_memcmp(want, have, sizeof(want)) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "%s: the share is corrupt (its integrity check fails)", name);
	if (r == 0 && (s->threshold < 2 || s->threshold > s->count || s->index < 1 || s->index > s->count))
		r = rombsr_error(ROMBSR_EINVAL, "%s: threshold %u, %u shares and index %u do not fit together", name,
				 s->threshold, s->count, s->index);
	if (r < 0)
		OPENSSL_cleanse(s, sizeof(*s));
	return r;
}

/* Every share against the first: one split, each index once. */
static int check_set(const struct wrap_share *s, const char *const *names, size_t n)
{
	char a[2 * SHARE_ID_LEN + 1], b[2 * SHARE_ID_LEN + 1];

	for (size_t i = 1; i < n; i++) {
		if (memcmp(s[i].secret_id, s[0].secret_id, SHARE_ID_LEN) != 0) {
			rombsr_hex_encode(s[0].secret_id, SHARE_ID_LEN, a);
			rombsr_hex_encode(s[i].secret_id, SHARE_ID_LEN, b);
			return rombsr_error(ROMBSR_EINVAL, "%s is a share of secret %s, %s of secret %s: shares of two "
					    "different splits", names[i], b, names[0], a);
		}
		if (s[i].threshold != s[0].threshold || s[i].count != s[0].count ||
		    CRYPTO_memcmp(s[i].check, s[0].check, sizeof(s[0].check)) != 0)
			return rombsr_error(ROMBSR_ESECURITY, "%s and %s name the same secret but disagree on its "
					    "threshold, count or check value", names[0], names[i]);
		for (size_t j = 0; j < i; j++)
			if (s[i].index == s[j].index)
				return rombsr_error(ROMBSR_EINVAL, "%s and %s are the same share (index %u): each share "
						    "counts once", names[j], names[i], s[i].index);
	}
	if (n < s[0].threshold)
		return rombsr_error(ROMBSR_EINVAL, "%zu shares given (%s%s); this split needs %u", n, names[0],
				    n > 1 ? ", …" : "", s[0].threshold);
	return 0;
}

int share_combine(const struct wrap_share *shares, const char *const *names, size_t n,
		  unsigned char secret[SHARE_SECRET_LEN])
{
	unsigned char numbers[SHARE_MAX], y[SHARE_SECRET_LEN], check[32];
	gfshare_ctx *ctx;
	int r;

	if (n == 0)
		return rombsr_error(ROMBSR_EINVAL, "no share given");
	if (n > SHARE_MAX)
		return rombsr_error(ROMBSR_EINVAL, "more than %d shares given", SHARE_MAX);
	r = check_set(shares, names, n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		numbers[i] = (unsigned char)shares[i].index;
	/* gfshare_ctx_free() overwrites its buffers through this pointer. */
	gfshare_fill_rand = fill_rand;
	ctx = gfshare_ctx_init_dec(numbers, (unsigned)n, SHARE_SECRET_LEN);
	if (ctx == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "libgfshare: cannot start a combination");
	for (size_t i = 0; i < n; i++) {
		memcpy(y, shares[i].y, sizeof(y));
		gfshare_ctx_dec_giveshare(ctx, (unsigned char)i, y);
	}
	OPENSSL_cleanse(y, sizeof(y));
	gfshare_ctx_dec_extract(ctx, secret);
	gfshare_ctx_free(ctx);
	r = share_check_value(shares[0].secret_id, secret, check);
	if (r == 0 && CRYPTO_memcmp(check, shares[0].check, sizeof(check)) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "the shares (%s, …) do not combine to the secret they were split "
				 "from (check value mismatch): one of them is not what its custodian was given",
				 names[0]);
	if (r < 0)
		OPENSSL_cleanse(secret, SHARE_SECRET_LEN);
	return r;
}
