/* The entries a decision is logged as (audit_entries.h). */
#include "audit_entries.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

/* Text fields allow printable ASCII without quote or backslash; reason
 * messages may hold anything the code put there (e.g. "…"). */
void rombsr_audit_copy_text(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = (src[i] >= ' ' && src[i] <= '~' && src[i] != '"' && src[i] != '\\') ? src[i] : '?';
	dst[i] = '\0';
}

/* A captured operation is bound to the request's artifacts as a whole, not
 * to one file: the entry names them by the SHA-256 of the list as
 * sha256sum(1) prints it ("<hex>  <name>\n" per artifact, in order). */
int rombsr_audit_artifacts_sha256(const struct rombsr_request *req, char out[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	char hex[65];
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

	for (size_t i = 0; ok && i < req->nartifacts; i++) {
		rombsr_hex_encode(req->artifacts[i].sha256, 32, hex);
		ok = EVP_DigestUpdate(ctx, hex, 64) == 1 && EVP_DigestUpdate(ctx, "  ", 2) == 1 &&
		     EVP_DigestUpdate(ctx, req->artifacts[i].name, strlen(req->artifacts[i].name)) == 1 &&
		     EVP_DigestUpdate(ctx, "\n", 1) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot hash the artifact list");
	rombsr_hex_encode(md, 32, out);
	return 0;
}

void rombsr_audit_fill_signature(struct rombsr_audit_entry *e, const struct rombsr_response *resp,
			   const struct rombsr_response_sig *s, const char *artifacts)
{
	unsigned char md[32];

	e->type = ROMBSR_AUDIT_SIGNATURE;
	snprintf(e->request_id, sizeof(e->request_id), "%s", resp->request_id);
	snprintf(e->request_commit, sizeof(e->request_commit), "%s", resp->request_commit);
	memcpy(e->artifact_sha256, artifacts, 65);
	memcpy(e->key_fingerprint, s->op.spki_sha256, sizeof(e->key_fingerprint));
	snprintf(e->key_label, sizeof(e->key_label), "%s", s->op.label);
	snprintf(e->mechanism, sizeof(e->mechanism), "%s", s->op.mech->name);
	rombsr_hex_encode(s->op.tbs, s->op.tbs_len, e->digest);
	SHA256(s->sig, s->sig_len, md);
	rombsr_hex_encode(md, 32, e->signature_sha256);
}

int rombsr_audit_fill_approvals(struct rombsr_audit_entry *e, const struct rombsr_response *resp,
			  const struct rombsr_audit_approvals *a)
{
	if (a->n > ROMBSR_AUDIT_MAX_APPROVERS)
		return rombsr_error(ROMBSR_EINVAL, "request %s: %zu approvers, more than one audit entry holds (%d)",
				    resp->request_id, a->n, ROMBSR_AUDIT_MAX_APPROVERS);
	e->type = ROMBSR_AUDIT_APPROVALS;
	snprintf(e->request_id, sizeof(e->request_id), "%s", resp->request_id);
	snprintf(e->request_commit, sizeof(e->request_commit), "%s", resp->request_commit);
	e->required = a->required;
	e->n_approvers = a->n;
	/* Entries hold fingerprints in the lower-case form of commit IDs. */
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < 41; j++)
			e->approvers[i][j] = (char)(a->approvers[i][j] >= 'A' && a->approvers[i][j] <= 'F'
							    ? a->approvers[i][j] - 'A' + 'a'
							    : a->approvers[i][j]);
	return 0;
}


void rombsr_audit_fill_client(struct rombsr_audit_entry *e, const char *request_id, const struct rombsr_audit_client *c)
{
	e->type = ROMBSR_AUDIT_SERVER_CLIENT;
	snprintf(e->request_id, sizeof(e->request_id), "%s", request_id);
	snprintf(e->commit, sizeof(e->commit), "%s", c->commit);
	snprintf(e->client_certificate, sizeof(e->client_certificate), "%s", c->certificate_sha256);
	/* Entries hold fingerprints in the lower-case form of commit IDs. */
	for (size_t i = 0; i < 40 && c->build_node[i] != '\0'; i++)
		e->build_node[i] = (char)(c->build_node[i] >= 'A' && c->build_node[i] <= 'F' ? c->build_node[i] - 'A' + 'a'
											  : c->build_node[i]);
	snprintf(e->route, sizeof(e->route), "%s", c->route);
}
