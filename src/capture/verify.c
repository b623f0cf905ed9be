/* C_Verify*: placeholders this process issued, or a real verification. */
#include "capture_internal.h"

#include "../common/error.h"

#include <openssl/crypto.h>

CK_RV cap_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct cap_object *key;

	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	key = cap_object_find(hKey);
	if (key == NULL) {
		rv = CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	if (key->klass != CKO_PUBLIC_KEY) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto out;
	}
	rv = cap_op_init("C_VerifyInit", &s->verify, pMechanism, key);
	CAP_LOCKED_END();
}

/* A placeholder this process issued verifies only for the key, mechanism
 * and bytes it was issued for; everything else is verified for real. */
static CK_RV verify_finish(struct cap_opctx *c, const unsigned char *sig, CK_ULONG sig_len)
{
	struct cap_object *key = cap_object_find(c->key);
	struct rombsr_cap_op op;
	CK_RV rv;
	int r;

	if (key == NULL)
		return CKR_KEY_HANDLE_INVALID;
	if (sig == NULL)
		return CKR_ARGUMENTS_BAD;
	if (sig_len != key->sig_len)
		return CKR_SIGNATURE_LEN_RANGE;
	rv = cap_op_describe(c, key, &op);
	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; i < cap_state.nissued; i++) {
		const struct cap_placeholder *ph = &cap_state.issued[i];

		if (ph->sig_len != sig_len || CRYPTO_memcmp(ph->sig, sig, sig_len) != 0)
			continue;
		if (rombsr_cap_op_same(&ph->op, &op))
			return CKR_OK;
		cap_log("C_Verify: a placeholder of key '%s' presented for other data or another key ('%s', %s)",
			ph->op.label, key->label, op.mech->name);
		return CKR_SIGNATURE_INVALID;
	}
	r = cap_verify_real(key->pkey, &op, sig, sig_len);
	if (r == 0)
		return CKR_OK;
	if (r == ROMBSR_ESECURITY)
		return CKR_SIGNATURE_INVALID;
	/* OpenSSL could not check: no verdict on the signature. */
	cap_log("C_Verify: key '%s', %s: %s", key->label, op.mech->name, rombsr_error_message(r));
	return r == ROMBSR_ENOMEM ? CKR_HOST_MEMORY : CKR_FUNCTION_FAILED;
}

CK_RV cap_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
			  CK_ULONG ulSignatureLen)
{
	struct cap_object *key;

	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (!s->verify.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	key = cap_object_find(s->verify.key);
	if (key == NULL)
		rv = CKR_KEY_HANDLE_INVALID;
	else if (s->verify.multipart)
		rv = CKR_FUNCTION_FAILED;
	else
		rv = cap_op_update("C_Verify", &s->verify, key, pData, ulDataLen);
	if (rv == CKR_OK)
		rv = verify_finish(&s->verify, pSignature, ulSignatureLen);
	cap_opctx_end(&s->verify);
	CAP_LOCKED_END();
}

CK_RV cap_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct cap_object *key;

	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (!s->verify.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	key = cap_object_find(s->verify.key);
	rv = key != NULL ? cap_op_update("C_VerifyUpdate", &s->verify, key, pPart, ulPartLen) : CKR_KEY_HANDLE_INVALID;
	s->verify.multipart = true;
	if (rv != CKR_OK)
		cap_opctx_end(&s->verify);
	CAP_LOCKED_END();
}

CK_RV cap_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (!s->verify.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	rv = verify_finish(&s->verify, pSignature, ulSignatureLen);
	cap_opctx_end(&s->verify);
	CAP_LOCKED_END();
}

