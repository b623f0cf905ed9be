#include "ecdsa_sig.h"

#include "error.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

int rombsr_ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char **der, size_t *der_len)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	int len;

	*der = NULL;
	*der_len = 0;
	if (raw_len == 0 || raw_len % 2 != 0 || raw_len > ROMBSR_ECDSA_RAW_MAX)
		return rombsr_error(ROMBSR_EINVAL, "an ECDSA signature of %zu bytes is not r||s of a P-256 or P-384 key",
				    raw_len);
	es = ECDSA_SIG_new();
	r = BN_bin2bn(raw, (int)(raw_len / 2), NULL);
	s = BN_bin2bn(raw + raw_len / 2, (int)(raw_len / 2), NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return rombsr_error_openssl(ROMBSR_ENOMEM, "cannot hold an ECDSA signature");
	}
	len = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	if (len <= 0)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot encode an ECDSA signature");
	*der_len = (size_t)len;
	return 0;
}
