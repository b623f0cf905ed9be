/* POST /sign/modules (docs/server.md): digsigserver's kernel module route.
 * The tree is unpacked from the artifact (.tar.gz); every *.ko gets a
 * PKCS#7 from openssl cms through the capture module's engine key (Debian
 * 12's sign-file cannot open a pkcs11 key itself: docs/bootchain-tools.md),
 * appended by sign-file -s; the tree is packed again. */
#define _GNU_SOURCE
#include "route_internal.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TAR "/usr/bin/tar"
#define OPENSSL "/usr/bin/openssl"
#define SIGN_FILE "/usr/lib/linux-kbuild-6.1/scripts/sign-file"

/* nftw has no context argument: one walk at a time. */
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rombsr_route_job *walking;
static size_t walk_skip;
static int walk_r;

static int add_module(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct rombsr_route_job *j = walking;
	size_t n = strlen(path);
	char **grown;

	(void)ftw;
	/* Regular files only: a symlink named *.ko is left as it is. */
	if (type != FTW_F || !S_ISREG(st->st_mode) || n < 3 || strcmp(path + n - 3, ".ko") != 0)
		return 0;
	if (j->nfiles >= ROUTE_FILES_MAX) {
		walk_r = rombsr_error(ROMBSR_EINVAL, "more than %d modules", ROUTE_FILES_MAX);
		return 1;
	}
	grown = realloc(j->files, (j->nfiles + 1) * sizeof(*grown));
	if (grown == NULL || (grown[j->nfiles] = strdup(path + walk_skip)) == NULL) {
		if (grown != NULL)
			j->files = grown;
		walk_r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		return 1;
	}
	j->files = grown;
	j->nfiles++;
	return 0;
}

static int find_modules(struct rombsr_route_job *j, const char *tree)
{
	int r;

	pthread_mutex_lock(&walk_lock);
	walking = j;
	walk_skip = strlen(j->dir) + 1;
	walk_r = 0;
	r = nftw(tree, add_module, 16, FTW_PHYS) < 0 ? rombsr_error(ROMBSR_EIO, "cannot walk %s", tree) : walk_r;
	pthread_mutex_unlock(&walk_lock);
	if (r == 0 && j->nfiles == 0)
		r = rombsr_error(ROMBSR_EINVAL, "the artifact holds no *.ko file");
	return r;
}

/* The tree's size before it is unpacked (tar -tv: type and mode, owner,
 * size, ...): a small .tar.gz may unpack to far more than server.max-body,
 * so the sum is bounded. Only folders, regular files and symlinks. */
static int check_listing(struct rombsr_route_job *j, const char *in)
{
	const char *argv[] = {TAR, "-t", "-v", "-z", "--numeric-owner", "-f", in, NULL};
	unsigned long long total = 0, limit = 8ull * j->env->cfg->server_max_body;
	struct rombsr_buf list;
	char path[4096], *line, *save = NULL;
	int r = route_run_out(j, argv, "listing.txt");

	if (r == 0)
		r = route_path(j, "listing.txt", path, sizeof(path));
	if (r == 0)
		r = rombsr_file_read(path, 64u << 20, &list);
	if (r < 0)
		return r;
	rombsr_buf_cstr(&list);
	for (line = strtok_r((char *)list.data, "\n", &save); line != NULL && r == 0; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long size = 0;

		if (line[0] != '-' && line[0] != 'd' && line[0] != 'l')
			r = rombsr_error(ROMBSR_EINVAL, "the artifact holds a member that is no file, folder or symlink: %.200s",
					 line);
		else if (sscanf(line, "%*s %*s %llu", &size) != 1)
			r = rombsr_error(ROMBSR_EINVAL, "cannot read tar's listing: %.200s", line);
		else if ((total += size) > limit)
			r = rombsr_error(ROMBSR_EINVAL, "the artifact unpacks to more than %llu bytes (8 x server.max-body)",
					 limit);
	}
	rombsr_buf_free(&list);
	return r;
}

