#include "vbmeta_args.h"

#include "../avb/partition.h"
#include "../avb/pubkey_blob.h"
#include "../avb/vbmeta_sign.h"
#include "../common/error.h"
#include "../common/fsutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most descriptors one image gets; avbtool has no limit, but a vbmeta
 * image is at most 64 KiB and a descriptor at least 24 bytes. */
#define MAX_DESCRIPTORS 2731
/* Files kept alive while the descriptors point into them. */
#define MAX_HELD (VBMETA_MAX_REPEAT * 3)

static int add_repeat(const char **list, size_t *n, const char *value, const char *what)
{
	if (*n == VBMETA_MAX_REPEAT)
		return rombsr_error(ROMBSR_EINVAL, "more than %d --%s", VBMETA_MAX_REPEAT, what);
	list[(*n)++] = value;
	return 0;
}

int vbmeta_take_option(struct cli_context *ctx, struct vbmeta_args *args, int id, const char *value)
{
	unsigned long v;
	int r = artifact_take_key_option(ctx, &args->key, id, value);

	if (r != 0)
		return r;
	switch (id) {
	case VBMETA_OPT_ALGORITHM:
		args->algorithm = value;
		return 1;
	case VBMETA_OPT_ROLLBACK_INDEX:
		r = cli_parse_uint(value, ULONG_MAX, &v,
				   "--rollback-index");
		args->rollback_index = v;
		return r < 0 ? r : 1;
	case VBMETA_OPT_ROLLBACK_LOCATION:
		r = cli_parse_uint(value, UINT32_MAX, &v, "--rollback-index-location");
		args->rollback_index_location = (uint32_t)v;
		return r < 0 ? r : 1;
	case VBMETA_OPT_FLAGS:
		r = cli_parse_uint(value, UINT32_MAX, &v, "--flags");
		args->flags = (uint32_t)v;
		return r < 0 ? r : 1;
	case VBMETA_OPT_RELEASE:
		args->release_string = value;
		return 1;
	case VBMETA_OPT_PROP:
		r = add_repeat(args->props, &args->nprops, value, "prop");
		return r < 0 ? r : 1;
	case VBMETA_OPT_CMDLINE:
		r = add_repeat(args->cmdlines, &args->ncmdlines, value, "kernel-cmdline");
		return r < 0 ? r : 1;
	case VBMETA_OPT_CHAIN:
		r = add_repeat(args->chains, &args->nchains, value, "chain-partition");
		return r < 0 ? r : 1;
	case VBMETA_OPT_INCLUDE:
		r = add_repeat(args->includes, &args->nincludes, value, "include-descriptors-from-image");
		return r < 0 ? r : 1;
	default:
		return 0;
	}
}

/* An included descriptor that names a partition, kept apart: avbtool
 * keeps the last one of each kind and partition and adds them sorted by
 * that key, after everything else. */
struct named {
	char key[300]; /* "<avbtool's class name>_<partition>" */
	struct rombsr_avb_descriptor d;
};

/* Descriptors and the memory they point into. */
struct descriptor_set {
	struct rombsr_avb_descriptor d[MAX_DESCRIPTORS];
	size_t n;
	struct named named[MAX_DESCRIPTORS];
	size_t nnamed;
	struct rombsr_buf held[MAX_HELD];
	size_t nheld;
	uint32_t version_minor; /* the highest an included image needs */
};

static int push(struct descriptor_set *set, const struct rombsr_avb_descriptor *d)
{
	if (set->n == MAX_DESCRIPTORS)
		return rombsr_error(ROMBSR_EINVAL, "avb: more than %d descriptors", MAX_DESCRIPTORS);
	set->d[set->n++] = *d;
	return 0;
}

static struct rombsr_buf *hold(struct descriptor_set *set)
{
	return set->nheld < MAX_HELD ? &set->held[set->nheld++] : NULL;
}

static int add_props(struct descriptor_set *set, const struct vbmeta_args *args)
{
	for (size_t i = 0; i < args->nprops; i++) {
		const char *colon = strchr(args->props[i], ':');
		struct rombsr_avb_descriptor d = {.tag = ROMBSR_AVB_TAG_PROPERTY};

		if (colon == NULL || colon == args->props[i])
			return rombsr_error(ROMBSR_EINVAL, "--prop '%s': KEY:VALUE with a non-empty key", args->props[i]);
		d.u.property.key = (struct rombsr_avb_bytes){(const unsigned char *)args->props[i],
							     (size_t)(colon - args->props[i])};
		d.u.property.value = (struct rombsr_avb_bytes){(const unsigned char *)colon + 1, strlen(colon + 1)};
		int r = push(set, &d);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < args->ncmdlines; i++) {
		struct rombsr_avb_descriptor d = {.tag = ROMBSR_AVB_TAG_KERNEL_CMDLINE};

		d.u.cmdline.cmdline = (struct rombsr_avb_bytes){(const unsigned char *)args->cmdlines[i],
								strlen(args->cmdlines[i])};
		int r = push(set, &d);
		if (r < 0)
			return r;
	}
	return 0;
}

