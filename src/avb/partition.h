/* A partition image file with an AVB footer (docs/avb.md, "Footer"): the
 * image, zero padding to a whole block, a hash tree (hashtree footers), the
 * vbmeta image padded to a whole block, zeros, and the footer in the last
 * 64 bytes of the partition. */
#ifndef ROMBSR_AVB_PARTITION_H
#define ROMBSR_AVB_PARTITION_H

#include "footer.h"

#include "../common/buf.h"

#include <stdbool.h>
#include <stdint.h>

/* The largest vbmeta image read from a partition (avbtool's limit). */
#define ROMBSR_AVB_MAX_VBMETA_SIZE (64 * 1024)

struct rombsr_avb_partition {
	int fd;
	const char *path;
	uint64_t file_size;
	bool has_footer;
	struct rombsr_avb_footer footer;  /* when has_footer */
	uint64_t original_size;           /* the image without what a footer added */
};

/* Opens path and reads its footer if it has one (magic "AVBf" in the last
 * 64 bytes); a footer with that magic that does not decode is an error,
 * never taken for image data. */
int rombsr_avb_partition_open(const char *path, bool writable, struct rombsr_avb_partition *p);
void rombsr_avb_partition_close(struct rombsr_avb_partition *p);

/* Reads exactly len bytes at offset; ROMBSR_EINVAL if the file ends first. */
int rombsr_avb_partition_read(struct rombsr_avb_partition *p, void *buf, size_t len, uint64_t offset);

/* The vbmeta image the footer points at (ROMBSR_EINVAL without a footer). */
int rombsr_avb_partition_read_vbmeta(struct rombsr_avb_partition *p, struct rombsr_buf *vbmeta);

struct rombsr_avb_footer_layout {
	uint64_t partition_size;      /* a multiple of block_size */
	uint32_t block_size;
	uint64_t data_size;           /* the image rounded up to block_size: the tree's offset */
	const unsigned char *tree;    /* NULL for a hash footer */
	uint64_t tree_size;
	const unsigned char *vbmeta;
	size_t vbmeta_size;
};

/* Checks that everything fits in the partition; ROMBSR_EINVAL naming the
 * sizes otherwise. */
int rombsr_avb_footer_layout_check(const struct rombsr_avb_footer_layout *l, uint64_t original_size);

/* Writes padding, tree, vbmeta and footer after the original image, which
 * is never written to, and makes the file partition_size bytes (sparse).
 * Everything is computed before the file is touched; if a write fails the
 * file is cut back to the original image, so it is never left with half a
 * footer. */
int rombsr_avb_partition_write_footer(struct rombsr_avb_partition *p, const struct rombsr_avb_footer_layout *l);

#endif
