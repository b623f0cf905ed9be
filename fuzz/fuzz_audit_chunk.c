/* Audit log chunks (docs/audit-log.md, "In the queue"): the entries an
 * auditor takes from the queue, joined into a log folder and verified
 * whole (rombsr audit-verify). The input is that folder's entries file;
 * beside it are two checkpoints (sizes 2 and 5) of the seed log, signed by
 * the key trusted here, so the seed verifies and mutations of it reach the
 * tree, the checkpoint comparisons and the consistency proof. A log
 * that verifies is then read entry by entry and opened by the writer
 * (which recovers a torn tail), as the sign node does with its own copy. */
#include "keys.h"
#include "util.h"

#include "../src/audit/log.h"
#include "../src/common/fsutil.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[384];
	const struct rombsr_note_verifier *const *keys = fuzz_audit_verifier();
	struct rombsr_audit_report rep;
	struct rombsr_audit_log *log = NULL;

	if (dir[0] == '\0') {
		char cp_dir[400];

		snprintf(dir, sizeof(dir), "%s/log", fuzz_dir());
		snprintf(cp_dir, sizeof(cp_dir), "%s/checkpoints", dir);
		fuzz_check(rombsr_mkdir_p(cp_dir, 0700) == 0, "audit chunk: cannot make the log folder");
		fuzz_write("log/checkpoints/00000000000000000002", FUZZ_AUDIT_NOTE2, strlen(FUZZ_AUDIT_NOTE2));
		fuzz_write("log/checkpoints/00000000000000000005", FUZZ_AUDIT_NOTE5, strlen(FUZZ_AUDIT_NOTE5));
	}
	fuzz_write("log/entries", data, size);
	if (rombsr_audit_verify_dir_open(dir, keys, 1, FUZZ_AUDIT_ORIGIN, NULL, 0, &rep, &log) == 0) {
		uint64_t n = rombsr_audit_log_size(log);

		fuzz_check(n == rep.entries, "audit chunk: the log opened is not the log verified");
		for (uint64_t i = 0; i < n && i < 16; i++) {
			struct rombsr_buf line;
			struct rombsr_audit_entry e;

			fuzz_check(rombsr_audit_log_entry(log, i, &line) == 0 &&
					   rombsr_audit_entry_decode((const char *)line.data, line.len, &e) == 0 && e.index == i,
				   "audit chunk: an entry verified does not read back");
			rombsr_buf_free(&line);
		}
		rombsr_audit_log_close(log);
		log = NULL;
	}
	rombsr_audit_report_free(&rep);
	if (rombsr_audit_log_open(dir, &log) == 0)
		rombsr_audit_log_close(log);
	return 0;
}
