/* What signing and verifying share: starting an operation with a
 * mechanism and a key, feeding it data, and describing it as the journal
 * names it. */
#include "capture_internal.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

static const char *mech_name(CK_MECHANISM_TYPE type)
{
	const struct rombsr_cap_mech *m = rombsr_cap_mech_by_type(type);
	static _Thread_local char hex[32];
	int n;

	if (m != NULL)
		return m->name;
	n = snprintf(hex, sizeof(hex), "mechanism 0x%lx", (unsigned long)type);
	if (n < 0 || (size_t)n >= sizeof(hex))
		return "a mechanism of unknown number";
	return hex;
}

CK_RV cap_op_init(const char *fn, struct cap_opctx *c, CK_MECHANISM_PTR pMechanism, struct cap_object *key)
{
	const struct rombsr_cap_mech *m;
	int r;

	if (pMechanism == NULL)
		return CKR_ARGUMENTS_BAD;
	if (c->active)
		return CKR_OPERATION_ACTIVE;
	m = rombsr_cap_mech_by_type(pMechanism->mechanism);
	if (m == NULL) {
		cap_log("%s: key '%s': %s is not supported", fn, key->label, mech_name(pMechanism->mechanism));
		return CKR_MECHANISM_INVALID;
	}
	if (m->ec != rombsr_key_kind_is_ec(key->kind)) {
		cap_log("%s: key '%s' is %s and cannot be used with %s", fn, key->label, rombsr_key_kind_text(key->kind),
			m->name);
		return CKR_KEY_TYPE_INCONSISTENT;
	}
	memset(c, 0, sizeof(*c));
	if (m->pss) {
		const CK_RSA_PKCS_PSS_PARAMS *p = pMechanism->pParameter;

		if (p == NULL || pMechanism->ulParameterLen != sizeof(*p)) {
			cap_log("%s: key '%s': %s needs CK_RSA_PKCS_PSS_PARAMS", fn, key->label, m->name);
			return CKR_MECHANISM_PARAM_INVALID;
		}
		c->pss.hash = p->hashAlg;
		c->pss.mgf = p->mgf;
		c->pss.salt_len = p->sLen;
		r = rombsr_cap_pss_check(m, &c->pss, key->sig_len);
		if (r < 0) {
			cap_log("%s: key '%s': %s", fn, key->label, rombsr_error_message(r));
			memset(c, 0, sizeof(*c));
			return CKR_MECHANISM_PARAM_INVALID;
		}
	} else if (pMechanism->ulParameterLen != 0) {
		cap_log("%s: key '%s': %s takes no parameter", fn, key->label, m->name);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (m->hash != NULL) {
		c->md = EVP_MD_CTX_new();
		if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_get_digestbyname(m->hash), NULL) != 1) {
			cap_opctx_end(c);
			return CKR_HOST_MEMORY;
		}
	}
	c->mech = m;
	c->key = key->handle;
	c->active = true;
	return CKR_OK;
}

/* Keeps the input of a hash mechanism while it can still be data the sign
 * node understands (rombsr_cap_data_kind decides at the end): never more
 * than ROMBSR_CAP_DATA_MAX bytes. Failing to keep it only drops it: the
 * operation itself goes on. */
static void keep_data(struct cap_opctx *c, const unsigned char *data, CK_ULONG len)
{
	unsigned char *grown;

	if (c->data_dropped || len == 0)
		return;
	if (len > ROMBSR_CAP_DATA_MAX - c->data_len ||
	    (grown = realloc(c->data, c->data_len + len)) == NULL) {
		free(c->data);
		c->data = NULL;
		c->data_len = 0;
		c->data_dropped = true;
		return;
	}
	c->data = grown;
	memcpy(c->data + c->data_len, data, len);
	c->data_len += len;
}

CK_RV cap_op_update(const char *fn, struct cap_opctx *c, const struct cap_object *key, const unsigned char *data,
		       CK_ULONG len)
{
	if (data == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	if (c->md != NULL) {
		if (len > 0 && EVP_DigestUpdate(c->md, data, len) != 1)
			return CKR_FUNCTION_FAILED;
		keep_data(c, data, len);
		return CKR_OK;
	}
	if (len > sizeof(c->raw) - c->raw_len) {
		cap_log("%s: key '%s': %s input longer than %zu bytes", fn, key->label, c->mech->name, sizeof(c->raw));
		return CKR_DATA_LEN_RANGE;
	}
	memcpy(c->raw + c->raw_len, data, len);
	c->raw_len += len;
	return CKR_OK;
}

/* The operation as the journal names it: digest computed here for hash
 * mechanisms, the client's bytes for raw ones. */
CK_RV cap_op_describe(struct cap_opctx *c, const struct cap_object *key, struct rombsr_cap_op *op)
{
	unsigned int n = 0;
	int len;

	memset(op, 0, sizeof(*op));
	len = snprintf(op->label, sizeof(op->label), "%s", key->label);
	if (len < 0 || (size_t)len >= sizeof(op->label)) {
		cap_log("key '%.16s...': label longer than %zu bytes", key->label, sizeof(op->label) - 1);
		return CKR_GENERAL_ERROR;
	}
	memcpy(op->spki_sha256, key->spki_sha256, sizeof(op->spki_sha256));
	op->mech = c->mech;
	op->pss = c->pss;
	if (c->md != NULL) {
		if (EVP_DigestFinal_ex(c->md, op->tbs, &n) != 1)
			return CKR_FUNCTION_FAILED;
		op->tbs_len = n;
	} else {
		memcpy(op->tbs, c->raw, c->raw_len);
		op->tbs_len = c->raw_len;
	}
	return CKR_OK;
}

