/* AVB 2.0 descriptors (docs/avb.md, "Descriptors"). */
#include "descriptor.h"

#include "avb_internal.h"
#include "../common/error.h"

#include <stdio.h>
#include <string.h>

/* Every descriptor is a multiple of 8 bytes long so that the next one
 * starts aligned; the padding is zero. */
static uint64_t pad8(uint64_t n)
{
	return (8 - (n & 7)) & 7;
}

/* Appends tag and length for a descriptor whose fixed part is fixed bytes
 * (tag and length included) followed by payload bytes; *pad is the zero
 * padding the caller appends last. */
static int desc_begin(struct rombsr_buf *out, uint64_t tag, size_t fixed, uint64_t payload, uint64_t *pad,
	const char *what)
{
	uint64_t body;

	if (!avb_add(fixed - ROMBSR_AVB_DESC_HEADER_SIZE, payload, &body) || body > UINT64_MAX - 8)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: payload too large", what);
	*pad = pad8(body);
	avb_put64(out, tag);
	avb_put64(out, body + *pad);
	return 0;
}

static int desc_end(struct rombsr_buf *out, uint64_t pad, const char *what)
{
	char name[64];

	avb_put_zeros(out, (size_t)pad);
	snprintf(name, sizeof(name), "avb %s descriptor", what); /* a label for a message only */
	return rombsr_buf_check(out, name);
}

static int len32(size_t n, const char *field, const char *what)
{
	if (n > UINT32_MAX)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: %s longer than 4 GiB", what, field);
	return 0;
}

static int put_hash_alg(struct rombsr_buf *out, const char *alg, const char *what)
{
	size_t n = strnlen(alg, ROMBSR_AVB_HASH_ALG_SIZE);

	if (n == ROMBSR_AVB_HASH_ALG_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: hash algorithm name longer than %d characters",
			what, ROMBSR_AVB_HASH_ALG_SIZE - 1);
	rombsr_buf_append(out, alg, n);
	avb_put_zeros(out, ROMBSR_AVB_HASH_ALG_SIZE - n);
	return 0;
}

static void put_bytes(struct rombsr_buf *out, const struct rombsr_avb_bytes *b)
{
	if (b->len > 0)
		rombsr_buf_append(out, b->data, b->len);
}

/* Checks the frame of one whole descriptor of len bytes: its tag, a
 * length field that matches len, and room for the fixed part. */
static int desc_open(const unsigned char *p, size_t len, uint64_t tag, size_t fixed, const char *what)
{
	if (len < fixed)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: truncated (%zu bytes, at least %zu needed)",
			what, len, fixed);
	if (len % 8 != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: size %zu is not a multiple of 8", what, len);
	if (avb_get64(p) != tag)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: wrong tag %llu", what,
			(unsigned long long)avb_get64(p));
	if (avb_get64(p + 8) != len - ROMBSR_AVB_DESC_HEADER_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: length field %llu does not match its %zu bytes",
			what, (unsigned long long)avb_get64(p + 8), len - ROMBSR_AVB_DESC_HEADER_SIZE);
	return 0;
}

/* The payload after the fixed part is used bytes long: what follows must
 * be the zero padding to 8 bytes, nothing more. */
static int desc_close(const unsigned char *p, size_t len, size_t fixed, uint64_t used, const char *what)
{
	size_t room = len - fixed;

	if (used > room)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: lengths add up past its end", what);
	if (room - used >= 8)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: %zu bytes after its payload", what,
			(size_t)(room - used));
	if (!avb_all_zero(p + fixed + used, (size_t)(room - used)))
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: padding is not zero", what);
	return 0;
}

