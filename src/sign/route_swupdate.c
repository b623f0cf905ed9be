/* POST /sign/swupdate (docs/server.md): digsigserver's SWUpdate route.
 * method CMS (the default): openssl cms as swugenerator and meta-swupdate
 * sign, plus -noattr so the bytes signed are the same every round
 * (docs/bootchain-tools.md (d)); method RSA: openssl dgst -sign, a raw
 * PKCS#1 v1.5 signature of the SHA-256. The answer is sw-description.sig. */
#define _GNU_SOURCE
#include "route_internal.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

#define OPENSSL "/usr/bin/openssl"

static int prepare(struct rombsr_route_job *j)
{
	const char *distro = route_text(j, "distro"), *method = route_text(j, "method");

	if (distro == NULL || distro[0] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "the form has no field 'distro'");
	if (strspn(distro, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(distro))
		return rombsr_error(ROMBSR_EINVAL, "distro: only letters, digits, '.', '_' and '-'");
	if (method == NULL || method[0] == '\0')
		method = "CMS";
	if (strcmp(method, "CMS") != 0 && strcmp(method, "RSA") != 0)
		return rombsr_error(ROMBSR_EINVAL, "method: '%.16s' is not RSA or CMS", method);
	snprintf(j->hash, sizeof(j->hash), "%s", method);
	return 0;
}

static int capture(struct rombsr_route_job *j)
{
	char uri[512], cert[4096], in[4096];
	int r = route_key_uri(j, uri, sizeof(uri));

	if (r == 0)
		r = route_cert(j, cert, sizeof(cert));
	if (r == 0)
		r = route_file_path(j, "sw-description", in, sizeof(in));
	if (r == 0 && strcmp(j->hash, "CMS") == 0) {
		const char *argv[] = {OPENSSL, "cms", "-sign", "-engine", "pkcs11", "-keyform", "engine", "-inkey", uri,
				      "-signer", cert, "-in", in, "-md", "sha256", "-outform", "DER", "-nosmimecap",
				      "-binary", "-noattr", "-out", "sw-description.sig", NULL};

		r = route_run(j, argv);
	} else if (r == 0) {
		const char *argv[] = {OPENSSL, "dgst", "-sha256", "-engine", "pkcs11", "-keyform", "engine", "-sign",
				      uri, "-out", "sw-description.sig", in, NULL};

		r = route_run(j, argv);
	}
	return r;
}

static int finish(struct rombsr_route_job *j, struct rombsr_route_result *res)
{
	return route_answer_file(j, "sw-description.sig", "sw-description.sig", res);
}

const struct route_def rombsr_route_swupdate = {
	.path = "/sign/swupdate",
	.files = {"sw-description", NULL},
	.texts = {"distro", "method", NULL},
	.prepare = prepare,
	.capture = capture,
	.finish = finish,
};
