/* Making a signed vbmeta image: the image is built, its to-be-signed bytes
 * (header and auxiliary block) handed to a signer, and the hash and
 * signature written back. The signer is a callback so that this library
 * never touches a key: rombsr-artifact signs through PKCS#11. */
#ifndef ROMBSR_AVB_VBMETA_SIGN_H
#define ROMBSR_AVB_VBMETA_SIGN_H

#include "vbmeta.h"

#include <stdbool.h>

struct rombsr_avb_signer {
	/* Signs tbs with RSA PKCS#1 v1.5 over its digest with alg's hash
	 * (DigestInfo included); sig is initialized by the callee. */
	int (*sign)(void *ctx, const struct rombsr_avb_algorithm_info *alg, const unsigned char *tbs, size_t len,
		struct rombsr_buf *sig);
	void *ctx;
	EVP_PKEY *public_key; /* embedded in the image */
	/* Verify the signature once made. False only where the signer answers
	 * placeholders (the capture module in capture mode). */
	bool check;
};

/* Builds spec's image into out (initialized by the caller) and signs it
 * with signer, which may be NULL only for algorithm NONE. spec's public key
 * is filled from the signer's key; the key must be RSA of the algorithm's
 * size. */
int rombsr_avb_image_build_signed(struct rombsr_avb_image_spec *spec, const struct rombsr_avb_signer *signer,
	struct rombsr_buf *out);

#endif