static int prepare(struct rombsr_route_job *j)
{
	static const char *const hashes[] = {"sha256", "sha384", "sha512"};
	const char *hash = route_text(j, "hashalg"), *machine = route_text(j, "machine");
	char in[4096], tree[4096];
	int r;

	if (machine == NULL || machine[0] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "the form has no field 'machine'");
	if (strspn(machine, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(machine))
		return rombsr_error(ROMBSR_EINVAL, "machine: only letters, digits, '.', '_' and '-'");
	snprintf(j->hash, sizeof(j->hash), "%s", hash != NULL && hash[0] != '\0' ? hash : "sha512");
	r = rombsr_error(ROMBSR_EINVAL, "hashalg: '%.16s' is not sha256, sha384 or sha512", j->hash);
	for (size_t i = 0; i < 3; i++)
		if (strcmp(j->hash, hashes[i]) == 0)
			r = 0;
	if (r == 0)
		r = route_file_path(j, "artifact", in, sizeof(in));
	if (r == 0)
		r = check_listing(j, in);
	if (r == 0)
		r = route_path(j, "tree", tree, sizeof(tree));
	if (r == 0 && mkdir(tree, 0700) != 0)
		r = rombsr_error(ROMBSR_EIO, "%s: cannot make it", tree);
	if (r == 0) {
		/* GNU tar refuses members with "..", strips a leading "/" and
		 * makes symlinks last; Landlock keeps it in the state folder. */
		const char *argv[] = {TAR, "-x", "-z", "-f", in, "-C", tree, "--no-same-owner", "--no-same-permissions",
				      NULL};

		r = route_run(j, argv);
	}
	if (r == 0)
		r = find_modules(j, tree);
	return r;
}

/* One openssl cms run per module: the capture module journals its digest
 * (or, once signed, answers with the signature). */
static int capture(struct rombsr_route_job *j)
{
	char uri[512], cert[4096], p7s[64];
	int r = route_key_uri(j, uri, sizeof(uri));

	if (r == 0)
		r = route_cert(j, cert, sizeof(cert));
	for (size_t i = 0; r == 0 && i < j->nfiles; i++) {
		const char *argv[] = {OPENSSL, "cms", "-sign", "-engine", "pkcs11", "-keyform", "engine", "-inkey", uri,
				      "-signer", cert, "-in", j->files[i], "-binary", "-noattr", "-nocerts", "-md",
				      j->hash, "-outform", "DER", "-out", p7s, NULL};

		snprintf(p7s, sizeof(p7s), "sig-%zu.p7s", i);
		r = route_run(j, argv);
	}
	return r;
}

static int finish(struct rombsr_route_job *j, struct rombsr_route_result *res)
{
	char cert[4096], p7s[64];
	int r = route_cert(j, cert, sizeof(cert));

	for (size_t i = 0; r == 0 && i < j->nfiles; i++) {
		const char *argv[] = {SIGN_FILE, "-s", p7s, j->hash, cert, j->files[i], NULL};

		snprintf(p7s, sizeof(p7s), "sig-%zu.p7s", i);
		r = route_run(j, argv);
	}
	if (r == 0) {
		const char *argv[] = {TAR, "-c", "-z", "-f", "signed-artifact.tar.gz", "--sort=name", "--owner=0",
				      "--group=0", "--numeric-owner", "-C", "tree", ".", NULL};

		r = route_run(j, argv);
	}
	if (r == 0)
		r = route_answer_file(j, "signed-artifact.tar.gz", "signed-artifact.tar.gz", res);
	return r;
}

const struct route_def rombsr_route_modules = {
	.path = "/sign/modules",
	.files = {"artifact", NULL},
	.texts = {"machine", "hashalg", NULL},
	.prepare = prepare,
	.capture = capture,
	.finish = finish,
};
