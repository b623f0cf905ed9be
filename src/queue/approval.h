/* Approvals, version 1 (docs/formats/approval.md): an operator's signed
 * statement "I approve exactly these bytes of request <id>", committed by
 * the operator at approvals/YYYY/MM/DD/<id[8:10]>/<id>/<FPR>.json. The SHA-256 of the
 * request file binds it to one content: an approval never carries over to
 * anything else.
 *
 * Counting is a pure function: the caller brings what the queue says (who
 * committed each approval, and whether that key is an operator in the
 * trust file in force now), and gets back the distinct operators counted
 * and why each other approval was not. */
#ifndef ROMBSR_QUEUE_APPROVAL_H
#define ROMBSR_QUEUE_APPROVAL_H

#include "layout.h"

#include "../common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define ROMBSR_APPROVAL_FORMAT "rombsr.approval"
#define ROMBSR_APPROVAL_VERSION 1
#define ROMBSR_APPROVAL_MAX_BYTES 65536
#define ROMBSR_APPROVAL_COMMENT_MAX 1024

struct rombsr_approval {
	char request_id[ROMBSR_REQUEST_ID_LEN + 1];
	unsigned char request_sha256[32];       /* of the request file's exact bytes */
	char operator_fpr[41];
	time_t time;
	char comment[ROMBSR_APPROVAL_COMMENT_MAX + 1];   /* "" when absent */
};

int rombsr_approval_parse(const char *text, size_t len, struct rombsr_approval *out);
/* Canonical text: sorted keys, two-space indent, trailing newline. */
int rombsr_approval_encode(const struct rombsr_approval *a, struct rombsr_buf *out);

/* What was approved. */
struct rombsr_approval_subject {
	const char *request_id;
	const unsigned char *request_sha256;    /* 32 bytes: of the request as it is in the queue */
	const char *build_node;                 /* the request's build node: it never approves itself */
};

/* One approval found in the queue. */
struct rombsr_approval_input {
	const struct rombsr_approval *approval;
	const char *committer;                  /* the key that committed it (the queue checks it is the path's) */
	bool is_operator;                       /* committer holds the operator role in the trust file in force now */
};

enum rombsr_approval_status {
	ROMBSR_APPROVAL_COUNTED,
	ROMBSR_APPROVAL_WRONG_REQUEST,          /* request_id is another request's */
	ROMBSR_APPROVAL_OTHER_CONTENT,          /* request_sha256 is not the request's */
	ROMBSR_APPROVAL_WRONG_OPERATOR,         /* operator is not the committer */
	ROMBSR_APPROVAL_BY_BUILD_NODE,          /* the request's own build node */
	ROMBSR_APPROVAL_NOT_OPERATOR,           /* not (or no longer: revoked, removed) an operator */
	ROMBSR_APPROVAL_NOT_IN_GROUP,
	ROMBSR_APPROVAL_DUPLICATE,              /* this operator is counted already */
};

/* Counts the approvals of s: status[i] says what became of in[i], and
 * counted[0..return value) are the distinct operators that count, in the
 * order they came. group: the members of the policy group whose approvals
 * are asked for. status and counted hold n entries each. */
size_t rombsr_approval_count(const struct rombsr_approval_subject *s, const char (*group)[41], size_t ngroup,
			     const struct rombsr_approval_input *in, size_t n, enum rombsr_approval_status *status,
			     char (*counted)[41]);

/* "counted", "approves another request", ... for messages. */
const char *rombsr_approval_status_text(enum rombsr_approval_status status);

#endif
