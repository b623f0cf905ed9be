/* The entries a decision is logged as (audit_writer.c logs them): one per
 * signature, the approvals counted, and the text fields' rules. */
#ifndef ROMBSR_SIGN_AUDIT_ENTRIES_H
#define ROMBSR_SIGN_AUDIT_ENTRIES_H

#include "audit_writer.h"

#include "../audit/entry.h"

/* Copies src into a text field, every character a text may not hold as '?'. */
void rombsr_audit_copy_text(char *dst, size_t size, const char *src);
/* SHA-256 of req's artifact list as sha256sum(1) prints it, as hex. */
int rombsr_audit_artifacts_sha256(const struct rombsr_request *req, char out[65]);
void rombsr_audit_fill_signature(struct rombsr_audit_entry *e, const struct rombsr_response *resp,
				 const struct rombsr_response_sig *s, const char *artifacts);
int rombsr_audit_fill_approvals(struct rombsr_audit_entry *e, const struct rombsr_response *resp,
				const struct rombsr_audit_approvals *a);

void rombsr_audit_fill_client(struct rombsr_audit_entry *e, const char *request_id,
			      const struct rombsr_audit_client *c);

#endif
