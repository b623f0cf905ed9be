/* Signs one digest through the HSM layer, so integration tests can check
 * the layer's signatures with openssl.
 * Usage: hsm-sign MODULE TOKEN_URI PIN_FILE KEY_LABEL ALG DIGEST_HEX OUT */
#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/common/hex.h"
#include "../../src/hsm/hsm.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct rombsr_hsm *hsm = NULL;
	struct rombsr_hsm_key key;
	enum rombsr_sigalg alg;
	unsigned char *digest = NULL, sig[1024];
	size_t digest_len, sig_len = sizeof(sig);
	int r;

	if (argc != 8) {
		fprintf(stderr, "usage: hsm-sign MODULE TOKEN_URI PIN_FILE KEY_LABEL ALG DIGEST_HEX OUT\n");
		return 2;
	}
	r = rombsr_sigalg_from_name(argv[5], &alg);
	if (r == 0)
		r = rombsr_hex_decode_alloc(argv[6], 64, &digest, &digest_len, "digest");
	if (r == 0)
		r = rombsr_hsm_open_login(argv[1], argv[2], argv[3], &hsm);
	if (r == 0)
		r = rombsr_hsm_find_key(hsm, argv[4], &key);
	if (r == 0)
		r = rombsr_hsm_sign_digest(hsm, &key, alg, digest, digest_len, sig, &sig_len);
	if (r == 0)
		r = rombsr_file_write_atomic(argv[7], sig, sig_len, 0644, false);
	if (r < 0)
		fprintf(stderr, "hsm-sign: %s\n", rombsr_error_message(r));
	rombsr_hsm_close(hsm);
	free(digest);
	return r < 0 ? 1 : 0;
}
