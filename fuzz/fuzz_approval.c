/* Approvals (docs/formats/approval.md): pushed by operators, parsed by the
 * hook and by the sign node, which counts them. An approval that parses is
 * counted against its own request: it must count once, and a second copy
 * of it never counts again. */
#include "util.h"

#include "../src/queue/approval.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *text, size_t len, void *v)
{
	return rombsr_approval_parse(text, len, v);
}

static int encode(const void *v, struct rombsr_buf *out)
{
	return rombsr_approval_encode(v, out);
}

static void release(void *v)
{
	(void)v; /* nothing allocated inside */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {"approval", sizeof(struct rombsr_approval), parse, encode, release};
	struct rombsr_approval *a = fuzz_round_trip(&codec, data, size);

	if (a != NULL) {
		struct rombsr_approval_subject subj = {a->request_id, a->request_sha256, "(no build node)"};
		struct rombsr_approval_input in[2] = {{a, a->operator_fpr, true}, {a, a->operator_fpr, true}};
		enum rombsr_approval_status status[2];
		char counted[2][41], group[1][41];

		memcpy(group[0], a->operator_fpr, sizeof(group[0]));
		fuzz_check(rombsr_approval_count(&subj, (const char(*)[41])group, 1, in, 2, status, counted) == 1,
			   "approval: a valid approval by a group member is not counted exactly once");
	}
	fuzz_codec_free(&codec, a);
	return 0;
}
