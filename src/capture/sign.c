/* C_Sign*: a signature from the signature set if it has one, else, in
 * capture mode, a placeholder recorded in the journal first. */
#include "capture_internal.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <stdlib.h>
#include <string.h>

/* Placeholders remembered for verification: apksig verifies each one
 * right after making it, so the most recent few thousand are plenty, and
 * a long-lived client cannot grow the table without bound. */
#define MAX_ISSUED 4096

static const struct rombsr_cap_signature *sigset_find(const struct rombsr_cap_op *op)
{
	for (size_t i = 0; i < cap_state.nsigs; i++)
		if (rombsr_cap_op_same(&cap_state.sigs[i].op, op))
			return &cap_state.sigs[i];
	return NULL;
}

static void tbs_hex(const struct rombsr_cap_op *op, char *out)
{
	size_t n = op->tbs_len > 64 ? 64 : op->tbs_len;

	rombsr_hex_encode(op->tbs, n, out);
	if (n < op->tbs_len)
		strcpy(out + 2 * n, "...");
}

static CK_RV issue_placeholder(const struct rombsr_cap_op *op, const struct cap_opctx *c, const struct cap_object *key,
				unsigned char *sig)
{
	struct rombsr_cap_entry e;
	struct cap_placeholder ph;
	int r;

	memset(&e, 0, sizeof(e));
	r = cap_make_placeholder(op, key->sig_len, &ph, e.id);
	if (r < 0) {
		cap_log("C_Sign: key '%s': %s", key->label, rombsr_error_message(r));
		return CKR_FUNCTION_FAILED;
	}
	if (cap_state.issued == NULL) {
		cap_state.issued = calloc(MAX_ISSUED, sizeof(*cap_state.issued));
		if (cap_state.issued == NULL)
			return CKR_HOST_MEMORY;
	}
	e.op = *op;
	e.sig_len = key->sig_len;
	/* Borrowed for the journal line only: the context frees it. */
	if (c->data != NULL && rombsr_cap_data_kind(c->data, c->data_len) != NULL) {
		e.data = c->data;
		e.data_len = c->data_len;
	}
	/* Journal first: a placeholder nobody recorded would be a signature
	 * the sign side never hears of. */
	r = cap_entry_stamp(&e);
	if (r == 0)
		r = cap_journal_append(cap_state.cfg.journal, &e);
	if (r < 0) {
		cap_log("C_Sign: key '%s', %s: %s", key->label, op->mech->name, rombsr_error_message(r));
		return CKR_DEVICE_ERROR;
	}
	cap_state.issued[cap_state.next_issued] = ph;
	cap_state.next_issued = (cap_state.next_issued + 1) % MAX_ISSUED;
	if (cap_state.nissued < MAX_ISSUED)
		cap_state.nissued++;
	memcpy(sig, ph.sig, ph.sig_len);
	return CKR_OK;
}

