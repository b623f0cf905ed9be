/* Approvals (docs/formats/approval.md): pushed by operators, parsed by the
 * hook and by the sign node, which counts them. */
#include "util.h"

#include "../src/queue/approval.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_approval a, again;
	struct rombsr_buf text = {0}, text2 = {0};

	if (rombsr_approval_parse((const char *)data, size, &a) < 0)
		return 0;
	fuzz_check(rombsr_approval_encode(&a, &text) == 0, "approval: a parsed approval does not encode");
	fuzz_check(rombsr_approval_parse((const char *)text.data, text.len, &again) == 0,
		   "approval: the encoding of a parsed approval does not parse");
	fuzz_check(rombsr_approval_encode(&again, &text2) == 0, "approval: re-encoding fails");
	fuzz_same(text.data, text.len, text2.data, text2.len, "approval: encoding is not stable");
	{
		/* Counting what was parsed, against its own request. */
		struct rombsr_approval_subject subj = {a.request_id, a.request_sha256, "(no build node)"};
		struct rombsr_approval_input in[2] = {{&a, a.operator_fpr, true}, {&again, a.operator_fpr, true}};
		enum rombsr_approval_status status[2];
		char counted[2][41], group[1][41];

		memcpy(group[0], a.operator_fpr, sizeof(group[0]));
		fuzz_check(rombsr_approval_count(&subj, (const char(*)[41])group, 1, in, 2, status, counted) == 1,
			   "approval: a valid approval by a group member is not counted exactly once");
	}
	rombsr_buf_free(&text);
	rombsr_buf_free(&text2);
	return 0;
}
