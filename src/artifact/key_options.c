#include "artifact.h"

#include "../common/error.h"

#include <openssl/pem.h>
#include <stdio.h>

int artifact_take_key_option(struct cli_context *ctx, struct artifact_key_args *args, int id, const char *value)
{
	int r;

	switch (id) {
	case ARTIFACT_OPT_KEY:
		args->uri = value;
		return 1;
	case ARTIFACT_OPT_MODULE:
		args->module = value;
		return 1;
	case CLI_OPT_PIN_FILE:
	case CLI_OPT_PIN_FD:
		r = cli_take_pin_option(ctx, id, value);
		return r < 0 ? r : 1;
	default:
		return 0;
	}
}

int artifact_open_key(const struct cli_context *ctx, const struct artifact_key_args *args,
		      struct rombsr_p11_key **out)
{
	struct rombsr_p11_key_options opts = {
		.module_path = args->module,
		.pin_file = ctx->pin_file,
		.pin_fd = ctx->pin_fd,
	};

	if (args->uri == NULL)
		return rombsr_error(ROMBSR_EINVAL, "name the signing key with --key URI");
	return rombsr_p11_key_open(args->uri, &opts, out);
}

int artifact_key_from_pem(const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");
	X509 *cert;

	if (f == NULL)
		return rombsr_error(ROMBSR_ENOTFOUND, "%s: cannot open", path);
	*out = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (*out == NULL) {
		rewind(f);
		cert = PEM_read_X509(f, NULL, NULL, NULL);
		if (cert != NULL)
			*out = X509_get_pubkey(cert);
		X509_free(cert);
	}
	fclose(f);
	if (*out == NULL)
		return rombsr_error_openssl(ROMBSR_EINVAL, "%s holds no PEM public key or certificate", path);
	return 0;
}
