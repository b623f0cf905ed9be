/* Responses, version 1 (docs/formats/response.md): the sign node's answer
 * to one request, committed under its own key. Either every operation's
 * signature, in the request's order, or a rejection with a reason code. */
#ifndef ROMBSR_QUEUE_RESPONSE_H
#define ROMBSR_QUEUE_RESPONSE_H

#include "layout.h"

#include "../common/buf.h"
#include "../common/capture_format.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define ROMBSR_RESPONSE_FORMAT "rombsr.response"
#define ROMBSR_RESPONSE_VERSION 1
#define ROMBSR_RESPONSE_MAX_BYTES (32u * 1024 * 1024)
#define ROMBSR_REASON_MAX 512

struct rombsr_response_sig {
	struct rombsr_cap_op op;      /* what was signed, repeated so the build can match it */
	unsigned char sig[ROMBSR_CAP_SIG_MAX];
	size_t sig_len;
};

struct rombsr_response {
	char request_id[ROMBSR_REQUEST_ID_LEN + 1];
	char request_commit[65];
	bool signed_ok;
	char reason_code[64];                  /* rejected only */
	char reason_message[ROMBSR_REASON_MAX + 1];
	struct rombsr_response_sig *sigs;      /* signed only */
	size_t nsigs;
	char sign_node[41];
	time_t time;
	/* Where the decision is in the audit log (docs/audit-log.md): the
	 * request-signed or request-rejected entry at audit_index, followed by
	 * its signature entries (audit_entries in all), and a C2SP tlog-proof
	 * of that entry against a signed checkpoint. */
	bool has_audit;
	uint64_t audit_index, audit_entries;
	char *audit_proof; /* malloc'd, NUL-terminated */
};

#define ROMBSR_RESPONSE_PROOF_MAX 32768
#define ROMBSR_RESPONSE_PROOF_LINES 128

int rombsr_response_parse(const char *text, size_t len, struct rombsr_response *out);
int rombsr_response_encode(const struct rombsr_response *resp, struct rombsr_buf *out);
void rombsr_response_free(struct rombsr_response *resp);

#endif
