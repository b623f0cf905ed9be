#define _GNU_SOURCE
#include "fsutil.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads fd to its end in chunks, handing each to take (which returns 0 or
 * an error); the one read loop of this file. chunk is wiped after use: a
 * file read may hold a PIN. */
static int read_chunks(int fd, const char *path, int (*take)(const unsigned char *data, size_t n, void *ctx),
		       void *ctx)
{
	unsigned char chunk[65536];
	int r = 0;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rombsr_error(ROMBSR_EIO, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		r = take(chunk, (size_t)n, ctx);
		if (r != 0)
			break;
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	return r;
}

/* Stops at the buffer's cap; rombsr_buf_check() then names the file. */
static int take_into_buf(const unsigned char *data, size_t n, void *ctx)
{
	struct rombsr_buf *out = ctx;

	rombsr_buf_append(out, data, n);
	return out->failed ? 1 : 0;
}

int rombsr_fd_read(int fd, const char *source, struct rombsr_buf *out)
{
	int r = read_chunks(fd, source, take_into_buf, out);

	return r < 0 ? r : 0;
}

int rombsr_file_read(const char *path, size_t max, struct rombsr_buf *out)
{
	struct stat st;
	int fd, r = ROMBSR_EIO;

	rombsr_buf_init(out, max);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return rombsr_error(errno == ENOENT ? ROMBSR_ENOTFOUND : ROMBSR_EIO, "cannot open %s: %s",
				    path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = rombsr_error(ROMBSR_EINVAL, "%s is not a regular file", path);
		goto out;
	}
	r = rombsr_fd_read(fd, path, out);
	if (r == 0)
		r = rombsr_buf_check(out, path);
out:
	close(fd);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

int rombsr_path_format(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return rombsr_error(ROMBSR_EINTERNAL, "cannot format a path: %s", strerror(errno));
	if ((size_t)n >= size)
		return rombsr_error(ROMBSR_EINVAL, "path of %d bytes is longer than %zu: %s...", n, size - 1, out);
	return 0;
}

int rombsr_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return rombsr_error(ROMBSR_EIO, "cannot open folder %s: %s", path, strerror(errno));
	if (fsync(fd) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot fsync folder %s: %s", path, strerror(errno));
	close(fd);
	return r;
}

int rombsr_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rombsr_append_whole(int fd, const void *data, size_t len, const char *what)
{
	struct stat st;
	int saved;

	if (fstat(fd, &st) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot stat %s: %s", what, strerror(errno));
	if (rombsr_write_all(fd, data, len) == 0)
		return 0;
	saved = errno;
	if (ftruncate(fd, st.st_size) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot write %s (%s), nor cut the torn line back: %s", what,
				    strerror(saved), strerror(errno));
	return rombsr_error(ROMBSR_EIO, "cannot write %s: %s", what, strerror(saved));
}

int rombsr_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			     bool exclusive)
{
	char *tmp = NULL, *dir_copy = NULL;
	int fd = -1, r = ROMBSR_EIO;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0 || (dir_copy = strdup(path)) == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot create a file next to %s: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0 || rombsr_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = rombsr_error(ROMBSR_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (exclusive) {
		/* link() fails if path exists: no window in which a concurrent
		 * writer's file could be replaced. */
		if (link(tmp, path) != 0) {
			r = rombsr_error(errno == EEXIST ? ROMBSR_EEXISTS : ROMBSR_EIO,
					 "cannot create %s: %s", path, strerror(errno));
			goto out;
		}
	} else if (rename(tmp, path) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	r = rombsr_fsync_dir(dirname(dir_copy));
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL && (r < 0 || exclusive))
		unlink(tmp);
	free(tmp);
	free(dir_copy);
	return r;
}

int rombsr_mkdir_p(const char *path, mode_t mode)
{
	char *copy;
	int r = 0;

	if (path[0] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "empty folder name");
	copy = strdup(path);
	if (copy == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (char *p = copy + 1; ; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST) {
			r = rombsr_error(ROMBSR_EIO, "cannot create folder %s: %s", copy, strerror(errno));
			break;
		}
		if (last)
			break;
		*p = '/';
	}
	free(copy);
	return r;
}

bool rombsr_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int rombsr_remove_tree(const char *path)
{
	if (!rombsr_path_exists(path))
		return 0;
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

struct digest_sink {
	EVP_MD_CTX *ctx;
	uint64_t *size;
};

static int take_into_digest(const unsigned char *data, size_t n, void *ctx)
{
	struct digest_sink *d = ctx;

	*d->size += (uint64_t)n;
	return EVP_DigestUpdate(d->ctx, data, n) == 1 ? 0 : 1;
}

int rombsr_file_sha256(const char *path, unsigned char md[32], uint64_t *size)
{
	struct digest_sink hash;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	*size = 0;
	if (fd < 0) {
		r = rombsr_error(errno == ENOENT ? ROMBSR_ENOTFOUND : ROMBSR_EIO, "cannot read %s: %s", path,
				 strerror(errno));
		goto out;
	}
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of %s", path);
		goto out;
	}
	hash.ctx = ctx;
	hash.size = size;
	r = read_chunks(fd, path, take_into_digest, &hash);
	if (r != 0) {
		if (r > 0)
			r = rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of %s", path);
		goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of %s", path);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return r;
}
