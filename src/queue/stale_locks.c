#define _GNU_SOURCE
#include "stale_locks.h"

#include "../common/error.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool is_lock_name(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".lock") == 0;
}

static int remove_lock(const char *path, size_t *removed)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return rombsr_error(ROMBSR_EIO, "cannot remove the stale lock %s: %s", path, strerror(errno));
	fprintf(stderr, "rombsr: removed %s, left by a writer that was killed\n", path);
	(*removed)++;
	return 0;
}

/* Ref folders nest (refs/heads/release/x); depth is bounded because git's
 * are shallow and a deep one is not ours. */
static int clear_folder(const char *dir, int depth, size_t *removed)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : rombsr_error(ROMBSR_EIO, "cannot open %s: %s", dir, strerror(errno));
	while (r == 0 && (errno = 0, e = readdir(d)) != NULL) {
		char *path = NULL;

		if (e->d_name[0] == '.' || (e->d_type != DT_DIR && !is_lock_name(e->d_name)))
			continue;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		else if (e->d_type == DT_DIR && depth < 16)
			r = clear_folder(path, depth + 1, removed);
		else if (e->d_type != DT_DIR)
			r = remove_lock(path, removed);
		free(path);
	}
	if (r == 0 && errno != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot list %s: %s", dir, strerror(errno));
	closedir(d);
	return r;
}

int rombsr_repo_clear_stale_locks(const char *gitdir, size_t *removed)
{
	static const char *const top[] = {"packed-refs.lock", "HEAD.lock", "config.lock", "shallow.lock"};
	char *path = NULL;
	int r = 0;

	*removed = 0;
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]) && r == 0; i++) {
		if (asprintf(&path, "%s/%s", gitdir, top[i]) < 0)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		if (access(path, F_OK) == 0)
			r = remove_lock(path, removed);
		free(path);
	}
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/refs", gitdir) < 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = clear_folder(path, 0, removed);
	free(path);
	return r;
}
