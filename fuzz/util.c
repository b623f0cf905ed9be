/* See util.h. */
#define _GNU_SOURCE
#include "util.h"

#include "keys.h"

#include "../src/common/fsutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char fuzz_manifest[] =
	"{\"format\":\"rombsr.public-bundle\",\"version\":1,\"created\":\"2026-11-22T06:06:37Z\",\"keys\":["
	"{\"label\":\"platform\",\"authority\":\"release\",\"algorithm\":\"rsa\",\"bits\":2048,"
	"\"pkcs11_id\":\"2b6947f86442d8fd\",\"spki_sha256\":\"" FUZZ_PLATFORM_SPKI "\","
	"\"certificate\":\"certs/platform.pem\",\"certificate_sha256\":\"" FUZZ_PLATFORM_CERT "\","
	"\"development\":false,\"purpose\":\"fuzz\",\"not_before\":\"2026-11-22T06:06:23Z\","
	"\"not_after\":\"2126-11-14T06:06:23Z\"},"
	"{\"label\":\"manifest\",\"authority\":\"manifest\",\"algorithm\":\"ec-p256\",\"bits\":256,"
	"\"pkcs11_id\":\"5d0f0c2e3b8e4b7c\",\"spki_sha256\":\"" FUZZ_MANIFEST_SPKI "\","
	"\"certificate\":\"certs/manifest.pem\",\"certificate_sha256\":\"" FUZZ_MANIFEST_CERT "\","
	"\"development\":false,\"purpose\":\"fuzz\",\"not_before\":\"2026-11-22T06:06:35Z\","
	"\"not_after\":\"2126-11-14T06:06:35Z\"}]}\n";

static char dir[256];

static void remove_dir(void)
{
	if (dir[0] != '\0')
		rombsr_remove_tree(dir);
}

const char *fuzz_dir(void)
{
	if (dir[0] == '\0') {
		/* bench/fuzz.sh points TMPDIR at tmpfs: the capture journal
		 * and the audit log fsync. */
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/rombsr-fuzz.XXXXXX", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(remove_dir);
	}
	return dir;
}

const char *fuzz_write(const char *name, const void *data, size_t size)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || rombsr_write_all(fd, data, size) < 0 || close(fd) < 0) {
		perror(path);
		abort();
	}
	return path;
}

const char *fuzz_bundle(void)
{
	static char path[384];
	char certs[400];

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "%s/bundle", fuzz_dir());
		snprintf(certs, sizeof(certs), "%s/certs", path);
		if (rombsr_mkdir_p(certs, 0700) < 0)
			abort();
		fuzz_write("bundle/certs/platform.pem", FUZZ_PLATFORM_PEM, strlen(FUZZ_PLATFORM_PEM));
		fuzz_write("bundle/certs/manifest.pem", FUZZ_MANIFEST_PEM, strlen(FUZZ_MANIFEST_PEM));
		/* platform's certificate under a retired label (hsm-rotate-keys) */
		fuzz_write("bundle/certs/platform@0123456789abcdef.pem", FUZZ_PLATFORM_PEM, strlen(FUZZ_PLATFORM_PEM));
		fuzz_write("bundle/manifest.json", fuzz_manifest, strlen(fuzz_manifest));
	}
	return path;
}

void fuzz_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz: %s\n", what);
		abort();
	}
}

void fuzz_same(const void *a, size_t alen, const void *b, size_t blen, const char *what)
{
	fuzz_check(alen == blen && memcmp(a, b, alen) == 0, what);
}

const struct rombsr_note_verifier *const *fuzz_audit_verifier(void)
{
	static struct rombsr_note_verifier *v;

	if (v == NULL)
		fuzz_check(rombsr_note_verifier_parse(FUZZ_AUDIT_VKEY, &v) == 0, "the audit vkey of keys.h does not parse");
	return (const struct rombsr_note_verifier *const *)&v;
}

void fuzz_codec_free(const struct fuzz_codec *c, void *value)
{
	if (value != NULL)
		c->release(value);
	free(value);
}

void *fuzz_round_trip(const struct fuzz_codec *c, const uint8_t *data, size_t size)
{
	void *value = calloc(1, c->value_size), *again = calloc(1, c->value_size);
	struct rombsr_buf text = {0}, text2 = {0};
	char what[128];

	fuzz_check(value != NULL && again != NULL, "out of memory");
	if (c->parse((const char *)data, size, value) < 0) {
		free(value);
		free(again);
		return NULL;
	}
	snprintf(what, sizeof(what), "%s: a parsed value does not encode", c->name);
	fuzz_check(c->encode(value, &text) == 0, what);
	snprintf(what, sizeof(what), "%s: the encoding of a parsed value does not parse", c->name);
	fuzz_check(c->parse((const char *)text.data, text.len, again) == 0, what);
	snprintf(what, sizeof(what), "%s: re-encoding fails", c->name);
	fuzz_check(c->encode(again, &text2) == 0, what);
	snprintf(what, sizeof(what), "%s: encoding is not stable", c->name);
	fuzz_same(text.data, text.len, text2.data, text2.len, what);
	fuzz_codec_free(c, again);
	rombsr_buf_free(&text);
	rombsr_buf_free(&text2);
	return value;
}
