#include "device_chain.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

bool rombsr_device_entry_chains(const unsigned char entry[ROMBSR_DEVICE_ENTRY_LEN],
				const unsigned char previous[ROMBSR_DEVICE_DIGEST_LEN])
{
	unsigned char in[32], md[32];
	unsigned int len = 0;

	memcpy(in, entry, 16);
	memcpy(in + 16, previous, ROMBSR_DEVICE_DIGEST_LEN);
	/* A library failure cannot say yes: it reads as a broken chain. */
	return EVP_Digest(in, sizeof(in), md, &len, EVP_sha256(), NULL) == 1 &&
	       CRYPTO_memcmp(md, entry + 16, ROMBSR_DEVICE_DIGEST_LEN) == 0;
}
