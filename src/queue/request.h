/* Signing requests, version 1 (docs/formats/request.md). A request names
 * the build it comes from, the artifacts by SHA-256, and the signing
 * operations captured while building them. Parsing is strict: anything
 * outside the documented shape and limits is refused with the path of the
 * bad field. */
#ifndef ROMBSR_QUEUE_REQUEST_H
#define ROMBSR_QUEUE_REQUEST_H

#include "layout.h"

#include "../common/artifact_list.h"
#include "../common/buf.h"
#include "../common/capture_format.h"
#include "../common/config.h"

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#define ROMBSR_REQUEST_FORMAT "rombsr.request"
#define ROMBSR_REQUEST_VERSION 1
#define ROMBSR_REQUEST_MAX_BYTES (16u * 1024 * 1024)
#define ROMBSR_REQUEST_MAX_ARTIFACTS 10000
#define ROMBSR_REQUEST_MAX_OPERATIONS 10000
#define ROMBSR_REQUEST_MAX_ROUND 16
#define ROMBSR_TEXT_MAX 128        /* product, build_id */
#define ROMBSR_REQUEST_MAX_LIFETIME (7 * 24 * 3600)

enum rombsr_build_type { ROMBSR_BUILD_USER, ROMBSR_BUILD_USERDEBUG, ROMBSR_BUILD_ENG };

struct rombsr_request_op {
	struct rombsr_cap_op op;
	char program[ROMBSR_NAME_MAX + 1];
	unsigned char *data;   /* the data behind the digest, when carried (owned; NULL if not) */
	size_t data_len;
};

struct rombsr_request {
	char id[ROMBSR_REQUEST_ID_LEN + 1];
	time_t created, expires;
	enum rombsr_authority_id authority;
	unsigned round;
	char product[ROMBSR_TEXT_MAX + 1];
	char build_id[ROMBSR_TEXT_MAX + 1];
	char source_commit[65];
	enum rombsr_build_type build_type;
	char build_node[41];
	struct rombsr_artifact *artifacts;
	size_t nartifacts;
	struct rombsr_request_op *ops;
	size_t nops;
};

int rombsr_request_parse(const char *text, size_t len, struct rombsr_request *out);
/* Canonical text: sorted keys, two-space indent, trailing newline. */
int rombsr_request_encode(const struct rombsr_request *req, struct rombsr_buf *out);
void rombsr_request_free(struct rombsr_request *req);

const char *rombsr_build_type_name(enum rombsr_build_type t);

/* Operation objects, shared with responses. */
json_t *rombsr_op_to_json(const struct rombsr_cap_op *op);
int rombsr_op_from_json(const json_t *o, const char *path, struct rombsr_cap_op *op);

#endif
