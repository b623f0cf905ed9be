/* POST /sign/fitimage (docs/server.md): digsigserver's FIT route, mkimage
 * -F re-signing a FIT's signature nodes (and with a dtb, -K writing the
 * public key into it) through the capture module's engine. Each round
 * starts from the uploaded FIT and dtb again, with SOURCE_DATE_EPOCH fixed
 * at the call's start (docs/bootchain-tools.md (a)). Every signature node
 * must name the route's key (key-name-hint). */
#define _GNU_SOURCE
#include "route_internal.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MKIMAGE "/usr/bin/mkimage"
#define TAR "/usr/bin/tar"

static int check(const char *field, const char *value, const char *allowed, const char *what)
{
	if (value != NULL && (value[0] == '\0' || strspn(value, allowed) != strlen(value)))
		return rombsr_error(ROMBSR_EINVAL, "%s: only %s", field, what);
	return 0;
}

static int prepare(struct rombsr_route_job *j)
{
	const char *keyname = route_text(j, "keyname");
	int r = check("machine", route_text(j, "machine"),
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", "letters, digits, '.', '_' and '-'");

	if (r == 0)
		r = check("algo", route_text(j, "algo"), "abcdefghijklmnopqrstuvwxyz0123456789,-", "an algorithm like sha256,rsa4096");
	if (r == 0)
		r = check("external_data_offset", route_text(j, "external_data_offset"), "0123456789abcdefABCDEFx",
			  "a number");
	if (r == 0 && route_text(j, "comment") != NULL)
		for (const char *p = route_text(j, "comment"); *p != '\0' && r == 0; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				r = rombsr_error(ROMBSR_EINVAL, "comment: no control characters");
	/* digsigserver's keyname picks a key file; here the route has one key. */
	if (r == 0 && keyname != NULL && strcmp(keyname, j->key) != 0)
		r = rombsr_error(ROMBSR_EPERM, "keyname '%.64s': /sign/fitimage signs with key '%s' only (server.key-fitimage)",
				 keyname, j->key);
	if (r == 0)
		snprintf(j->frozen, sizeof(j->frozen), "%lld", (long long)time(NULL));
	return r;
}

static bool with_dtb(const struct rombsr_route_job *j)
{
	char path[4096];

	return route_file_path(j, "dtb", path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

/* A fresh copy of an uploaded file for this round. */
static int fresh(struct rombsr_route_job *j, const char *field, const char *rel)
{
	struct rombsr_buf b;
	char in[4096], out[4096];
	int r = route_file_path(j, field, in, sizeof(in));

	if (r == 0)
		r = route_path(j, rel, out, sizeof(out));
	if (r == 0)
		r = rombsr_file_read(in, j->env->cfg->server_max_body, &b);
	if (r == 0) {
		r = rombsr_file_write_atomic(out, b.data, b.len, 0600, false);
		rombsr_buf_free(&b);
	}
	return r;
}

static int capture(struct rombsr_route_job *j)
{
	const char *argv[16] = {MKIMAGE, "-F", "-N", "pkcs11", "-k", "token=rombsr-capture"};
	char epoch[64];
	size_t n = 6;
	int r = fresh(j, "artifact", "image.fit");

	if (r == 0 && with_dtb(j)) {
		r = fresh(j, "dtb", "key.dtb");
		argv[n++] = "-K";
		argv[n++] = "key.dtb";
	}
	if (route_text(j, "mark_required") != NULL)
		argv[n++] = "-r";
	if (route_text(j, "algo") != NULL) {
		argv[n++] = "-o";
		argv[n++] = route_text(j, "algo");
	}
	if (route_text(j, "comment") != NULL) {
		argv[n++] = "-c";
		argv[n++] = route_text(j, "comment");
	}
	if (route_text(j, "external_data_offset") != NULL) {
		argv[n++] = "-p";
		argv[n++] = route_text(j, "external_data_offset");
	}
	argv[n++] = "image.fit";
	snprintf(epoch, sizeof(epoch), "SOURCE_DATE_EPOCH=%s", j->frozen);
	if (r == 0)
		r = route_run_env(j, argv, (const char *const[]){epoch, NULL});
	return r;
}

static int finish(struct rombsr_route_job *j, struct rombsr_route_result *res)
{
	const char *argv[] = {TAR, "-c", "-z", "-f", "signed-artifact.tar.gz", "--owner=0", "--group=0", "--numeric-owner",
			      "--transform=s/^image.fit$/fitimage/;s/^key.dtb$/dtb/", "image.fit", "key.dtb", NULL};
	int r;

	if (!with_dtb(j))
		return route_answer_file(j, "image.fit", "artifact.signed", res);
	r = route_run(j, argv);
	if (r == 0)
		r = route_answer_file(j, "signed-artifact.tar.gz", "signed-artifact.tar.gz", res);
	return r;
}

const struct route_def rombsr_route_fitimage = {
	.path = "/sign/fitimage",
	.files = {"artifact", "dtb", NULL},
	.texts = {"machine", "keyname", "mark_required", "algo", "comment", "external_data_offset", NULL},
	.prepare = prepare,
	.capture = capture,
	.finish = finish,
};