/* NAME:LOCATION:FILE, the file an AVB public key blob. */
static int add_chain(struct descriptor_set *set, const char *spec)
{
	struct rombsr_avb_descriptor d = {.tag = ROMBSR_AVB_TAG_CHAIN_PARTITION};
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	struct rombsr_buf *blob = hold(set);
	char location[16];
	unsigned long loc;
	EVP_PKEY *key = NULL;
	int r;

	if (c1 == NULL || c2 == NULL || c1 == spec || c2 == c1 + 1 || (size_t)(c2 - c1 - 1) >= sizeof(location) ||
	    c2[1] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "--chain-partition '%s': NAME:LOCATION:KEY_BLOB_FILE", spec);
	if (blob == NULL)
		return rombsr_error(ROMBSR_EINVAL, "too many files");
	memcpy(location, c1 + 1, (size_t)(c2 - c1 - 1));
	location[c2 - c1 - 1] = '\0';
	r = cli_parse_uint(location, UINT32_MAX, &loc, "--chain-partition location");
	if (r < 0)
		return r;
	if (loc == 0)
		return rombsr_error(ROMBSR_EINVAL, "--chain-partition '%s': location 0 is the top vbmeta's own", spec);
	r = rombsr_file_read(c2 + 1, 8192, blob);
	if (r == 0)
		r = rombsr_avb_pubkey_parse(blob->data, blob->len, &key);
	EVP_PKEY_free(key);
	if (r < 0)
		return rombsr_error_wrap(r, "--chain-partition %.*s", (int)(c1 - spec), spec);
	d.u.chain.rollback_index_location = (uint32_t)loc;
	d.u.chain.partition_name = (struct rombsr_avb_bytes){(const unsigned char *)spec, (size_t)(c1 - spec)};
	d.u.chain.public_key = (struct rombsr_avb_bytes){blob->data, blob->len};
	return push(set, &d);
}

static int keep_included(struct descriptor_set *set, const struct rombsr_avb_descriptor *d)
{
	const struct rombsr_avb_bytes *name;
	const char *kind;
	char key[sizeof(set->named[0].key)];

	if (d->tag == ROMBSR_AVB_TAG_HASH) {
		kind = "AvbHashDescriptor";
		name = &d->u.hash.partition_name;
	} else if (d->tag == ROMBSR_AVB_TAG_HASHTREE) {
		kind = "AvbHashtreeDescriptor";
		name = &d->u.hashtree.partition_name;
	} else if (d->tag == ROMBSR_AVB_TAG_CHAIN_PARTITION) {
		kind = "AvbChainPartitionDescriptor";
		name = &d->u.chain.partition_name;
	} else {
		return push(set, d);
	}
	if (snprintf(key, sizeof(key), "%s_%.*s", kind, (int)name->len, (const char *)name->data) >= (int)sizeof(key))
		return rombsr_error(ROMBSR_EINVAL, "avb: a partition name of %zu bytes", name->len);
	for (size_t i = 0; i < set->nnamed; i++)
		if (strcmp(set->named[i].key, key) == 0) {
			set->named[i].d = *d; /* the last one seen wins */
			return 0;
		}
	if (set->nnamed == MAX_DESCRIPTORS)
		return rombsr_error(ROMBSR_EINVAL, "avb: more than %d descriptors", MAX_DESCRIPTORS);
	memcpy(set->named[set->nnamed].key, key, sizeof(key));
	set->named[set->nnamed++].d = *d;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->key, ((const struct named *)b)->key);
}

/* The descriptors of a vbmeta image file, or of the vbmeta a partition's
 * footer points at. */
static int add_included(struct descriptor_set *set, const char *path)
{
	struct rombsr_avb_partition part;
	struct rombsr_buf *image = hold(set);
	struct rombsr_avb_image img;
	size_t offset = 0;
	int r;

	if (image == NULL)
		return rombsr_error(ROMBSR_EINVAL, "too many files");
	r = rombsr_avb_partition_open(path, false, &part);
	if (r < 0)
		return r;
	if (part.has_footer)
		r = rombsr_avb_partition_read_vbmeta(&part, image);
	else
		r = rombsr_file_read(path, ROMBSR_AVB_MAX_VBMETA_SIZE * 16, image);
	rombsr_avb_partition_close(&part);
	if (r == 0)
		r = rombsr_avb_image_parse(image->data, image->len, &img);
	if (r == 0 && img.h.version_minor > set->version_minor)
		set->version_minor = img.h.version_minor;
	while (r == 0 && offset < img.descriptors.len) {
		struct rombsr_avb_descriptor d;

		r = rombsr_avb_descriptor_next(img.descriptors.data, img.descriptors.len, &offset, &d);
		if (r > 0)
			r = keep_included(set, &d);
	}
	return r < 0 ? rombsr_error_wrap(r, "--include-descriptors-from-image %s", path) : 0;
}

struct p11_signer {
	struct rombsr_p11_key *key;
};

