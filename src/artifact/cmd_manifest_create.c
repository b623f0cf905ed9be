/* manifest create: the release manifest of a build's artifacts, signed
 * through PKCS#11 with the manifest authority's key
 * (docs/formats/release-manifest.md). On a build node the key is the
 * capture module's: the first run records the signing and writes the
 * manifest with the module's placeholder; the same command replayed by
 * `rombsr apply` writes the same bytes with the sign node's signature. */
#include "manifest_commands.h"

#include "../common/capture_format.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/json_strict.h"
#include "../common/keyset.h"
#include "../manifest/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_PRODUCT = 1, OPT_DEVICE, OPT_VERSION, OPT_ROLLBACK, OPT_TIME, OPT_OUT };

static const struct cli_option options[] = {
	ARTIFACT_KEY_OPTIONS,
	{"product", "NAME", "the product (required)", OPT_PRODUCT},
	{"device", "NAME", "the device (required)", OPT_DEVICE},
	{"version", "TEXT", "the release's version (required)", OPT_VERSION},
	{"rollback", "LOCATION=INDEX", "an AVB rollback index the release sets (repeatable)", OPT_ROLLBACK},
	{"time", "UNIX", "the release's time in seconds since 1970 (default: $SOURCE_DATE_EPOCH)", OPT_TIME},
	{"out", "FILE", "where to write the signed manifest (required)", OPT_OUT},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "manifest create --key URI --product P --device D --version V "
			    "[--rollback LOCATION=INDEX ...] [--time UNIX] --out FILE ARTIFACT...";

struct create_args {
	struct artifact_key_args key;
	const char *product, *device, *version, *time, *out;
};

static int take_rollback(struct rombsr_release_manifest *m, const char *spec)
{
	const char *eq = strchr(spec, '=');
	unsigned long location, index;
	char loc_text[16];
	int r;

	if (m->nrollback == ROMBSR_MANIFEST_MAX_ROLLBACK)
		return rombsr_error(ROMBSR_EINVAL, "--rollback: at most %d indexes", ROMBSR_MANIFEST_MAX_ROLLBACK);
	if (eq == NULL || (size_t)(eq - spec) >= sizeof(loc_text))
		return rombsr_error(ROMBSR_EINVAL, "--rollback '%s': not LOCATION=INDEX", spec);
	memcpy(loc_text, spec, (size_t)(eq - spec));
	loc_text[eq - spec] = '\0';
	r = cli_parse_uint(loc_text, ROMBSR_MANIFEST_MAX_ROLLBACK - 1, &location, "--rollback location");
	if (r == 0)
		r = cli_parse_uint(eq + 1, ROMBSR_MANIFEST_MAX_INDEX, &index, "--rollback index");
	if (r < 0)
		return r;
	m->rollback[m->nrollback++] = (struct rombsr_manifest_rollback){(uint32_t)location, index};
	return 0;
}

static int parse_options(struct cli_context *ctx, struct cli_parser *p, struct create_args *a,
			 struct rombsr_release_manifest *m)
{
	int id, r;

	while ((id = cli_next(p, usage)) > 0) {
		r = artifact_take_key_option(ctx, &a->key, id, p->value);
		if (r < 0)
			return r;
		if (r == 1)
			continue;
		switch (id) {
		case OPT_PRODUCT: a->product = p->value; break;
		case OPT_DEVICE: a->device = p->value; break;
		case OPT_VERSION: a->version = p->value; break;
		case OPT_TIME: a->time = p->value; break;
		case OPT_OUT: a->out = p->value; break;
		case OPT_ROLLBACK:
			if ((r = take_rollback(m, p->value)) < 0)
				return r;
			break;
		}
	}
	if (id < 0)
		return id;
	if (a->key.uri == NULL || a->product == NULL || a->device == NULL || a->version == NULL || a->out == NULL ||
	    p->index >= p->argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	return 0;
}

/* Never the clock: a replayed build must write the same bytes. */
static int release_time(const char *given, time_t *out)
{
	const char *text = given ? given : getenv("SOURCE_DATE_EPOCH");
	unsigned long t;
	int r;

	if (text == NULL)
		return rombsr_error(ROMBSR_EINVAL, "give the release's time with --time UNIX or SOURCE_DATE_EPOCH (never "
						   "the clock: a replayed build must write the same manifest)");
	r = cli_parse_uint(text, ROMBSR_MANIFEST_MAX_TIME, &t, given ? "--time" : "SOURCE_DATE_EPOCH");
	*out = (time_t)t;
	return r;
}

static int text_field(char *out, const char *value, const char *option)
{
	if (value[0] == '\0' || strlen(value) > ROMBSR_MANIFEST_TEXT_MAX)
		return rombsr_error(ROMBSR_EINVAL, "--%s: 1 to %d bytes", option, ROMBSR_MANIFEST_TEXT_MAX);
	snprintf(out, ROMBSR_MANIFEST_TEXT_MAX + 1, "%s", value);
	return 0;
}

/* Each artifact under its file name, hashed. */
static int read_artifacts(char **paths, size_t n, struct rombsr_release_manifest *m)
{
	int r;

	if (n > ROMBSR_MANIFEST_MAX_ARTIFACTS)
		return rombsr_error(ROMBSR_EINVAL, "%zu artifacts, more than %d", n, ROMBSR_MANIFEST_MAX_ARTIFACTS);
	m->artifacts = calloc(n, sizeof(*m->artifacts));
	if (m->artifacts == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct rombsr_artifact *a = &m->artifacts[i];
		const char *slash = strrchr(paths[i], '/');
		const char *name = slash ? slash + 1 : paths[i];

		if (strlen(name) > ROMBSR_NAME_MAX)
			return rombsr_error(ROMBSR_EINVAL, "artifact %s: a name of at most %d bytes", paths[i],
					    ROMBSR_NAME_MAX);
		r = rombsr_safe_name(name, paths[i]);
		if (r < 0)
			return r;
		snprintf(a->name, sizeof(a->name), "%s", name);
		r = rombsr_file_sha256(paths[i], a->sha256, &a->size);
		if (r < 0)
			return rombsr_error_wrap(r, "artifact");
		m->nartifacts = i + 1;
	}
	return 0;
}

/* The key's label is only what the token says; what makes the separation
 * hold is the sign node (a manifest request reaches only the manifest
 * authority's token) and the verifier, which trusts that key only. This
 * check stops the honest mistake early. */
static int manifest_key(struct rombsr_p11_key *key, EVP_PKEY **pub)
{
	const char *label = rombsr_p11_key_label(key);
	const struct rombsr_keyset_entry *e = rombsr_keyset_find(label);
	int r;

	*pub = NULL;
	if (e != NULL && e->authority != ROMBSR_AUTHORITY_MANIFEST)
		return rombsr_error(ROMBSR_EPERM, "key '%s' belongs to the %s authority: a release manifest is signed "
						  "by the manifest authority's key only", label,
				    rombsr_authority_name(e->authority));
	if (e == NULL)
		return rombsr_error(ROMBSR_EPERM, "key '%s' is not in the key set: a release manifest is signed by the "
						  "manifest authority's key ('manifest') only", label);
	r = rombsr_p11_key_public(key, pub);
	if (r == 0)
		r = rombsr_manifest_key_check(*pub, "the key");
	return r;
}

/* Signs the manifest and checks the result as `manifest verify` would; in
 * capture mode the signature is a placeholder, kept until the replay.
 * CKM_ECDSA over the SHA-256 of the signed bytes rather than
 * CKM_ECDSA_SHA256: the token sees 32 bytes, never the whole manifest,
 * every token has it (SoftHSM2 2.6 has no CKM_ECDSA_SHA256), and the sign
 * node signs exactly that digest with CKM_ECDSA in either case. */
static int sign_manifest(struct rombsr_p11_key *key, EVP_PKEY *pub, const struct rombsr_buf *payload,
			 struct rombsr_buf *out)
{
	struct rombsr_release_manifest back = {0};
	struct rombsr_buf pae = {0}, sig = {0};
	unsigned char digest[32];
	int r = rombsr_manifest_pae(payload->data, payload->len, &pae);

	if (r == 0 && EVP_Digest(pae.data, pae.len, digest, NULL, EVP_sha256(), NULL) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of the manifest");
	if (r == 0)
		r = rombsr_p11_key_sign(key, CKM_ECDSA, digest, sizeof(digest), &sig);
	if (r == 0)
		r = rombsr_manifest_seal(payload, pub, sig.data, sig.len, out);
	if (r == 0)
		r = rombsr_release_manifest_open((const char *)out->data, out->len, pub, &back);
	if (r == ROMBSR_ESECURITY && rombsr_cap_is_placeholder(sig.data, sig.len)) {
		rombsr_error_clear();
		r = 0;
		cli_info("manifest create: captured: the signature is the capture module's placeholder until the "
			 "signing request is applied");
	} else if (r == ROMBSR_ESECURITY) {
		r = rombsr_error_wrap(r, "the token's signature");
	}
	rombsr_release_manifest_free(&back);
	rombsr_buf_free(&pae);
	rombsr_buf_free(&sig);
	return r;
}

int cmd_manifest_create(struct cli_context *ctx, int argc, char **argv)
{
	struct rombsr_release_manifest m = {0};
	struct rombsr_buf payload = {0}, envelope = {0};
	struct rombsr_p11_key *key = NULL;
	struct create_args a = {0};
	EVP_PKEY *pub = NULL;
	struct cli_parser p;
	int r;

	cli_parser_init(&p, options, argc, argv);
	r = parse_options(ctx, &p, &a, &m);
	if (r == 0)
		r = release_time(a.time, &m.time);
	if (r == 0)
		r = text_field(m.product, a.product, "product");
	if (r == 0)
		r = text_field(m.device, a.device, "device");
	if (r == 0)
		r = text_field(m.release_version, a.version, "version");
	if (r == 0)
		r = read_artifacts(argv + p.index, (size_t)(argc - p.index), &m);
	if (r == 0)
		r = rombsr_release_manifest_sort(&m);
	if (r == 0)
		r = rombsr_release_manifest_encode(&m, &payload);
	if (r == 0)
		r = artifact_open_key(ctx, &a.key, &key);
	if (r == 0)
		r = manifest_key(key, &pub);
	if (r == 0)
		r = sign_manifest(key, pub, &payload, &envelope);
	if (r == 0)
		r = rombsr_file_write_atomic(a.out, envelope.data, envelope.len, 0644, false);
	EVP_PKEY_free(pub);
	rombsr_p11_key_close(key);
	rombsr_buf_free(&payload);
	rombsr_buf_free(&envelope);
	rombsr_release_manifest_free(&m);
	return r;
}
