/* The descriptors of an AVB 2.0 vbmeta image (docs/avb.md): property,
 * hashtree, hash, kernel command line and chain partition, each with its
 * own encode and decode, plus the walk over a descriptors area.
 *
 * Decoded descriptors point into the buffer they were decoded from (no
 * copies, nothing to free): keep that buffer alive while they are used. To
 * encode, fill the same structures with pointers to the caller's bytes. */
#ifndef ROMBSR_AVB_DESCRIPTOR_H
#define ROMBSR_AVB_DESCRIPTOR_H

#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>

enum rombsr_avb_tag {
	ROMBSR_AVB_TAG_PROPERTY = 0,
	ROMBSR_AVB_TAG_HASHTREE = 1,
	ROMBSR_AVB_TAG_HASH = 2,
	ROMBSR_AVB_TAG_KERNEL_CMDLINE = 3,
	ROMBSR_AVB_TAG_CHAIN_PARTITION = 4,
};

/* Fixed part of each descriptor, tag and length included. */
#define ROMBSR_AVB_DESC_HEADER_SIZE 16
#define ROMBSR_AVB_PROPERTY_SIZE 32
#define ROMBSR_AVB_HASHTREE_SIZE 180
#define ROMBSR_AVB_HASH_SIZE 132
#define ROMBSR_AVB_KERNEL_CMDLINE_SIZE 24
#define ROMBSR_AVB_CHAIN_PARTITION_SIZE 92
/* The hash algorithm name field ("sha256"), NUL padded. */
#define ROMBSR_AVB_HASH_ALG_SIZE 32

struct rombsr_avb_bytes {
	const unsigned char *data;
	size_t len;
};

struct rombsr_avb_property {
	struct rombsr_avb_bytes key;   /* stored NUL-terminated; len excludes the NUL */
	struct rombsr_avb_bytes value; /* likewise */
};

struct rombsr_avb_hashtree {
	uint32_t dm_verity_version;
	uint64_t image_size;
	uint64_t tree_offset;
	uint64_t tree_size;
	uint32_t data_block_size;
	uint32_t hash_block_size;
	uint32_t fec_num_roots;
	uint64_t fec_offset;
	uint64_t fec_size;
	char hash_algorithm[ROMBSR_AVB_HASH_ALG_SIZE]; /* NUL-terminated */
	struct rombsr_avb_bytes partition_name;
	struct rombsr_avb_bytes salt;
	struct rombsr_avb_bytes root_digest;
	uint32_t flags;
};

struct rombsr_avb_hash {
	uint64_t image_size;
	char hash_algorithm[ROMBSR_AVB_HASH_ALG_SIZE]; /* NUL-terminated */
	struct rombsr_avb_bytes partition_name;
	struct rombsr_avb_bytes salt;
	struct rombsr_avb_bytes digest;
	uint32_t flags;
};

struct rombsr_avb_kernel_cmdline {
	uint32_t flags;
	struct rombsr_avb_bytes cmdline;
};

struct rombsr_avb_chain_partition {
	uint32_t rollback_index_location;
	struct rombsr_avb_bytes partition_name;
	struct rombsr_avb_bytes public_key; /* an AVB public key blob (pubkey_blob.h) */
	uint32_t flags;
};

/* One descriptor. A tag this library does not know is kept as opaque
 * bytes: libavb skips tags it does not know and avbtool carries them
 * through, so refusing them would refuse images both accept. */
struct rombsr_avb_descriptor {
	uint64_t tag;
	union {
		struct rombsr_avb_property property;
		struct rombsr_avb_hashtree hashtree;
		struct rombsr_avb_hash hash;
		struct rombsr_avb_kernel_cmdline cmdline;
		struct rombsr_avb_chain_partition chain;
		struct rombsr_avb_bytes opaque; /* the bytes after tag and length */
	} u;
};

/* Each encoder appends one whole descriptor (tag, length, fields, payload,
 * zero padding to 8 bytes) to out. ROMBSR_EINVAL if a length does not fit
 * its field or out's cap is reached. */
int rombsr_avb_property_encode(const struct rombsr_avb_property *d, struct rombsr_buf *out);
int rombsr_avb_hashtree_encode(const struct rombsr_avb_hashtree *d, struct rombsr_buf *out);
int rombsr_avb_hash_encode(const struct rombsr_avb_hash *d, struct rombsr_buf *out);
int rombsr_avb_kernel_cmdline_encode(const struct rombsr_avb_kernel_cmdline *d, struct rombsr_buf *out);
int rombsr_avb_chain_partition_encode(const struct rombsr_avb_chain_partition *d, struct rombsr_buf *out);
/* Dispatches on d->tag; an unknown tag writes its opaque bytes (a multiple
 * of 8 long). */
int rombsr_avb_descriptor_encode(const struct rombsr_avb_descriptor *d, struct rombsr_buf *out);

/* Each decoder reads one whole descriptor of its kind, exactly len bytes
 * (tag and length included), strictly: tag, lengths, NUL terminators,
 * reserved bytes and padding all checked. ROMBSR_EINVAL with a message. */
int rombsr_avb_property_decode(const unsigned char *p, size_t len, struct rombsr_avb_property *d);
int rombsr_avb_hashtree_decode(const unsigned char *p, size_t len, struct rombsr_avb_hashtree *d);
int rombsr_avb_hash_decode(const unsigned char *p, size_t len, struct rombsr_avb_hash *d);
int rombsr_avb_kernel_cmdline_decode(const unsigned char *p, size_t len, struct rombsr_avb_kernel_cmdline *d);
int rombsr_avb_chain_partition_decode(const unsigned char *p, size_t len, struct rombsr_avb_chain_partition *d);

/* Decodes the descriptor at *offset of the descriptors area [area, area +
 * len) and advances *offset past it. Returns 1 with *d filled, 0 at the end
 * of the area, or ROMBSR_EINVAL (a truncated or misaligned descriptor, a
 * length past the area, a bad known descriptor). */
int rombsr_avb_descriptor_next(const unsigned char *area, size_t len, size_t *offset,
	struct rombsr_avb_descriptor *d);

#endif
