/* ota sign: the whole-file signature of an OTA package, as `signapk -w`
 * makes it, with a key in a PKCS#11 token. Debian's signapk reads keys from
 * files only; through the capture module this command is captured and
 * replayed like any other tool (docs/ota.md). */
#include "ota_commands.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../ota/cms.h"
#include "../ota/zip.h"

enum { OPT_IN = 1, OPT_OUT };

static const struct cli_option options[] = {
	ARTIFACT_KEY_OPTIONS,
	{"in", "FILE", "the unsigned OTA zip (without a zip comment; required)", OPT_IN},
	{"out", "FILE", "where to write the signed zip (required; written atomically)", OPT_OUT},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "ota sign --key URI [--module PATH] --in unsigned.zip --out signed.zip";

/* Signs the bytes the whole-file signature covers and wraps the
 * signature in the CMS SignedData. */
static int sign_package(struct rombsr_p11_key *key, const struct rombsr_buf *zip, size_t signed_len,
	struct rombsr_buf *cms)
{
	struct rombsr_buf sig;
	X509 *cert = NULL;
	int r;

	rombsr_buf_init(&sig, 0);
	r = rombsr_p11_key_certificate(key, &cert);
	if (r == 0 && EVP_PKEY_get_base_id(X509_get0_pubkey(cert)) != EVP_PKEY_RSA)
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "key '%s' is not RSA: the whole-file signature is SHA-256 "
						      "with RSA", rombsr_p11_key_label(key));
	/* The module hashes: a capture journal holds the digest, never the package. */
	if (r == 0)
		r = rombsr_p11_key_sign(key, CKM_SHA256_RSA_PKCS, zip->data, signed_len, &sig);
	if (r == 0)
		r = rombsr_ota_cms_build(cert, sig.data, sig.len, cms);
	X509_free(cert);
	rombsr_buf_free(&sig);
	return r;
}

int cmd_ota_sign(struct cli_context *ctx, int argc, char **argv)
{
	struct artifact_key_args key_args = {0};
	struct rombsr_p11_key *key = NULL;
	const char *in = NULL, *out_path = NULL;
	struct rombsr_buf zip, cms;
	struct cli_parser p;
	size_t eocd;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, usage)) > 0) {
		r = artifact_take_key_option(ctx, &key_args, id, p.value);
		if (r < 0)
			return r;
		if (r == 0 && id == OPT_IN)
			in = p.value;
		else if (r == 0 && id == OPT_OUT)
			out_path = p.value;
	}
	if (id < 0)
		return id;
	if (in == NULL || out_path == NULL || p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	rombsr_buf_init(&cms, 0);
	r = rombsr_file_read(in, ROMBSR_OTA_MAX_SIZE, &zip);
	if (r < 0)
		return r;
	r = rombsr_ota_unsigned_eocd(zip.data, zip.len, &eocd);
	if (r < 0) {
		r = rombsr_error_wrap(r, "%s", in);
		goto out;
	}
	r = artifact_open_key(ctx, &key_args, &key);
	if (r == 0)
		r = sign_package(key, &zip, eocd + ROMBSR_OTA_EOCD_COMMENT_LEN, &cms);
	if (r == 0)
		r = rombsr_ota_append_signature(&zip, eocd, cms.data, cms.len);
	if (r == 0)
		r = rombsr_file_write_atomic(out_path, zip.data, zip.len, 0644, false);
out:
	rombsr_p11_key_close(key);
	rombsr_buf_free(&cms);
	rombsr_buf_free(&zip);
	return r;
}