static int get_hash_alg(const unsigned char *f, char *alg, const char *what)
{
	const unsigned char *nul = memchr(f, 0, ROMBSR_AVB_HASH_ALG_SIZE);

	if (nul == NULL)
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: hash algorithm name is not NUL-terminated", what);
	if (!avb_all_zero(nul, ROMBSR_AVB_HASH_ALG_SIZE - (size_t)(nul - f)))
		return rombsr_error(ROMBSR_EINVAL, "avb %s descriptor: bytes after the hash algorithm name", what);
	memcpy(alg, f, ROMBSR_AVB_HASH_ALG_SIZE);
	return 0;
}

/* Hands out consecutive slices of a payload whose lengths desc_close()
 * has already checked. */
static struct rombsr_avb_bytes take(const unsigned char **at, uint64_t n)
{
	struct rombsr_avb_bytes b = { *at, (size_t)n };

	*at += n;
	return b;
}

int rombsr_avb_property_encode(const struct rombsr_avb_property *d, struct rombsr_buf *out)
{
	uint64_t payload, pad;
	int r;

	/* Key and value each carry a NUL so a reader may use them as strings. */
	if (d->key.len > UINT64_MAX / 4 || d->value.len > UINT64_MAX / 4)
		return rombsr_error(ROMBSR_EINVAL, "avb property descriptor: too large");
	payload = (uint64_t)d->key.len + 1 + d->value.len + 1;
	r = desc_begin(out, ROMBSR_AVB_TAG_PROPERTY, ROMBSR_AVB_PROPERTY_SIZE, payload, &pad, "property");
	if (r < 0)
		return r;
	avb_put64(out, d->key.len);
	avb_put64(out, d->value.len);
	put_bytes(out, &d->key);
	avb_put_zeros(out, 1);
	put_bytes(out, &d->value);
	avb_put_zeros(out, 1);
	return desc_end(out, pad, "property");
}

