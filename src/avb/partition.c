#include "partition.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_exact(int fd, void *buf, size_t len, uint64_t offset, const char *path)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (unsigned char *)buf + done, len - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
		if (n == 0)
			return rombsr_error(ROMBSR_EINVAL, "%s: truncated (ends before byte %llu)", path,
					    (unsigned long long)(offset + len));
		done += (size_t)n;
	}
	return 0;
}

static int write_exact(int fd, const void *buf, size_t len, uint64_t offset, const char *path)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const unsigned char *)buf + done, len - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return rombsr_error(ROMBSR_EIO, "%s: writing: %s", path, n < 0 ? strerror(errno) : "no progress");
		done += (size_t)n;
	}
	return 0;
}

int rombsr_avb_partition_open(const char *path, bool writable, struct rombsr_avb_partition *p)
{
	unsigned char tail[ROMBSR_AVB_FOOTER_SIZE];
	struct stat st;
	int r;

	memset(p, 0, sizeof(*p));
	p->path = path;
	p->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
	if (p->fd < 0)
		return rombsr_error(errno == ENOENT ? ROMBSR_ENOTFOUND : ROMBSR_EIO, "%s: %s", path, strerror(errno));
	if (fstat(p->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = rombsr_error(ROMBSR_EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	p->file_size = (uint64_t)st.st_size;
	p->original_size = p->file_size;
	if (p->file_size < ROMBSR_AVB_FOOTER_SIZE)
		return 0;
	r = read_exact(p->fd, tail, sizeof(tail), p->file_size - sizeof(tail), path);
	if (r < 0)
		goto fail;
	if (memcmp(tail, "AVBf", 4) != 0)
		return 0;
	r = rombsr_avb_footer_decode(tail, p->file_size, &p->footer);
	if (r < 0) {
		r = rombsr_error_wrap(r, "%s", path);
		goto fail;
	}
	p->has_footer = true;
	p->original_size = p->footer.original_image_size;
	return 0;
fail:
	close(p->fd);
	p->fd = -1;
	return r;
}

int rombsr_avb_partition_read(struct rombsr_avb_partition *p, void *buf, size_t len, uint64_t offset)
{
	return read_exact(p->fd, buf, len, offset, p->path);
}

void rombsr_avb_partition_close(struct rombsr_avb_partition *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int rombsr_avb_partition_read_vbmeta(struct rombsr_avb_partition *p, struct rombsr_buf *vbmeta)
{
	int r;

	rombsr_buf_init(vbmeta, ROMBSR_AVB_MAX_VBMETA_SIZE);
	if (!p->has_footer)
		return rombsr_error(ROMBSR_EINVAL, "%s: no AVB footer", p->path);
	if (p->footer.vbmeta_size > ROMBSR_AVB_MAX_VBMETA_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "%s: the footer's vbmeta of %llu bytes is over %d", p->path,
				    (unsigned long long)p->footer.vbmeta_size, ROMBSR_AVB_MAX_VBMETA_SIZE);
	vbmeta->data = malloc(p->footer.vbmeta_size ? (size_t)p->footer.vbmeta_size : 1);
	if (vbmeta->data == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	vbmeta->alloc = (size_t)p->footer.vbmeta_size;
	r = read_exact(p->fd, vbmeta->data, (size_t)p->footer.vbmeta_size, p->footer.vbmeta_offset, p->path);
	if (r < 0) {
		rombsr_buf_free(vbmeta);
		return r;
	}
	vbmeta->len = (size_t)p->footer.vbmeta_size;
	return 0;
}

static uint64_t round_up(uint64_t n, uint64_t to)
{
	return (n + to - 1) / to * to;
}

int rombsr_avb_footer_layout_check(const struct rombsr_avb_footer_layout *l, uint64_t original_size)
{
	uint64_t need;

	if (l->block_size == 0 || l->partition_size % l->block_size != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb: partition size %llu is not a multiple of the %u-byte block",
				    (unsigned long long)l->partition_size, l->block_size);
	if (l->data_size != round_up(original_size, l->block_size) || l->tree_size % l->block_size != 0)
		return rombsr_error(ROMBSR_EINTERNAL, "avb: footer layout out of blocks");
	need = l->data_size + l->tree_size + round_up(l->vbmeta_size, l->block_size) + l->block_size;
	if (need > l->partition_size)
		return rombsr_error(ROMBSR_EINVAL, "avb: does not fit: the image (%llu bytes) with its hash tree "
						   "(%llu), vbmeta and footer needs %llu bytes, the partition has %llu",
				    (unsigned long long)original_size, (unsigned long long)l->tree_size,
				    (unsigned long long)need, (unsigned long long)l->partition_size);
	return 0;
}

int rombsr_avb_partition_write_footer(struct rombsr_avb_partition *p, const struct rombsr_avb_footer_layout *l)
{
	struct rombsr_avb_footer f = {
		.version_major = ROMBSR_AVB_FOOTER_VERSION_MAJOR,
		.version_minor = ROMBSR_AVB_FOOTER_VERSION_MINOR,
		.original_image_size = p->original_size,
		.vbmeta_offset = l->data_size + l->tree_size,
		.vbmeta_size = l->vbmeta_size,
	};
	unsigned char footer[ROMBSR_AVB_FOOTER_SIZE];
	int r = rombsr_avb_footer_layout_check(l, p->original_size);

	if (r < 0)
		return r;
	rombsr_avb_footer_encode(&f, footer);
	/* Cutting to the original image first drops an earlier footer and
	 * leaves zeros (a hole) wherever nothing is written below. */
	if (ftruncate(p->fd, (off_t)p->original_size) != 0 || ftruncate(p->fd, (off_t)l->partition_size) != 0) {
		r = rombsr_error(ROMBSR_EIO, "%s: resizing: %s", p->path, strerror(errno));
		goto fail;
	}
	if (l->tree_size > 0 && (r = write_exact(p->fd, l->tree, (size_t)l->tree_size, l->data_size, p->path)) < 0)
		goto fail;
	r = write_exact(p->fd, l->vbmeta, l->vbmeta_size, f.vbmeta_offset, p->path);
	if (r == 0)
		r = write_exact(p->fd, footer, sizeof(footer), l->partition_size - sizeof(footer), p->path);
	if (r == 0 && fsync(p->fd) != 0)
		r = rombsr_error(ROMBSR_EIO, "%s: fsync: %s", p->path, strerror(errno));
	if (r < 0)
		goto fail;
	p->file_size = l->partition_size;
	p->has_footer = true;
	p->footer = f;
	return 0;
fail:
	if (ftruncate(p->fd, (off_t)p->original_size) != 0)
		return rombsr_error_wrap(r, "%s is left with a partial footer (cutting it back failed: %s)", p->path,
					 strerror(errno));
	return rombsr_error_wrap(r, "%s is back to its original %llu bytes, without footer", p->path,
				 (unsigned long long)p->original_size);
}