static int p11_sign(void *ctx, const struct rombsr_avb_algorithm_info *alg, const unsigned char *tbs, size_t len,
		    struct rombsr_buf *sig)
{
	struct p11_signer *s = ctx;
	CK_MECHANISM_TYPE mech = strcmp(alg->digest, "SHA512") == 0 ? CKM_SHA512_RSA_PKCS : CKM_SHA256_RSA_PKCS;

	/* The module hashes: the capture module then sees (and records the
	 * digest of) exactly the header and auxiliary block. */
	return rombsr_p11_key_sign(s->key, mech, tbs, len, sig);
}

static int choose_algorithm(const struct vbmeta_args *args, EVP_PKEY *pub, uint32_t *out)
{
	const struct rombsr_avb_algorithm_info *alg;
	char name[32];
	int r;

	if (args->algorithm == NULL && pub == NULL) {
		*out = ROMBSR_AVB_NONE;
		return 0;
	}
	if (args->algorithm == NULL)
		snprintf(name, sizeof(name), "SHA256_RSA%d", EVP_PKEY_get_bits(pub));
	r = rombsr_avb_algorithm_by_name(args->algorithm ? args->algorithm : name, &alg);
	if (r < 0)
		return r;
	if (alg->signature_size != 0 && pub == NULL)
		return rombsr_error(ROMBSR_EINVAL, "--algorithm %s needs --key", alg->name);
	if (alg->signature_size == 0 && pub != NULL)
		return rombsr_error(ROMBSR_EINVAL, "--algorithm NONE takes no --key");
	*out = alg->type;
	return 0;
}

static int collect(struct descriptor_set *set, const struct vbmeta_args *args,
		   const struct rombsr_avb_descriptor *first, size_t nfirst)
{
	int r = 0;

	/* avbtool's order, so that the same options make the same image:
	 * the footer's own descriptor, chain partitions, properties, kernel
	 * command lines, then what the included images hold. */
	for (size_t i = 0; r == 0 && i < nfirst; i++)
		r = push(set, &first[i]);
	for (size_t i = 0; r == 0 && i < args->nchains; i++)
		r = add_chain(set, args->chains[i]);
	for (size_t i = 0; r == 0 && i < set->n; i++)
		for (size_t j = 0; r == 0 && j < i; j++)
			if (set->d[i].tag == ROMBSR_AVB_TAG_CHAIN_PARTITION && set->d[j].tag == ROMBSR_AVB_TAG_CHAIN_PARTITION &&
			    set->d[i].u.chain.rollback_index_location == set->d[j].u.chain.rollback_index_location)
				r = rombsr_error(ROMBSR_EINVAL, "--chain-partition: rollback index location %u used twice",
						 set->d[i].u.chain.rollback_index_location);
	if (r == 0)
		r = add_props(set, args);
	for (size_t i = 0; r == 0 && i < args->nincludes; i++)
		r = add_included(set, args->includes[i]);
	if (r == 0)
		qsort(set->named, set->nnamed, sizeof(set->named[0]), by_key);
	for (size_t i = 0; r == 0 && i < set->nnamed; i++)
		r = push(set, &set->named[i].d);
	return r;
}

int vbmeta_build(const struct cli_context *ctx, const struct vbmeta_args *args,
		 const struct rombsr_avb_descriptor *first, size_t nfirst, struct rombsr_buf *out)
{
	struct descriptor_set *set = calloc(1, sizeof(*set));
	struct p11_signer s = {NULL};
	struct rombsr_avb_signer signer = {.sign = p11_sign, .ctx = &s};
	struct rombsr_avb_image_spec spec = {
		.rollback_index = args->rollback_index,
		.rollback_index_location = args->rollback_index_location,
		.flags = args->flags,
		.release_string = args->release_string,
		/* Rollback index locations came with libavb 1.2. */
		.version_minor = args->rollback_index_location != 0 ? 2 : 0,
	};
	int r;

	rombsr_buf_init(out, ROMBSR_AVB_MAX_VBMETA_SIZE);
	if (set == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = collect(set, args, first, nfirst);
	if (r == 0 && args->key.uri != NULL) {
		r = artifact_open_key(ctx, &args->key, &s.key);
		if (r == 0)
			r = rombsr_p11_key_public(s.key, &signer.public_key);
		signer.check = r == 0 && !rombsr_p11_key_answers_placeholders(s.key);
	}
	if (r == 0)
		r = choose_algorithm(args, signer.public_key, &spec.algorithm);
	if (set->version_minor > spec.version_minor)
		spec.version_minor = set->version_minor;
	if (r == 0) {
		spec.descriptors = set->d;
		spec.ndescriptors = set->n;
		r = rombsr_avb_image_build_signed(&spec, s.key ? &signer : NULL, out);
	}
	EVP_PKEY_free(signer.public_key);
	rombsr_p11_key_close(s.key);
	for (size_t i = 0; i < set->nheld; i++)
		rombsr_buf_free(&set->held[i]);
	free(set);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}