int rombsr_avb_property_decode(const unsigned char *p, size_t len, struct rombsr_avb_property *d)
{
	const unsigned char *at = p + ROMBSR_AVB_PROPERTY_SIZE;
	uint64_t klen, vlen, used;
	int r = desc_open(p, len, ROMBSR_AVB_TAG_PROPERTY, ROMBSR_AVB_PROPERTY_SIZE, "property");

	if (r < 0)
		return r;
	klen = avb_get64(p + 16);
	vlen = avb_get64(p + 24);
	if (klen >= len || vlen >= len) /* also keeps the sum below from overflowing */
		return rombsr_error(ROMBSR_EINVAL, "avb property descriptor: key or value length past its end");
	used = klen + 1 + vlen + 1;
	r = desc_close(p, len, ROMBSR_AVB_PROPERTY_SIZE, used, "property");
	if (r < 0)
		return r;
	if (at[klen] != 0 || at[klen + 1 + vlen] != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb property descriptor: key or value not NUL-terminated");
	d->key = take(&at, klen);
	at++;
	d->value = take(&at, vlen);
	return 0;
}

int rombsr_avb_hashtree_encode(const struct rombsr_avb_hashtree *d, struct rombsr_buf *out)
{
	uint64_t pad;
	int r = len32(d->partition_name.len, "partition name", "hashtree");

	if (r == 0)
		r = len32(d->salt.len, "salt", "hashtree");
	if (r == 0)
		r = len32(d->root_digest.len, "root digest", "hashtree");
	if (r == 0)
		r = desc_begin(out, ROMBSR_AVB_TAG_HASHTREE, ROMBSR_AVB_HASHTREE_SIZE,
			(uint64_t)d->partition_name.len + d->salt.len + d->root_digest.len, &pad, "hashtree");
	if (r < 0)
		return r;
	avb_put32(out, d->dm_verity_version);
	avb_put64(out, d->image_size);
	avb_put64(out, d->tree_offset);
	avb_put64(out, d->tree_size);
	avb_put32(out, d->data_block_size);
	avb_put32(out, d->hash_block_size);
	avb_put32(out, d->fec_num_roots);
	avb_put64(out, d->fec_offset);
	avb_put64(out, d->fec_size);
	r = put_hash_alg(out, d->hash_algorithm, "hashtree");
	if (r < 0)
		return r;
	avb_put32(out, (uint32_t)d->partition_name.len);
	avb_put32(out, (uint32_t)d->salt.len);
	avb_put32(out, (uint32_t)d->root_digest.len);
	avb_put32(out, d->flags);
	avb_put_zeros(out, 60);
	put_bytes(out, &d->partition_name);
	put_bytes(out, &d->salt);
	put_bytes(out, &d->root_digest);
	return desc_end(out, pad, "hashtree");
}

int rombsr_avb_hashtree_decode(const unsigned char *p, size_t len, struct rombsr_avb_hashtree *d)
{
	const unsigned char *at = p + ROMBSR_AVB_HASHTREE_SIZE;
	uint64_t nlen, slen, dlen;
	int r = desc_open(p, len, ROMBSR_AVB_TAG_HASHTREE, ROMBSR_AVB_HASHTREE_SIZE, "hashtree");

	if (r == 0)
		r = get_hash_alg(p + 72, d->hash_algorithm, "hashtree");
	if (r < 0)
		return r;
	nlen = avb_get32(p + 104);
	slen = avb_get32(p + 108);
	dlen = avb_get32(p + 112);
	if (!avb_all_zero(p + 120, 60))
		return rombsr_error(ROMBSR_EINVAL, "avb hashtree descriptor: reserved bytes are not zero");
	r = desc_close(p, len, ROMBSR_AVB_HASHTREE_SIZE, nlen + slen + dlen, "hashtree");
	if (r < 0)
		return r;
	d->dm_verity_version = avb_get32(p + 16);
	d->image_size = avb_get64(p + 20);
	d->tree_offset = avb_get64(p + 28);
	d->tree_size = avb_get64(p + 36);
	d->data_block_size = avb_get32(p + 44);
	d->hash_block_size = avb_get32(p + 48);
	d->fec_num_roots = avb_get32(p + 52);
	d->fec_offset = avb_get64(p + 56);
	d->fec_size = avb_get64(p + 64);
	d->flags = avb_get32(p + 116);
	d->partition_name = take(&at, nlen);
	d->salt = take(&at, slen);
	d->root_digest = take(&at, dlen);
	return 0;
}

int rombsr_avb_hash_encode(const struct rombsr_avb_hash *d, struct rombsr_buf *out)
{
	uint64_t pad;
	int r = len32(d->partition_name.len, "partition name", "hash");

	if (r == 0)
		r = len32(d->salt.len, "salt", "hash");
	if (r == 0)
		r = len32(d->digest.len, "digest", "hash");
	if (r == 0)
		r = desc_begin(out, ROMBSR_AVB_TAG_HASH, ROMBSR_AVB_HASH_SIZE,
			(uint64_t)d->partition_name.len + d->salt.len + d->digest.len, &pad, "hash");
	if (r < 0)
		return r;
	avb_put64(out, d->image_size);
	r = put_hash_alg(out, d->hash_algorithm, "hash");
	if (r < 0)
		return r;
	avb_put32(out, (uint32_t)d->partition_name.len);
	avb_put32(out, (uint32_t)d->salt.len);
	avb_put32(out, (uint32_t)d->digest.len);
	avb_put32(out, d->flags);
	avb_put_zeros(out, 60);
	put_bytes(out, &d->partition_name);
	put_bytes(out, &d->salt);
	put_bytes(out, &d->digest);
	return desc_end(out, pad, "hash");
}

int rombsr_avb_hash_decode(const unsigned char *p, size_t len, struct rombsr_avb_hash *d)
{
	const unsigned char *at = p + ROMBSR_AVB_HASH_SIZE;
	uint64_t nlen, slen, dlen;
	int r = desc_open(p, len, ROMBSR_AVB_TAG_HASH, ROMBSR_AVB_HASH_SIZE, "hash");

	if (r == 0)
		r = get_hash_alg(p + 24, d->hash_algorithm, "hash");
	if (r < 0)
		return r;
	nlen = avb_get32(p + 56);
	slen = avb_get32(p + 60);
	dlen = avb_get32(p + 64);
	if (!avb_all_zero(p + 72, 60))
		return rombsr_error(ROMBSR_EINVAL, "avb hash descriptor: reserved bytes are not zero");
	r = desc_close(p, len, ROMBSR_AVB_HASH_SIZE, nlen + slen + dlen, "hash");
	if (r < 0)
		return r;
	d->image_size = avb_get64(p + 16);
	d->flags = avb_get32(p + 68);
	d->partition_name = take(&at, nlen);
	d->salt = take(&at, slen);
	d->digest = take(&at, dlen);
	return 0;
}

int rombsr_avb_kernel_cmdline_encode(const struct rombsr_avb_kernel_cmdline *d, struct rombsr_buf *out)
{
	uint64_t pad;
	int r = len32(d->cmdline.len, "command line", "kernel cmdline");

	if (r == 0)
		r = desc_begin(out, ROMBSR_AVB_TAG_KERNEL_CMDLINE, ROMBSR_AVB_KERNEL_CMDLINE_SIZE, d->cmdline.len,
			&pad, "kernel cmdline");
	if (r < 0)
		return r;
	avb_put32(out, d->flags);
	avb_put32(out, (uint32_t)d->cmdline.len);
	put_bytes(out, &d->cmdline);
	return desc_end(out, pad, "kernel cmdline");
}

int rombsr_avb_kernel_cmdline_decode(const unsigned char *p, size_t len, struct rombsr_avb_kernel_cmdline *d)
{
	const unsigned char *at = p + ROMBSR_AVB_KERNEL_CMDLINE_SIZE;
	int r = desc_open(p, len, ROMBSR_AVB_TAG_KERNEL_CMDLINE, ROMBSR_AVB_KERNEL_CMDLINE_SIZE, "kernel cmdline");

	if (r == 0)
		r = desc_close(p, len, ROMBSR_AVB_KERNEL_CMDLINE_SIZE, avb_get32(p + 20), "kernel cmdline");
	if (r < 0)
		return r;
	d->flags = avb_get32(p + 16);
	d->cmdline = take(&at, avb_get32(p + 20));
	return 0;
}

int rombsr_avb_chain_partition_encode(const struct rombsr_avb_chain_partition *d, struct rombsr_buf *out)
{
	uint64_t pad;
	int r = len32(d->partition_name.len, "partition name", "chain partition");

	if (r == 0)
		r = len32(d->public_key.len, "public key", "chain partition");
	if (r == 0)
		r = desc_begin(out, ROMBSR_AVB_TAG_CHAIN_PARTITION, ROMBSR_AVB_CHAIN_PARTITION_SIZE,
			(uint64_t)d->partition_name.len + d->public_key.len, &pad, "chain partition");
	if (r < 0)
		return r;
	avb_put32(out, d->rollback_index_location);
	avb_put32(out, (uint32_t)d->partition_name.len);
	avb_put32(out, (uint32_t)d->public_key.len);
	avb_put32(out, d->flags);
	avb_put_zeros(out, 60);
	put_bytes(out, &d->partition_name);
	put_bytes(out, &d->public_key);
	return desc_end(out, pad, "chain partition");
}

int rombsr_avb_chain_partition_decode(const unsigned char *p, size_t len, struct rombsr_avb_chain_partition *d)
{
	const unsigned char *at = p + ROMBSR_AVB_CHAIN_PARTITION_SIZE;
	uint64_t nlen, klen;
	int r = desc_open(p, len, ROMBSR_AVB_TAG_CHAIN_PARTITION, ROMBSR_AVB_CHAIN_PARTITION_SIZE, "chain partition");

	if (r < 0)
		return r;
	nlen = avb_get32(p + 20);
	klen = avb_get32(p + 24);
	if (!avb_all_zero(p + 32, 60))
		return rombsr_error(ROMBSR_EINVAL, "avb chain partition descriptor: reserved bytes are not zero");
	r = desc_close(p, len, ROMBSR_AVB_CHAIN_PARTITION_SIZE, nlen + klen, "chain partition");
	if (r < 0)
		return r;
	d->rollback_index_location = avb_get32(p + 16);
	d->flags = avb_get32(p + 28);
	d->partition_name = take(&at, nlen);
	d->public_key = take(&at, klen);
	return 0;
}

int rombsr_avb_descriptor_encode(const struct rombsr_avb_descriptor *d, struct rombsr_buf *out)
{
	switch (d->tag) {
	case ROMBSR_AVB_TAG_PROPERTY:
		return rombsr_avb_property_encode(&d->u.property, out);
	case ROMBSR_AVB_TAG_HASHTREE:
		return rombsr_avb_hashtree_encode(&d->u.hashtree, out);
	case ROMBSR_AVB_TAG_HASH:
		return rombsr_avb_hash_encode(&d->u.hash, out);
	case ROMBSR_AVB_TAG_KERNEL_CMDLINE:
		return rombsr_avb_kernel_cmdline_encode(&d->u.cmdline, out);
	case ROMBSR_AVB_TAG_CHAIN_PARTITION:
		return rombsr_avb_chain_partition_encode(&d->u.chain, out);
	}
	if (d->u.opaque.len % 8 != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb descriptor with tag %llu: size %zu is not a multiple of 8",
			(unsigned long long)d->tag, d->u.opaque.len);
	avb_put64(out, d->tag);
	avb_put64(out, d->u.opaque.len);
	put_bytes(out, &d->u.opaque);
	return rombsr_buf_check(out, "avb descriptor");
}

int rombsr_avb_descriptor_next(const unsigned char *area, size_t len, size_t *offset,
	struct rombsr_avb_descriptor *d)
{
	const unsigned char *p;
	size_t left;
	uint64_t following;
	int r = 0;

	if (*offset > len)
		return rombsr_error(ROMBSR_EINTERNAL, "avb descriptor: offset past the descriptors");
	if (*offset == len)
		return 0;
	p = area + *offset;
	left = len - *offset;
	if (left < ROMBSR_AVB_DESC_HEADER_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "avb descriptor at offset %zu: truncated header (%zu bytes)",
			*offset, left);
	following = avb_get64(p + 8);
	if (following % 8 != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb descriptor at offset %zu: size %llu is not a multiple of 8",
			*offset, (unsigned long long)following);
	if (following > left - ROMBSR_AVB_DESC_HEADER_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "avb descriptor at offset %zu: %llu bytes past the end of the descriptors",
			*offset, (unsigned long long)following);
	left = ROMBSR_AVB_DESC_HEADER_SIZE + (size_t)following;
	d->tag = avb_get64(p);
	switch (d->tag) {
	case ROMBSR_AVB_TAG_PROPERTY:
		r = rombsr_avb_property_decode(p, left, &d->u.property);
		break;
	case ROMBSR_AVB_TAG_HASHTREE:
		r = rombsr_avb_hashtree_decode(p, left, &d->u.hashtree);
		break;
	case ROMBSR_AVB_TAG_HASH:
		r = rombsr_avb_hash_decode(p, left, &d->u.hash);
		break;
	case ROMBSR_AVB_TAG_KERNEL_CMDLINE:
		r = rombsr_avb_kernel_cmdline_decode(p, left, &d->u.cmdline);
		break;
	case ROMBSR_AVB_TAG_CHAIN_PARTITION:
		r = rombsr_avb_chain_partition_decode(p, left, &d->u.chain);
		break;
	default:
		d->u.opaque.data = p + ROMBSR_AVB_DESC_HEADER_SIZE;
		d->u.opaque.len = (size_t)following;
	}
	if (r < 0)
		return rombsr_error_wrap(r, "avb descriptor at offset %zu", *offset);
	*offset += left;
	return 1;
}
