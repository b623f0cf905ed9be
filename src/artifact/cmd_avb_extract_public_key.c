/* avb extract-public-key: the AVB public key blob of a key, as a chain
 * partition descriptor or a device's root of trust holds it. The key comes
 * from the token (--key) or from a PEM public key or certificate. */
#include "avb_commands.h"

#include "../avb/pubkey_blob.h"
#include "../common/error.h"
#include "../common/fsutil.h"


enum { OPT_OUTPUT = 1, OPT_PEM };

static const struct cli_option options[] = {
	ARTIFACT_KEY_OPTIONS,
	{"pem", "FILE", "read the public key from a PEM public key or certificate instead", OPT_PEM},
	{"output", "FILE", "where to write the blob (required)", OPT_OUTPUT},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "avb extract-public-key (--key URI | --pem FILE) --output FILE";

int cmd_avb_extract_public_key(struct cli_context *ctx, int argc, char **argv)
{
	struct artifact_key_args key_args = {0};
	struct rombsr_p11_key *key = NULL;
	const char *output = NULL, *pem = NULL;
	struct rombsr_buf blob;
	EVP_PKEY *pub = NULL;
	struct cli_parser p;
	int id, r;

	rombsr_buf_init(&blob, 4096);
	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, usage)) > 0) {
		r = artifact_take_key_option(ctx, &key_args, id, p.value);
		if (r < 0)
			return r;
		if (r == 0 && id == OPT_OUTPUT)
			output = p.value;
		else if (r == 0 && id == OPT_PEM)
			pem = p.value;
	}
	if (id < 0)
		return id;
	if (output == NULL || (pem == NULL) == (key_args.uri == NULL))
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	r = pem ? artifact_key_from_pem(pem, &pub) : artifact_open_key(ctx, &key_args, &key);
	if (r == 0 && key != NULL)
		r = rombsr_p11_key_public(key, &pub);
	if (r == 0)
		r = rombsr_avb_pubkey_blob(pub, &blob);
	if (r == 0)
		r = rombsr_buf_check(&blob, "public key blob");
	if (r == 0)
		r = rombsr_file_write_atomic(output, blob.data, blob.len, 0644, false);
	EVP_PKEY_free(pub);
	rombsr_p11_key_close(key);
	rombsr_buf_free(&blob);
	return r;
}