static CK_RV sign_finish(const char *fn, struct cap_opctx *c, unsigned char *sig)
{
	struct cap_object *key = cap_object_find(c->key);
	const struct rombsr_cap_signature *known;
	struct rombsr_cap_op op;
	char tbs[2 * 64 + 4];
	CK_RV rv;
	int r;

	if (key == NULL)
		return CKR_KEY_HANDLE_INVALID;
	rv = cap_op_describe(c, key, &op);
	if (rv != CKR_OK)
		return rv;
	tbs_hex(&op, tbs);
	r = cap_check_raw_input(&op, key->sig_len);
	if (r < 0) {
		cap_log("%s: key '%s': %s", fn, key->label, rombsr_error_message(r));
		return CKR_DATA_LEN_RANGE;
	}
	known = sigset_find(&op);
	if (known != NULL) {
		/* The set comes from elsewhere: what we hand out must verify
		 * against the bundle key, or the artifact would carry garbage. */
		r = known->sig_len != key->sig_len ? ROMBSR_ESECURITY
						     : cap_verify_real(key->pkey, &op, known->sig, known->sig_len);
		if (r == ROMBSR_ESECURITY) {
			cap_log("%s: key '%s', %s, digest %s: the signature in %s does not verify", fn, key->label,
				op.mech->name, tbs, cap_state.cfg.signatures);
			return CKR_FUNCTION_FAILED;
		}
		if (r < 0) {
			cap_log("%s: key '%s', %s, digest %s: cannot check the signature in %s: %s", fn, key->label,
				op.mech->name, tbs, cap_state.cfg.signatures, rombsr_error_message(r));
			return r == ROMBSR_ENOMEM ? CKR_HOST_MEMORY : CKR_FUNCTION_FAILED;
		}
		memcpy(sig, known->sig, known->sig_len);
		return CKR_OK;
	}
	if (cap_state.cfg.mode == CAP_MODE_REPLAY) {
		cap_log("%s: replay: no signature for key '%s' (%.16s), %s, digest %s in %s", fn, key->label,
			key->spki_sha256, op.mech->name, tbs, cap_state.cfg.signatures);
		return CKR_FUNCTION_FAILED;
	}
	return issue_placeholder(&op, c, key, sig);
}

static CK_RV sign_init_common(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct cap_object *key;

	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	key = cap_object_find(hKey);
	if (key == NULL) {
		rv = cap_state.logged_in ? CKR_KEY_HANDLE_INVALID : CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	if (key->klass != CKO_PRIVATE_KEY) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto out;
	}
	rv = cap_op_init("C_SignInit", &s->sign, pMechanism, key);
	CAP_LOCKED_END();
}

CK_RV cap_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return sign_init_common(hSession, pMechanism, hKey);
}

/* Shared by C_Sign and C_SignFinal: the length rules of PKCS#11 2.40
 * section 5.2 (NULL buffer: report the length; too small: report it and
 * keep the operation), then the signature. Any other outcome ends the
 * operation. */
static CK_RV sign_output(const char *fn, struct cap_session *s, const unsigned char *data, CK_ULONG len,
			 bool single, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	struct cap_object *key = cap_object_find(s->sign.key);
	CK_RV rv;

	if (key == NULL) {
		cap_opctx_end(&s->sign);
		return CKR_KEY_HANDLE_INVALID;
	}
	if (pulSignatureLen == NULL) {
		cap_opctx_end(&s->sign);
		return CKR_ARGUMENTS_BAD;
	}
	if (pSignature == NULL) {
		*pulSignatureLen = key->sig_len;
		return CKR_OK;
	}
	if (*pulSignatureLen < key->sig_len) {
		*pulSignatureLen = key->sig_len;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (single && s->sign.multipart) {
		cap_opctx_end(&s->sign);
		return CKR_FUNCTION_FAILED;
	}
	rv = single ? cap_op_update(fn, &s->sign, key, data, len) : CKR_OK;
	if (rv == CKR_OK)
		rv = sign_finish(fn, &s->sign, pSignature);
	if (rv == CKR_OK)
		*pulSignatureLen = key->sig_len;
	cap_opctx_end(&s->sign);
	return rv;
}

CK_RV cap_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
			CK_ULONG_PTR pulSignatureLen)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (!s->sign.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	rv = sign_output("C_Sign", s, pData, ulDataLen, true, pSignature, pulSignatureLen);
	CAP_LOCKED_END();
}

CK_RV cap_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct cap_object *key;

	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (!s->sign.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	key = cap_object_find(s->sign.key);
	rv = key != NULL ? cap_op_update("C_SignUpdate", &s->sign, key, pPart, ulPartLen) : CKR_KEY_HANDLE_INVALID;
	s->sign.multipart = true;
	if (rv != CKR_OK)
		cap_opctx_end(&s->sign);
	CAP_LOCKED_END();
}

CK_RV cap_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (!s->sign.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	rv = sign_output("C_SignFinal", s, NULL, 0, false, pSignature, pulSignatureLen);
	CAP_LOCKED_END();
}

