/* Audit log chunks (docs/audit-log.md, "In the queue"): the entries an
 * auditor takes from the queue, joined into a log folder and verified
 * whole (rombsr audit-verify). The input is that folder's entries file;
 * beside it is the docs' example checkpoint of size 3, signed by the key
 * trusted here, so the docs' example log verifies and mutations of it
 * reach the tree and the checkpoint comparison. A log that verifies is
 * then read entry by entry and opened by the writer (which recovers a
 * torn tail), as the sign node does with its own copy. */
#include "util.h"

#include "../src/audit/log.h"
#include "../src/common/fsutil.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "rombsr.example/audit"
static const char vkey[] = ORIGIN "+d0331dd7+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD8CG0hiOfI8q2VeKNg8ikcUv/X1R/TEruj/"
				  "oqcMv27ERkL8u0LNimz4zEENtUOJ1TziPGWRi7rh9l3Kp3ycJWE=";
static const char note[] = ORIGIN "\n3\npmiaDaPqMzA6quQzL3GCnAnP/Du0eelwxx1mHtXKM9s=\n\n\xe2\x80\x94 " ORIGIN
				  " 0DMd1zBFAiBFh1NZM+D0yAFZpSo3ItZpjKUGb9p+xsDRW/RxEgIlggIhAOfbWTL7/ZyxTSFz+jGdtl69Nvv+Xc+"
				  "rJFTrZw3jOHCA\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rombsr_note_verifier *trusted;
	static char dir[384];
	const struct rombsr_note_verifier *const *keys = (const struct rombsr_note_verifier *const *)&trusted;
	struct rombsr_audit_report rep;
	struct rombsr_audit_log *log = NULL;

	if (trusted == NULL) {
		char cp_dir[400];

		fuzz_check(rombsr_note_verifier_parse(vkey, &trusted) == 0, "audit chunk: the docs' vkey does not parse");
		snprintf(dir, sizeof(dir), "%s/log", fuzz_dir());
		snprintf(cp_dir, sizeof(cp_dir), "%s/checkpoints", dir);
		fuzz_check(rombsr_mkdir_p(cp_dir, 0700) == 0, "audit chunk: cannot make the log folder");
		fuzz_write("log/checkpoints/00000000000000000003", note, strlen(note));
	}
	fuzz_write("log/entries", data, size);
	if (rombsr_audit_verify_dir_open(dir, keys, 1, ORIGIN, NULL, 0, &rep, &log) == 0) {
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
