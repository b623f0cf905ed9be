/* What make-vbmeta, add-hash-footer and add-hashtree-footer share: the
 * options that describe a vbmeta image, the descriptors they name, and the
 * signing through the PKCS#11 key. */
#ifndef ROMBSR_ARTIFACT_VBMETA_ARGS_H
#define ROMBSR_ARTIFACT_VBMETA_ARGS_H

#include "artifact.h"

#include "../avb/descriptor.h"

#include <stdint.h>

#define VBMETA_MAX_REPEAT 64

enum {
	VBMETA_OPT_ALGORITHM = 800,
	VBMETA_OPT_ROLLBACK_INDEX,
	VBMETA_OPT_ROLLBACK_LOCATION,
	VBMETA_OPT_FLAGS,
	VBMETA_OPT_RELEASE,
	VBMETA_OPT_PROP,
	VBMETA_OPT_CMDLINE,
	VBMETA_OPT_CHAIN,
	VBMETA_OPT_INCLUDE,
};

#define VBMETA_OPTIONS                                                                              \
	ARTIFACT_KEY_OPTIONS,                                                                       \
	{"algorithm", "NAME", "SHA256_RSA2048, SHA256_RSA4096, SHA512_RSA4096, … or NONE (default: "  \
			      "SHA256_RSA<bits> of the key, NONE without --key)", VBMETA_OPT_ALGORITHM},  \
	{"rollback-index", "N", "the rollback index (default 0)", VBMETA_OPT_ROLLBACK_INDEX},          \
	{"rollback-index-location", "N", "the rollback index location (default 0)",                   \
		VBMETA_OPT_ROLLBACK_LOCATION},                                                         \
	{"flags", "N", "header flags: 1 hashtree disabled, 2 verification disabled", VBMETA_OPT_FLAGS}, \
	{"release-string", "TEXT", "the release string (default \"rombsr\")", VBMETA_OPT_RELEASE},     \
	{"prop", "KEY:VALUE", "a property descriptor (repeatable)", VBMETA_OPT_PROP},                   \
	{"kernel-cmdline", "TEXT", "a kernel command line descriptor (repeatable)", VBMETA_OPT_CMDLINE}, \
	{"chain-partition", "NAME:LOCATION:KEY_BLOB", "a chain partition descriptor: partition, rollback " \
		"index location, AVB public key blob file (repeatable)", VBMETA_OPT_CHAIN},           \
	{"include-descriptors-from-image", "FILE", "copy the descriptors of a vbmeta image or of a "   \
		"partition's footer (repeatable)", VBMETA_OPT_INCLUDE}

struct vbmeta_args {
	struct artifact_key_args key;
	const char *algorithm;
	uint64_t rollback_index;
	uint32_t rollback_index_location;
	uint32_t flags;
	const char *release_string;
	const char *props[VBMETA_MAX_REPEAT];
	size_t nprops;
	const char *cmdlines[VBMETA_MAX_REPEAT];
	size_t ncmdlines;
	const char *chains[VBMETA_MAX_REPEAT];
	size_t nchains;
	const char *includes[VBMETA_MAX_REPEAT];
	size_t nincludes;
};

/* 1 if id is one of VBMETA_OPTIONS (taken), 0 if not, or an error. */
int vbmeta_take_option(struct cli_context *ctx, struct vbmeta_args *args, int id, const char *value);

/* Builds the signed vbmeta image the options describe, with the
 * descriptors in first (a footer's own hash or hashtree descriptor), into
 * out (initialized here). */
int vbmeta_build(const struct cli_context *ctx, const struct vbmeta_args *args,
	const struct rombsr_avb_descriptor *first, size_t nfirst, struct rombsr_buf *out);


#endif
