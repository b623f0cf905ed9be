#include "vbmeta_sign.h"

#include "pubkey_blob.h"

#include "../common/error.h"

static int sign_image(struct rombsr_buf *out, const struct rombsr_avb_signer *signer)
{
	struct rombsr_avb_image img;
	struct rombsr_buf tbs, sig;
	int r = rombsr_avb_image_parse(out->data, out->len, &img);

	if (r < 0)
		return r;
	rombsr_buf_init(&tbs, out->len);
	rombsr_buf_init(&sig, 0);
	r = rombsr_avb_image_tbs(&img, &tbs);
	if (r == 0)
		r = signer->sign(signer->ctx, img.alg, tbs.data, tbs.len, &sig);
	if (r == 0 && sig.len != img.alg->signature_size)
		r = rombsr_error(ROMBSR_EINVAL, "avb vbmeta: the signer made a %zu-byte signature, %s takes %zu",
				 sig.len, img.alg->name, img.alg->signature_size);
	if (r == 0)
		r = rombsr_avb_image_set_signature(out->data, out->len, sig.data, sig.len);
	if (r == 0 && signer->check) {
		r = rombsr_avb_image_parse(out->data, out->len, &img);
		if (r == 0)
			r = rombsr_avb_image_verify(&img, signer->public_key);
		if (r < 0)
			r = rombsr_error_wrap(r, "the signature just made does not verify");
	}
	rombsr_buf_free(&tbs);
	rombsr_buf_free(&sig);
	return r;
}

int rombsr_avb_image_build_signed(struct rombsr_avb_image_spec *spec, const struct rombsr_avb_signer *signer,
				  struct rombsr_buf *out)
{
	const struct rombsr_avb_algorithm_info *alg = rombsr_avb_algorithm(spec->algorithm);
	struct rombsr_buf blob;
	int r;

	if (alg == NULL)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: unknown algorithm %u", spec->algorithm);
	if (alg->signature_size == 0) {
		spec->public_key = (struct rombsr_avb_bytes){NULL, 0};
		return rombsr_avb_image_build(spec, out);
	}
	if (signer == NULL)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: %s needs a signing key", alg->name);
	if (EVP_PKEY_get_base_id(signer->public_key) != EVP_PKEY_RSA ||
	    (unsigned)EVP_PKEY_get_bits(signer->public_key) != alg->key_bits)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: %s needs an RSA-%u key; this key is %s-%d", alg->name,
				    alg->key_bits, EVP_PKEY_get0_type_name(signer->public_key),
				    EVP_PKEY_get_bits(signer->public_key));
	rombsr_buf_init(&blob, 4096);
	r = rombsr_avb_pubkey_blob(signer->public_key, &blob);
	if (r == 0)
		r = rombsr_buf_check(&blob, "avb public key");
	if (r == 0) {
		spec->public_key = (struct rombsr_avb_bytes){blob.data, blob.len};
		r = rombsr_avb_image_build(spec, out);
	}
	if (r == 0)
		r = sign_image(out, signer);
	spec->public_key = (struct rombsr_avb_bytes){NULL, 0};
	rombsr_buf_free(&blob);
	return r;
}
