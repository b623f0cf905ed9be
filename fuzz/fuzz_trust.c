/* The queue's trust file (trust/trust.json, docs/queue.md): parsed at every
 * commit the hook, the sign node and the auditors check. */
#include "util.h"

#include "../src/queue/trust.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_trust t, again;
	char *text = NULL, *text2 = NULL;

	if (rombsr_trust_parse((const char *)data, size, &t) < 0)
		return 0;
	fuzz_check(rombsr_trust_encode(&t, &text) == 0, "trust: a parsed trust file does not encode");
	fuzz_check(rombsr_trust_parse(text, strlen(text), &again) == 0,
		   "trust: the encoding of a parsed trust file does not parse");
	fuzz_check(rombsr_trust_encode(&again, &text2) == 0, "trust: re-encoding fails");
	fuzz_same(text, strlen(text), text2, strlen(text2), "trust: encoding is not stable");
	for (int role = 0; role < ROMBSR_ROLE_COUNT; role++)
		for (size_t i = 0; i < t.count[role]; i++)
			fuzz_check(rombsr_trust_has(&again, (enum rombsr_role)role, t.fprs[role][i]),
				   "trust: a key lost its role in the round trip");
	rombsr_trust_free(&t);
	rombsr_trust_free(&again);
	free(text);
	free(text2);
	return 0;
}
