/* rombsr-avb-signing-helper: AOSP avbtool's --signing_helper and
 * --signing_helper_with_files, signing through a PKCS#11 token, so that
 * teams that keep avbtool get the capture, submit, apply and replay flow
 * (docs/avb.md, "avbtool's signing helper").
 *
 *   helper ALGORITHM KEY_PATH          block on stdin, signature on stdout
 *   helper ALGORITHM KEY_PATH FILE     block in FILE, replaced by the signature
 *
 * The block is what avbtool would hand `openssl rsautl -raw`: PKCS#1 v1.5
 * padding, DigestInfo and hash, exactly the key's size. KEY_PATH is the
 * public key avbtool was given with --key (a PEM public key or
 * certificate); the token key is the one with that public key, on the
 * token ROMBSR_AVB_HELPER_URI names (an RFC 7512 URI with module-path=).
 * The helper signs nothing but a well-formed block of the algorithm's hash:
 * a raw RSA operation over arbitrary bytes is never asked of the token. */
/* secure_getenv */
#define _GNU_SOURCE

#include "../avb/vbmeta.h"
#include "../common/capture_format.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../p11client/p11_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROGRAM "rombsr-avb-signing-helper"

static int load_public_key(const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");
	X509 *cert = NULL;
	char line[128];

	*out = NULL;
	if (f == NULL)
		return rombsr_error(ROMBSR_ENOTFOUND, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "PRIVATE KEY-----") != NULL) {
			fclose(f);
			return rombsr_error(ROMBSR_EPERM, "%s holds a private key: give avbtool --key the public key "
							  "(rombsr-sign export-public); a build node holds no private key",
					    path);
		}
	rewind(f);
	*out = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (*out == NULL) {
		rewind(f);
		cert = PEM_read_X509(f, NULL, NULL, NULL);
		*out = cert ? X509_get_pubkey(cert) : NULL;
		X509_free(cert);
	}
	fclose(f);
	if (*out == NULL)
		return rombsr_error_openssl(ROMBSR_EINVAL, "%s: no PEM public key or certificate", path);
	return 0;
}

/* 00 01 FF … FF 00 DigestInfo(hash) of the algorithm's hash and size. */
static int check_block(const struct rombsr_avb_algorithm_info *alg, const unsigned char *block, size_t len)
{
	unsigned char info[19 + ROMBSR_AVB_MAX_DIGEST];
	size_t info_len, ff;
	int r;

	if (len != alg->signature_size)
		return rombsr_error(ROMBSR_EINVAL, "%s takes a %zu-byte block, %zu given", alg->name,
				    alg->signature_size, len);
	r = rombsr_cap_digest_info(alg->digest, block + len - alg->hash_size, alg->hash_size, info, &info_len);
	if (r < 0)
		return r;
	ff = len - 3 - info_len;
	if (block[0] != 0 || block[1] != 1 || block[2 + ff] != 0 || memcmp(block + 3 + ff, info, info_len) != 0)
		return rombsr_error(ROMBSR_EPERM, "the block is not a PKCS#1 v1.5 %s block: refused", alg->digest);
	for (size_t i = 0; i < ff; i++)
		if (block[2 + i] != 0xff)
			return rombsr_error(ROMBSR_EPERM, "the block is not a PKCS#1 v1.5 %s block: refused", alg->digest);
	return 0;
}

/* The signature, when real, must give the block back under the public key. */
static int check_signature(EVP_PKEY *pub, const struct rombsr_buf *sig, const unsigned char *block, size_t len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	unsigned char *out = malloc(len);
	size_t out_len = len;
	int ok = ctx != NULL && out != NULL && EVP_PKEY_verify_recover_init(ctx) > 0 &&
		 EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0 &&
		 EVP_PKEY_verify_recover(ctx, out, &out_len, sig->data, sig->len) > 0;
	int r = 0;

	if (!ok)
		r = rombsr_error_openssl(ROMBSR_ESECURITY, "the token's signature does not verify");
	else if (out_len != len || CRYPTO_memcmp(out, block, len) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "the token's signature is not over the block");
	free(out);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int sign_block(const char *uri, EVP_PKEY *pub, const unsigned char *block, size_t len,
		      struct rombsr_buf *sig)
{
	struct rombsr_p11_key_options opts = {.pin_fd = -1, .match_public = pub};
	struct rombsr_p11_key *key = NULL;
	int r = rombsr_p11_key_open(uri, &opts, &key);

	if (r < 0)
		return r;
	r = rombsr_p11_key_sign(key, CKM_RSA_X_509, block, len, sig);
	if (r < 0 && rombsr_p11_key_replays(key))
		r = rombsr_error_wrap(r, "this block was never signed (no signature for it in the replay set: capture "
					 "the build, submit the journal and apply the response first)");
	if (r == 0 && !rombsr_p11_key_answers_placeholders(key))
		r = check_signature(pub, sig, block, len);
	rombsr_p11_key_close(key);
	return r;
}

/* avbtool reads the signature back through the file it keeps open, so the
 * file is rewritten in place, never replaced by a rename. */
static int write_in_place(const char *path, const struct rombsr_buf *sig)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	int r = 0;

	if (fd < 0)
		return rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
	if (rombsr_write_all(fd, sig->data, sig->len) != 0)
		r = rombsr_error(ROMBSR_EIO, "%s: writing the signature: %s", path, strerror(errno));
	if (close(fd) != 0 && r == 0)
		r = rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
	return r;
}

static int run(int argc, char **argv)
{
	const struct rombsr_avb_algorithm_info *alg = NULL;
	const char *uri = secure_getenv("ROMBSR_AVB_HELPER_URI");
	struct rombsr_buf block, sig = {0};
	EVP_PKEY *pub = NULL;
	int r;

	if (argc != 3 && argc != 4)
		return rombsr_error(ROMBSR_EINVAL, "usage: %s ALGORITHM KEY_PATH [FILE] (run by avbtool)", PROGRAM);
	if (uri == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "ROMBSR_AVB_HELPER_URI is not set: the PKCS#11 URI of the token "
						    "(pkcs11:token=…?module-path=…)");
	r = rombsr_avb_algorithm_by_name(argv[1], &alg);
	if (r == 0 && alg->signature_size == 0)
		r = rombsr_error(ROMBSR_EINVAL, "algorithm NONE signs nothing");
	if (r == 0)
		r = load_public_key(argv[2], &pub);
	rombsr_buf_init(&block, alg ? alg->signature_size + 1 : 1);
	if (r == 0)
		r = argc == 4 ? rombsr_file_read(argv[3], alg->signature_size, &block) :
				rombsr_fd_read(STDIN_FILENO, "standard input", &block);
	if (r == 0)
		r = check_block(alg, block.data, block.len);
	if (r == 0)
		r = sign_block(uri, pub, block.data, block.len, &sig);
	if (r == 0 && argc == 4)
		r = write_in_place(argv[3], &sig);
	else if (r == 0 && rombsr_write_all(STDOUT_FILENO, sig.data, sig.len) != 0)
		r = rombsr_error(ROMBSR_EIO, "writing the signature: %s", strerror(errno));
	EVP_PKEY_free(pub);
	rombsr_buf_free(&block);
	rombsr_buf_free(&sig);
	return r;
}

int main(int argc, char **argv)
{
	int r = run(argc, argv);

	if (r < 0) {
		fprintf(stderr, "%s: %s\n", PROGRAM, rombsr_error_message(r));
		return r == ROMBSR_ESECURITY ? 3 : 1;
	}
	return 0;
}
