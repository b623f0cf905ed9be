/* manifest verify: a release manifest checked against the manifest
 * authority's key only, then (with --artifacts) against the files it names.
 * Any failure of the document or the files is a security failure (exit 3). */
#include "manifest_commands.h"

#include "../common/bundle.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../common/json_strict.h"
#include "../manifest/envelope.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_CERT = 1, OPT_BUNDLE, OPT_LABEL, OPT_IN, OPT_ARTIFACTS };

static const struct cli_option options[] = {
	{"cert", "PEM", "the manifest key: a PEM certificate or public key", OPT_CERT},
	{"bundle", "DIR", "the manifest key from a public bundle (rombsr-sign export-public)", OPT_BUNDLE},
	{"label", "LABEL", "the bundle key (default: manifest); it must be of the manifest authority", OPT_LABEL},
	{"in", "FILE", "the signed manifest (required)", OPT_IN},
	{"artifacts", "DIR", "also check every artifact, found in DIR by its name", OPT_ARTIFACTS},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "manifest verify (--cert PEM | --bundle DIR [--label manifest]) --in FILE "
			    "[--artifacts DIR]";

/* The bundle says which authority each key belongs to; only the manifest
 * authority's key may vouch for a release manifest. */
static int key_from_bundle(const char *dir, const char *label, EVP_PKEY **out)
{
	struct rombsr_bundle b = {0};
	const struct rombsr_bundle_key *k;
	int r = rombsr_bundle_load(dir, &b);

	if (r < 0)
		return r;
	k = rombsr_bundle_find_label(&b, label);
	if (k == NULL)
		r = rombsr_error(ROMBSR_ENOTFOUND, "%s: the bundle has no key '%s'", dir, label);
	else if (strcmp(k->authority, "manifest") != 0)
		r = rombsr_error(ROMBSR_EPERM, "key '%s' belongs to the %s authority: a release manifest verifies only "
					       "with the manifest authority's key", label, k->authority);
	else if (EVP_PKEY_up_ref(k->public_key) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot hold the key of '%s'", label);
	else
		*out = k->public_key;
	rombsr_bundle_free(&b);
	return r;
}

static int check_artifacts(const struct rombsr_release_manifest *m, const char *dir)
{
	char path[4096], hex[65];
	unsigned char md[32];
	uint64_t size;
	int r;

	for (size_t i = 0; i < m->nartifacts; i++) {
		const struct rombsr_artifact *a = &m->artifacts[i];

		r = rombsr_path_format(path, sizeof(path), "%s/%s", dir, a->name);
		if (r < 0)
			return r;
		r = rombsr_file_sha256(path, md, &size);
		if (r == ROMBSR_ENOTFOUND)
			return rombsr_error(ROMBSR_ESECURITY, "artifact '%s' is missing from %s", a->name, dir);
		if (r < 0)
			return r;
		rombsr_hex_encode(md, sizeof(md), hex);
		if (size != a->size || CRYPTO_memcmp(md, a->sha256, sizeof(md)) != 0)
			return rombsr_error(ROMBSR_ESECURITY, "artifact '%s' differs from the manifest: %s has SHA-256 "
							      "%.16s... and %llu bytes", a->name, path, hex,
					    (unsigned long long)size);
	}
	return 0;
}

static void print_summary(const struct rombsr_release_manifest *m, const char *keyid, const char *artifacts)
{
	char time_text[21];

	rombsr_time_format(m->time, time_text);
	printf("release manifest ok: product %s, device %s, version %s, %s\n", m->product, m->device,
	       m->release_version, time_text);
	printf("signed by the manifest key %s\n", keyid);
	printf("%zu artifact%s, %zu rollback index%s", m->nartifacts, m->nartifacts == 1 ? "" : "s", m->nrollback,
	       m->nrollback == 1 ? "" : "es");
	if (artifacts != NULL)
		printf("; every artifact matches %s", artifacts);
	printf("\n");
}

static int parse_options(struct cli_parser *p, const char **cert, const char **bundle, const char **label,
			 const char **in, const char **artifacts)
{
	int id;

	while ((id = cli_next(p, usage)) > 0) {
		switch (id) {
		case OPT_CERT: *cert = p->value; break;
		case OPT_BUNDLE: *bundle = p->value; break;
		case OPT_LABEL: *label = p->value; break;
		case OPT_IN: *in = p->value; break;
		case OPT_ARTIFACTS: *artifacts = p->value; break;
		}
	}
	if (id < 0)
		return id;
	if (*in == NULL || (*cert == NULL) == (*bundle == NULL) || (*label != NULL && *bundle == NULL) ||
	    p->index != p->argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	return 0;
}

int cmd_manifest_verify(struct cli_context *ctx, int argc, char **argv)
{
	const char *cert = NULL, *bundle = NULL, *label = NULL, *in = NULL, *artifacts = NULL;
	struct rombsr_release_manifest m = {0};
	struct rombsr_buf text = {0};
	EVP_PKEY *pub = NULL;
	struct cli_parser p;
	char keyid[65];
	int r;

	(void)ctx;
	cli_parser_init(&p, options, argc, argv);
	r = parse_options(&p, &cert, &bundle, &label, &in, &artifacts);
	if (r < 0)
		return r;
	r = cert ? artifact_key_from_pem(cert, &pub) : key_from_bundle(bundle, label ? label : "manifest", &pub);
	if (r == 0)
		r = rombsr_manifest_key_check(pub, cert ? cert : "the bundle key");
	if (r == 0)
		r = rombsr_pubkey_spki_sha256(pub, keyid);
	if (r == 0) {
		/* A document too large for any manifest is refused as one. */
		r = rombsr_file_read(in, ROMBSR_MANIFEST_ENVELOPE_MAX, &text);
		if (r == ROMBSR_EINVAL)
			r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "%s", in);
		else if (r == 0)
			r = rombsr_release_manifest_open((const char *)text.data, text.len, pub, &m);
		if (r == ROMBSR_ESECURITY)
			r = rombsr_error_wrap(r, "%s", in);
	}
	if (r == 0 && artifacts != NULL)
		r = check_artifacts(&m, artifacts);
	if (r == 0)
		print_summary(&m, keyid, artifacts);
	rombsr_release_manifest_free(&m);
	rombsr_buf_free(&text);
	EVP_PKEY_free(pub);
	return r;
}
