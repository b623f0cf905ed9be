#include "footer_args.h"

#include "../avb/hashtree.h"
#include "../common/error.h"
#include "../common/hex.h"

#include <limits.h>
#include <openssl/evp.h>
#include <string.h>

/* Domain separation of the two derivations (docs/avb.md, "Salt"). */
#define SALT_SEED_LABEL "rombsr-avb-salt-v1 seed"
#define SALT_CONTENT_LABEL "rombsr-avb-salt-v1 content"

int footer_take_option(struct cli_context *ctx, struct footer_args *args, int id, const char *value)
{
	unsigned long v;
	int r = vbmeta_take_option(ctx, &args->vbmeta, id, value);

	if (r != 0)
		return r;
	switch (id) {
	case FOOTER_OPT_IMAGE:
		args->image = value;
		return 1;
	case FOOTER_OPT_NAME:
		args->partition_name = value;
		return 1;
	case FOOTER_OPT_SIZE:
		r = cli_parse_uint(value, ULONG_MAX, &v, "--partition-size");
		args->partition_size = v;
		return r < 0 ? r : 1;
	case FOOTER_OPT_HASH:
		args->hash_algorithm = value;
		return 1;
	case FOOTER_OPT_SALT:
		args->salt_hex = value;
		return 1;
	case FOOTER_OPT_SALT_SEED:
		args->salt_seed = value;
		return 1;
	default:
		return 0;
	}
}

int footer_parse(struct cli_context *ctx, struct footer_args *args, const struct cli_option *options,
		 const char *usage, int argc, char **argv)
{
	struct cli_parser p;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, usage)) > 0)
		if ((r = footer_take_option(ctx, args, id, p.value)) < 0)
			return r;
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	return 0;
}

int footer_open(const struct footer_args *args, struct rombsr_avb_partition *part)
{
	if (args->image == NULL || args->partition_name == NULL || args->partition_size == 0)
		return rombsr_error(ROMBSR_EINVAL, "--image, --partition-name and --partition-size are required");
	if (args->partition_name[0] == '\0' || strlen(args->partition_name) > 255)
		return rombsr_error(ROMBSR_EINVAL, "--partition-name: 1 to 255 bytes");
	if (args->partition_size % FOOTER_BLOCK_SIZE != 0)
		return rombsr_error(ROMBSR_EINVAL, "--partition-size %llu is not a multiple of %d",
				    (unsigned long long)args->partition_size, FOOTER_BLOCK_SIZE);
	if (args->salt_hex != NULL && args->salt_seed != NULL)
		return rombsr_error(ROMBSR_EINVAL, "--salt and --salt-seed exclude each other");
	return rombsr_avb_partition_open(args->image, true, part);
}

static int digest_of(const char *hash, const void *parts[], const size_t lens[], size_t n, unsigned char *out,
		     size_t *out_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok = ctx != NULL && EVP_DigestInit_ex2(ctx, EVP_get_digestbyname(hash), NULL);

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], lens[i]);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	*out_len = len;
	return ok ? 0 : rombsr_error_openssl(ROMBSR_ECRYPTO, "avb: deriving the salt");
}

int footer_salt(const struct footer_args *args, struct rombsr_avb_partition *part, unsigned char salt[64],
		size_t *salt_len)
{
	const char *hash = args->hash_algorithm ? args->hash_algorithm : "sha256";
	unsigned char content[64];
	size_t content_len;
	int r;

	if (args->salt_hex != NULL) {
		size_t n = strlen(args->salt_hex);

		if (n % 2 != 0 || n > 128)
			return rombsr_error(ROMBSR_EINVAL, "--salt: an even number of hex digits, at most 64 bytes");
		*salt_len = n / 2;
		return rombsr_hex_decode(args->salt_hex, salt, *salt_len, "--salt");
	}
	if (args->salt_seed != NULL) {
		const void *parts[] = {SALT_SEED_LABEL, args->salt_seed, "", args->partition_name};
		const size_t lens[] = {sizeof(SALT_SEED_LABEL), strlen(args->salt_seed), 1,
				       strlen(args->partition_name)};

		return digest_of(hash, parts, lens, 4, salt, salt_len);
	}
	r = rombsr_avb_salted_digest(part->fd, part->original_size, "sha256", NULL, 0, content, &content_len);
	if (r == 0) {
		const void *parts[] = {SALT_CONTENT_LABEL, args->partition_name, "", content};
		const size_t lens[] = {sizeof(SALT_CONTENT_LABEL), strlen(args->partition_name), 1, content_len};

		r = digest_of(hash, parts, lens, 4, salt, salt_len);
	}
	return r;
}

int footer_finish(const struct cli_context *ctx, const struct footer_args *args, struct rombsr_avb_partition *part,
		  const struct rombsr_avb_descriptor *own, const unsigned char *tree, uint64_t tree_size,
		  uint64_t data_size)
{
	struct rombsr_avb_footer_layout layout = {
		.partition_size = args->partition_size,
		.block_size = FOOTER_BLOCK_SIZE,
		.data_size = data_size,
		.tree = tree,
		.tree_size = tree_size,
		.vbmeta_size = 1, /* at least one block: checked before anything is signed */
	};
	struct rombsr_buf vbmeta;
	int r = rombsr_avb_footer_layout_check(&layout, part->original_size);

	if (r < 0)
		return rombsr_error_wrap(r, "%s", args->image);
	r = vbmeta_build(ctx, &args->vbmeta, own, 1, &vbmeta);
	if (r < 0)
		return r;
	layout.vbmeta = vbmeta.data;
	layout.vbmeta_size = vbmeta.len;
	r = rombsr_avb_partition_write_footer(part, &layout);
	rombsr_buf_free(&vbmeta);
	return r;
}
