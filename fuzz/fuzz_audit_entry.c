/* Audit log entries (docs/audit-log.md): every auditor decodes each entry
 * of a log it got from the queue. Decoding is strict: an entry accepted
 * must be exactly the canonical encoding of what was decoded. */
#include "util.h"

#include "../src/audit/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_audit_entry e;
	struct rombsr_buf text = {0};

	if (rombsr_audit_entry_decode((const char *)data, size, &e) < 0)
		return 0;
	fuzz_check(rombsr_audit_entry_encode(&e, &text) == 0, "audit entry: a decoded entry does not encode");
	fuzz_same(data, size, text.data, text.len, "audit entry: decoded bytes are not the canonical encoding");
	rombsr_buf_free(&text);
	return 0;
}
