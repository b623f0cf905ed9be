/* Shows what a token lets anyone holding the user PIN do with a signing
 * key, for t-custody-wrap (docs/custody.md): read its private exponent,
 * wrap it with a key of their own (untrusted), wrap it with the token's
 * trusted wrap key, and use the wrapped form again (unwrap into a session
 * object and sign). Then unwraps it as the signer does for a key kept in
 * the wrapped store (signer_key_ready) and reads the copy's
 * CKA_EXTRACTABLE. Prints one line per attempt: "NAME: ok ..." or
 * "NAME: refused CKR_...".
 * Usage: hsm-wrap-probe MODULE TOKEN_URI PIN_FILE KEY_LABEL */
#include "../../src/common/error.h"
#include "../../src/hsm/hsm.h"
#include "../../src/hsm/wrap.h"
#include "../../src/signer/signer_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *name, CK_RV rv, CK_ULONG len)
{
	if (rv == CKR_OK)
		printf("%s: ok %lu bytes\n", name, (unsigned long)len);
	else
		printf("%s: refused %s\n", name, rombsr_ckr_name(rv));
}

static void probe_raw(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key)
{
	CK_FUNCTION_LIST *f = rombsr_hsm_functions(hsm);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG value_len = 32, len;
	CK_ATTRIBUTE own[] = {
		{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &aes, sizeof(aes)}, {CKA_TOKEN, &no, sizeof(no)},
		{CKA_WRAP, &yes, sizeof(yes)},  {CKA_VALUE_LEN, &value_len, sizeof(value_len)},
	};
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0}, wrap = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	unsigned char buf[8192];
	CK_ATTRIBUTE exponent = {CKA_PRIVATE_EXPONENT, buf, sizeof(buf)};
	CK_OBJECT_HANDLE untrusted;
	CK_SESSION_HANDLE s;
	CK_RV rv;

	if (rombsr_hsm_session_get(hsm, &s) < 0)
		return;
	rv = f->C_GetAttributeValue(s, key->private_key, &exponent, 1);
	report("read-private-exponent", rv, exponent.ulValueLen);
	rv = f->C_GenerateKey(s, &gen, own, sizeof(own) / sizeof(own[0]), &untrusted);
	if (rv == CKR_OK) {
		len = sizeof(buf);
		rv = f->C_WrapKey(s, &wrap, untrusted, key->private_key, buf, &len);
		report("wrap-with-untrusted-key", rv, len);
	} else {
		report("generate-untrusted-key", rv, 0);
	}
	rombsr_hsm_session_put(hsm, s);
}

/* The signer's own path, so the test sees what the signer asks the token
 * for: a session copy that must never leave the token again. */
static void probe_signer(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, unsigned char *blob,
			 size_t blob_len)
{
	struct rombsr_wrapped_key stored = {.wrapped = blob, .wrapped_len = blob_len};
	struct signer_key k = {.stored = &stored};
	struct signer_unwrapped u;
	CK_OBJECT_HANDLE h;
	unsigned char *v = NULL;
	size_t len = 0;
	int r;

	snprintf(k.key.label, sizeof(k.key.label), "probe-signer");
	memcpy(k.key.id, "probe-signer", 12);
	k.key.id_len = 12;
	k.key.kind = key->kind;
	k.key.bits = key->bits;
	k.key.private_key = CK_INVALID_HANDLE;
	signer_unwrapped_setup(&u);
	u.slots = 1;
	r = signer_key_ready(hsm, &u, &k, 1, &k, &h);
	if (r == 0) {
		r = rombsr_hsm_get_attribute(hsm, h, CKA_EXTRACTABLE, &v, &len);
		signer_key_release(&u, &k);
		if (r == 0 && len == sizeof(CK_BBOOL))
			printf("signer-unwrap-extractable: %s\n", v[0] == CK_TRUE ? "true" : "false");
		rombsr_hsm_destroy_object(hsm, h);
	}
	if (r < 0)
		printf("signer-unwrap: refused (%s)\n", rombsr_error_message(r));
	free(v);
	signer_unwrapped_teardown(&u);
}

static void probe_trusted(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key)
{
	struct rombsr_hsm_unwrap_spec spec = {"probe-unwrapped", (const unsigned char *)"probe", 5, key->kind, false,
					      false};
	struct rombsr_hsm_key copy;
	unsigned char digest[32] = {1}, sig[1024];
	size_t blob_len, sig_len = sizeof(sig);
	unsigned char *blob = NULL;
	int r;

	r = rombsr_hsm_wrap(hsm, key, &blob, &blob_len);
	if (r < 0) {
		printf("wrap-with-trusted-key: refused (%s)\n", rombsr_error_message(r));
		return;
	}
	printf("wrap-with-trusted-key: ok %zu bytes\n", blob_len);
	memset(&copy, 0, sizeof(copy));
	r = rombsr_hsm_unwrap(hsm, &spec, blob, blob_len, &copy.private_key);
	copy.kind = key->kind;
	copy.bits = key->bits;
	if (r == 0)
		r = rombsr_hsm_sign_digest(hsm, &copy, ROMBSR_SIG_RSA_PKCS1_SHA256, digest, sizeof(digest), sig,
					   &sig_len);
	if (r == 0)
		printf("unwrap-and-sign: ok %zu bytes\n", sig_len);
	else
		printf("unwrap-and-sign: refused (%s)\n", rombsr_error_message(r));
	probe_signer(hsm, key, blob, blob_len);
	free(blob);
}

int main(int argc, char **argv)
{
	struct rombsr_hsm *hsm = NULL;
	struct rombsr_hsm_key key;
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: hsm-wrap-probe MODULE TOKEN_URI PIN_FILE KEY_LABEL\n");
		return 2;
	}
	r = rombsr_hsm_open_login(argv[1], argv[2], argv[3], &hsm);
	if (r == 0)
		r = rombsr_hsm_find_key(hsm, argv[4], &key);
	if (r == 0) {
		probe_raw(hsm, &key);
		probe_trusted(hsm, &key);
	} else {
		fprintf(stderr, "hsm-wrap-probe: %s\n", rombsr_error_message(r));
	}
	rombsr_hsm_close(hsm);
	return r < 0 ? 1 : 0;
}
