/* Guards the embedded default's tokens against SoftHSM2's in-place rewrite.
 *
 * SoftHSM2's file store rewrites a token's token.object at every login:
 * it takes a write lock on the file, truncates it to 0 and writes it again
 * in one write(). A process killed between the two (a SIGKILL, a power cut,
 * the OOM killer) leaves the file empty, and SoftHSM2 then no longer lists
 * the token: every key in it would be lost. The kill -9 soak found this.
 *
 * So before any token is opened, each token folder's token.object is
 * checked under SoftHSM2's own lock. A complete one (any non-empty one: the
 * rewrite is a single write of a few hundred bytes) refreshes a copy kept
 * beside it; an empty one is written back from that copy, in place and
 * under the lock, as SoftHSM2 itself would. A restore that is killed leaves
 * the file empty again and the copy untouched, so the next start restores
 * it again. */
#define _GNU_SOURCE
#include "provision.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The copy's name must not end in ".object": SoftHSM2 takes every such
 * file in a token folder for one of the token's objects. */
#define COPY_NAME "rombsr-token-object.copy"
#define TOKEN_OBJECT_MAX (1024 * 1024)

/* The value of "directories.tokendir" in a softhsm2.conf, trimmed. */
static int conf_tokendir(const char *conf_path, char **out)
{
	struct rombsr_buf conf;
	char *line, *save = NULL;
	int r;

	*out = NULL;
	r = rombsr_file_read(conf_path, 64 * 1024, &conf);
	if (r == 0)
		rombsr_buf_cstr(&conf);
	if (r == 0)
		r = rombsr_buf_check(&conf, conf_path);
	if (r < 0) {
		rombsr_buf_free(&conf);
		return r;
	}
	for (line = strtok_r((char *)conf.data, "\n", &save); line && !*out;
	     line = strtok_r(NULL, "\n", &save)) {
		char *value = line, *end;

		while (isspace((unsigned char)*value))
			value++;
		if (strncmp(value, "directories.tokendir", 20) != 0)
			continue;
		value += 20;
		while (isspace((unsigned char)*value))
			value++;
		if (*value++ != '=')
			continue;
		while (isspace((unsigned char)*value))
			value++;
		end = value + strlen(value);
		while (end > value && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*value && (*out = strdup(value)) == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r == 0 && !*out)
		r = rombsr_error(ROMBSR_ECONFIG, "%s names no directories.tokendir", conf_path);
	rombsr_buf_free(&conf);
	return r;
}

static int read_fd(int fd, const char *path, struct rombsr_buf *out)
{
	char chunk[4096];
	ssize_t n;

	while ((n = pread(fd, chunk, sizeof(chunk), (off_t)out->len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rombsr_error(ROMBSR_EIO, "cannot read %s: %s", path, strerror(errno));
		rombsr_buf_append(out, chunk, (size_t)n);
		if (out->failed)
			return rombsr_buf_check(out, path);
	}
	return 0;
}

static int restore(int fd, const char *live, const char *copy_path)
{
	struct rombsr_buf copy;
	int r = rombsr_file_read(copy_path, TOKEN_OBJECT_MAX, &copy);

	if (r < 0)
		return rombsr_error_wrap_as(r, ROMBSR_EIO, "%s is empty (a login rewrite was interrupted) and its copy cannot be "
					 "read: restore the token folder from a backup", live);
	if (copy.len == 0)
		r = rombsr_error(ROMBSR_EIO, "%s and its copy %s are both empty: restore the token folder from "
				 "a backup", live, copy_path);
	else if (pwrite(fd, copy.data, copy.len, 0) != (ssize_t)copy.len || fsync(fd) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot restore %s: %s", live, strerror(errno));
	else
		fprintf(stderr, "rombsr: %s was empty (a login rewrite was interrupted): restored from %s\n", live,
			copy_path);
	rombsr_buf_free(&copy);
	return r;
}

static int refresh_copy(const struct rombsr_buf *live, const char *copy_path)
{
	struct rombsr_buf copy;
	bool same;
	int r;

	if (rombsr_path_exists(copy_path)) {
		r = rombsr_file_read(copy_path, TOKEN_OBJECT_MAX, &copy);
		same = r == 0 && copy.len == live->len && memcmp(copy.data, live->data, live->len) == 0;
		if (r == 0)
			rombsr_buf_free(&copy);
		if (same)
			return 0;
	}
	return rombsr_file_write_atomic(copy_path, live->data, live->len, 0600, false);
}

static int guard_token(const char *folder)
{
	char *live = NULL, *copy_path = NULL;
	struct rombsr_buf content;
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = -1, r = 0;

	rombsr_buf_init(&content, TOKEN_OBJECT_MAX);
	if (asprintf(&live, "%s/token.object", folder) < 0 || asprintf(&copy_path, "%s/" COPY_NAME, folder) < 0) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	fd = open(live, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		goto out; /* not a token folder */
	if (fd < 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot open %s: %s", live, strerror(errno));
		goto out;
	}
	while ((r = fcntl(fd, F_SETLKW, &lock)) != 0 && errno == EINTR)
		;
	if (r != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot lock %s: %s", live, strerror(errno));
		goto out;
	}
	r = read_fd(fd, live, &content);
	if (r == 0 && content.len == 0)
		r = restore(fd, live, copy_path);
	else if (r == 0)
		r = refresh_copy(&content, copy_path);
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	rombsr_buf_free(&content);
	free(live);
	free(copy_path);
	return r;
}

int rombsr_softhsm_guard_tokens(const char *conf_path)
{
	char *tokendir = NULL;
	DIR *dir = NULL;
	struct dirent *e;
	int r = conf_tokendir(conf_path, &tokendir);

	if (r < 0)
		return r;
	dir = opendir(tokendir);
	if (!dir) {
		r = rombsr_error(ROMBSR_EIO, "cannot open the token folder %s: %s", tokendir, strerror(errno));
		goto out;
	}
	while (r == 0 && (errno = 0, e = readdir(dir)) != NULL) {
		char *folder = NULL;

		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (asprintf(&folder, "%s/%s", tokendir, e->d_name) < 0)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		else
			r = guard_token(folder);
		free(folder);
	}
	if (r == 0 && errno != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot list %s: %s", tokendir, strerror(errno));
out:
	if (dir)
		closedir(dir);
	free(tokendir);
	return r;
}
