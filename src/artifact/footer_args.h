/* What add-hash-footer and add-hashtree-footer share: the partition, the
 * hash algorithm, and a salt that is the same on every run for the same
 * inputs, so that replay rebuilds the image byte for byte (docs/avb.md,
 * "Salt"). */
#ifndef ROMBSR_ARTIFACT_FOOTER_ARGS_H
#define ROMBSR_ARTIFACT_FOOTER_ARGS_H

#include "vbmeta_args.h"

#include "../avb/partition.h"

enum {
	FOOTER_OPT_IMAGE = 700,
	FOOTER_OPT_NAME,
	FOOTER_OPT_SIZE,
	FOOTER_OPT_HASH,
	FOOTER_OPT_SALT,
	FOOTER_OPT_SALT_SEED,
};

#define FOOTER_OPTIONS                                                                                 \
	VBMETA_OPTIONS,                                                                                \
	{"image", "FILE", "the partition image, changed in place (required)", FOOTER_OPT_IMAGE},        \
	{"partition-name", "NAME", "the partition's name (required)", FOOTER_OPT_NAME},                  \
	{"partition-size", "BYTES", "the partition's size, a multiple of 4096 (required)", FOOTER_OPT_SIZE}, \
	{"hash-algorithm", "NAME", "sha256 (default), sha1 or sha512", FOOTER_OPT_HASH},                 \
	{"salt", "HEX", "the salt (default: derived, see --salt-seed)", FOOTER_OPT_SALT},               \
	{"salt-seed", "TEXT", "derive the salt from TEXT and the partition name (e.g. the build "       \
			      "fingerprint) instead of from the image's content", FOOTER_OPT_SALT_SEED}

/* The block size of data, hash tree and footer (avbtool's). */
#define FOOTER_BLOCK_SIZE 4096

struct footer_args {
	struct vbmeta_args vbmeta;
	const char *image;
	const char *partition_name;
	uint64_t partition_size;
	const char *hash_algorithm;
	const char *salt_hex;
	const char *salt_seed;
};

/* 1 if id is one of FOOTER_OPTIONS (taken), 0 if not, or an error. */
int footer_take_option(struct cli_context *ctx, struct footer_args *args, int id, const char *value);
/* Parses a footer command's options (all of them FOOTER_OPTIONS). */
int footer_parse(struct cli_context *ctx, struct footer_args *args, const struct cli_option *options,
	const char *usage, int argc, char **argv);
/* Checks the required options; opens the image for writing. */
int footer_open(const struct footer_args *args, struct rombsr_avb_partition *part);
/* The salt: --salt, else derived from --salt-seed and the partition name,
 * else from the partition name and the SHA-256 of the image's content (one
 * more read of the image). As long as the hash's digest. */
int footer_salt(const struct footer_args *args, struct rombsr_avb_partition *part, unsigned char salt[64],
	size_t *salt_len);
/* Builds the vbmeta with the footer's own descriptor, fits and writes it. */
int footer_finish(const struct cli_context *ctx, const struct footer_args *args, struct rombsr_avb_partition *part,
	const struct rombsr_avb_descriptor *own, const unsigned char *tree, uint64_t tree_size, uint64_t data_size);

#endif
