/* POST /sign/tegra/uefi (docs/server.md): digsigserver's UEFI route for
 * NVIDIA Jetson (meta-tegra's tegra-uefi-signing.bbclass). signing_type
 * sbsign: an Authenticode-signed EFI binary (sbsign); signature: a
 * detached DER CMS signature (L4TLauncher's .sig); attach_signature: the
 * file padded to a multiple of 2048 bytes, then that signature. Both sign
 * signed attributes with a signingTime, so every run is under a clock
 * frozen at the call's start (libfaketime): each round signs the same bytes
 * (docs/bootchain-tools.md (b)). */
#define _GNU_SOURCE
#include "route_internal.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SBSIGN "/usr/bin/sbsign"
#define OPENSSL "/usr/bin/openssl"
/* meta-tegra's truncate --size=%2048 */
#define ATTACH_ALIGN 2048

static int prepare(struct rombsr_route_job *j)
{
	static const char *const types[] = {"sbsign", "signature", "attach_signature"};
	const char *machine = route_text(j, "machine"), *type = route_text(j, "signing_type");
	time_t now = time(NULL);
	struct tm tm;

	if (machine == NULL || machine[0] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "the form has no field 'machine'");
	if (strspn(machine, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(machine))
		return rombsr_error(ROMBSR_EINVAL, "machine: only letters, digits, '.', '_' and '-'");
	if (type == NULL || type[0] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "the form has no field 'signing_type'");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			snprintf(j->hash, sizeof(j->hash), "%s", type);
	if (j->hash[0] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "signing_type: '%.32s' is not sbsign, signature or attach_signature", type);
	gmtime_r(&now, &tm);
	strftime(j->frozen, sizeof(j->frozen), "%Y-%m-%d %H:%M:%S", &tm);
	return 0;
}

static int capture(struct rombsr_route_job *j)
{
	char uri[512], cert[4096], in[4096];
	int r = route_key_uri(j, uri, sizeof(uri));

	if (r == 0)
		r = route_cert(j, cert, sizeof(cert));
	if (r == 0)
		r = route_file_path(j, "artifact", in, sizeof(in));
	if (r == 0 && strcmp(j->hash, "sbsign") == 0) {
		const char *argv[] = {SBSIGN, "--engine", "pkcs11", "--key", uri, "--cert",
				      cert, "--output", "artifact.signed", in, NULL};

		r = route_run_frozen(j, argv);
	} else if (r == 0) {
		const char *argv[] = {OPENSSL, "cms", "-sign", "-engine", "pkcs11", "-keyform",
				      "engine", "-inkey", uri, "-signer", cert, "-binary", "-in", in, "-md", "sha256",
				      "-outform", "DER", "-out", "artifact.sig", NULL};

		r = route_run_frozen(j, argv);
	}
	return r;
}

static int finish(struct rombsr_route_job *j, struct rombsr_route_result *res)
{
	static const unsigned char zeros[ATTACH_ALIGN];
	struct rombsr_buf sig;
	char in[4096];
	int r;

	if (strcmp(j->hash, "sbsign") == 0)
		return route_answer_file(j, "artifact.signed", "artifact.signed", res);
	if (strcmp(j->hash, "signature") == 0)
		return route_answer_file(j, "artifact.sig", "artifact.signed", res);
	r = route_answer_file(j, "artifact.sig", "artifact.signed", res);
	if (r < 0)
		return r;
	sig = res->body;
	memset(&res->body, 0, sizeof(res->body));
	r = route_file_path(j, "artifact", in, sizeof(in));
	if (r == 0)
		r = rombsr_file_read(in, j->env->cfg->server_max_body, &res->body);
	if (r == 0) {
		res->body.max = res->body.len + ATTACH_ALIGN + sig.len;
		rombsr_buf_append(&res->body, zeros, (ATTACH_ALIGN - res->body.len % ATTACH_ALIGN) % ATTACH_ALIGN);
		rombsr_buf_append(&res->body, sig.data, sig.len);
		r = rombsr_buf_check(&res->body, "the signed artifact");
	}
	rombsr_buf_free(&sig);
	return r;
}

const struct route_def rombsr_route_uefi = {
	.path = "/sign/tegra/uefi",
	.files = {"artifact", NULL},
	.texts = {"machine", "signing_type", NULL},
	.prepare = prepare,
	.capture = capture,
	.finish = finish,
};
