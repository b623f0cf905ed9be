/* ota verify: checks an OTA package's whole-file signature as recovery does
 * (footer, EOCD record, CMS) against a certificate: a PEM file, or a key
 * of the public bundle. Exit 3 when the package carries no valid
 * signature by that certificate. */
#include "ota_commands.h"

#include "../common/bundle.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../ota/cms.h"
#include "../ota/zip.h"

#include <openssl/pem.h>
#include <stdio.h>

enum { OPT_IN = 1, OPT_CERT, OPT_BUNDLE, OPT_LABEL };

static const struct cli_option options[] = {
	{"in", "FILE", "the signed OTA zip (required)", OPT_IN},
	{"cert", "PEM", "the signer's certificate", OPT_CERT},
	{"bundle", "DIR", "take the signer's certificate from this public bundle instead", OPT_BUNDLE},
	{"label", "LABEL", "the bundle key that must have signed (default ota_key)", OPT_LABEL},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "ota verify (--cert PEM | --bundle DIR [--label ota_key]) --in signed.zip";

static int cert_from_pem(const char *path, X509 **out)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return rombsr_error(ROMBSR_ENOTFOUND, "%s: cannot open", path);
	*out = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL)
		return rombsr_error_openssl(ROMBSR_EINVAL, "%s holds no PEM certificate", path);
	return 0;
}

static int cert_from_bundle(const char *dir, const char *label, X509 **out)
{
	struct rombsr_bundle bundle = {0};
	const struct rombsr_bundle_key *k;
	int r = rombsr_bundle_load(dir, &bundle);

	if (r < 0)
		return r;
	k = rombsr_bundle_find_label(&bundle, label);
	if (k == NULL)
		r = rombsr_error(ROMBSR_ENOTFOUND, "the bundle %s has no key '%s'", dir, label);
	else if (X509_up_ref(k->certificate) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "certificate of '%s'", label);
	else
		*out = k->certificate;
	rombsr_bundle_free(&bundle);
	return r;
}

int cmd_ota_verify(struct cli_context *ctx, int argc, char **argv)
{
	const char *in = NULL, *pem = NULL, *bundle = NULL, *label = NULL;
	struct rombsr_ota_layout layout;
	struct cli_parser p;
	struct rombsr_buf zip;
	X509 *cert = NULL;
	char subject[256];
	int id, r;

	(void)ctx;
	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, usage)) > 0) {
		if (id == OPT_IN)
			in = p.value;
		else if (id == OPT_CERT)
			pem = p.value;
		else if (id == OPT_BUNDLE)
			bundle = p.value;
		else if (id == OPT_LABEL)
			label = p.value;
	}
	if (id < 0)
		return id;
	if (in == NULL || (pem == NULL) == (bundle == NULL) || (label != NULL && bundle == NULL) || p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	r = pem ? cert_from_pem(pem, &cert) : cert_from_bundle(bundle, label ? label : "ota_key", &cert);
	if (r < 0)
		return r;
	r = rombsr_file_read(in, ROMBSR_OTA_MAX_SIZE, &zip);
	if (r == 0)
		r = rombsr_ota_verify(zip.data, zip.len, cert);
	if (r == 0)
		r = rombsr_ota_layout_parse(zip.data, zip.len, &layout);
	if (r == 0) {
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
		printf("ok: %s: whole-file signature by %s over %zu bytes\n", in, subject, layout.signed_len);
	} else if (r == ROMBSR_ESECURITY) {
		r = rombsr_error_wrap(r, "%s", in);
	}
	rombsr_buf_free(&zip);
	X509_free(cert);
	return r;
}
