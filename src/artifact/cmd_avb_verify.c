/* avb verify: the whole chain from the top vbmeta (avb/chain_verify.h),
 * against the root key the device trusts. */
#include "avb_commands.h"

#include "../avb/chain_verify.h"
#include "../avb/pubkey_blob.h"
#include "../common/error.h"
#include "../common/fsutil.h"

#include <libgen.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

enum { OPT_IMAGE = 1, OPT_KEY, OPT_FOLDER, OPT_QUIET };

static const struct cli_option options[] = {
	{"image", "FILE", "the top vbmeta image, or a partition image with a footer (required)", OPT_IMAGE},
	{"key", "FILE", "the root key the device trusts: a PEM public key or certificate, or an AVB public "
			"key blob (required)", OPT_KEY},
	{"images", "DIR", "where the partition images are, as <partition>.img (default: beside --image)",
	 OPT_FOLDER},
	{"quiet", NULL, "print nothing on success", OPT_QUIET},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "avb verify --image FILE --key FILE [--images DIR]";

static int load_key(const char *path, EVP_PKEY **out)
{
	struct rombsr_buf data;
	BIO *bio = NULL;
	X509 *cert = NULL;
	int r = rombsr_file_read(path, 64 * 1024, &data);

	*out = NULL;
	if (r < 0)
		return r;
	if (strstr(rombsr_buf_cstr(&data), "-----BEGIN") != NULL) {
		bio = BIO_new_mem_buf(data.data, (int)data.len);
		if (bio != NULL && (*out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL &&
		    BIO_reset(bio) == 1 && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
			*out = X509_get_pubkey(cert);
		r = *out ? 0 : rombsr_error_openssl(ROMBSR_EINVAL, "%s: no PEM public key or certificate", path);
	} else {
		r = rombsr_avb_pubkey_parse(data.data, data.len, out);
		if (r < 0)
			r = rombsr_error_wrap(r, "%s (neither PEM nor an AVB public key blob)", path);
	}
	X509_free(cert);
	BIO_free(bio);
	rombsr_buf_free(&data);
	return r;
}

static void print_line(void *ctx, const char *line)
{
	(void)ctx;
	printf("ok: %s\n", line);
}

int cmd_avb_verify(struct cli_context *ctx, int argc, char **argv)
{
	const char *image = NULL, *key_path = NULL, *folder = NULL;
	char image_dir[PATH_MAX];
	bool quiet = false;
	EVP_PKEY *key = NULL;
	struct cli_parser p;
	int id, r;

	(void)ctx;
	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, usage)) > 0) {
		if (id == OPT_IMAGE)
			image = p.value;
		else if (id == OPT_KEY)
			key_path = p.value;
		else if (id == OPT_FOLDER)
			folder = p.value;
		else if (id == OPT_QUIET)
			quiet = true;
	}
	if (id < 0)
		return id;
	if (image == NULL || key_path == NULL || p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s", usage);
	if (folder == NULL) {
		r = rombsr_path_format(image_dir, sizeof(image_dir), "%s", image);
		if (r < 0)
			return r;
		folder = dirname(image_dir);
	}
	r = load_key(key_path, &key);
	if (r == 0)
		r = rombsr_avb_verify_chain(image, folder, key, quiet ? NULL : print_line, NULL);
	if (r == 0 && !quiet)
		printf("verified: %s and every partition it covers\n", image);
	EVP_PKEY_free(key);
	return r;
}
