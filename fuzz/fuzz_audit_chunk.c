/* Audit log chunks (docs/audit-log.md, "In the queue"): the entries an
 * auditor takes from the queue, joined into a log folder and verified
 * whole (rombsr audit-verify). The input is that folder's entries file;
 * beside it are two checkpoints (sizes 2 and 5) of the seed log, signed by
 * the key trusted here, so the seed verifies and mutations of it reach the
 * tree, the checkpoint comparisons and the consistency proof. A log
 * that verifies is then read entry by entry and opened by the writer
 * (which recovers a torn tail), as the sign node does with its own copy. */
#include "util.h"

#include "../src/audit/log.h"
#include "../src/common/fsutil.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "rombsr.fuzz/audit"
/* A throwaway P-256 key's verifier key and its checkpoints of sizes 2 and 5
 * of the log in fuzz/corpus/audit_chunk/five-entries (made once with
 * rombsr_audit_log_checkpoint; the private key was thrown away). */
static const char vkey[] = ORIGIN "+fd0bc4c3+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHwStZTJZMrge8x1JOcMy3jfFKi3iRZOUnj1uqWNx0H9"
				  "Wm3fYRbLVv2UNYfbUo9mYyoIQV1/XgF31E4tO4sTG6w=";
static const char note2[] = "rombsr.fuzz/audit\n2\nXTdbu9O1Q0oB/xkEQPQLHREMh1HF/3bZ5WgC8aYVeao=\n\n"
			    "\xe2\x80\x94 rombsr.fuzz/audit "
			    "/QvEwzBFAiEA69ewZm1L5iF6Uct4R6z6dJ0+C6yEIatyC11W0LaaHVICIDp5+oIjrt0CLTbUk4igYVEqaJhlmXFf+b+3c6Zkyjaa\n";
static const char note5[] = "rombsr.fuzz/audit\n5\niKrEhRWakMTyWSrX2bgac+sQrncxmDnBjKTu8B+gYNo=\n\n"
			    "\xe2\x80\x94 rombsr.fuzz/audit "
			    "/QvEwzBEAiAynxCON2W9EeMWs8EwFxonqehlqV6OWuEI2aUM8qBG0QIgOAztZLyFEzxq8Bsqrh3w6GSxT7/zDWVG8HnpShT3ysA=\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rombsr_note_verifier *trusted;
	static char dir[384];
	const struct rombsr_note_verifier *const *keys = (const struct rombsr_note_verifier *const *)&trusted;
	struct rombsr_audit_report rep;
	struct rombsr_audit_log *log = NULL;

	if (trusted == NULL) {
		char cp_dir[400];

		fuzz_check(rombsr_note_verifier_parse(vkey, &trusted) == 0, "audit chunk: the vkey does not parse");
		snprintf(dir, sizeof(dir), "%s/log", fuzz_dir());
		snprintf(cp_dir, sizeof(cp_dir), "%s/checkpoints", dir);
		fuzz_check(rombsr_mkdir_p(cp_dir, 0700) == 0, "audit chunk: cannot make the log folder");
		fuzz_write("log/checkpoints/00000000000000000002", note2, strlen(note2));
		fuzz_write("log/checkpoints/00000000000000000005", note5, strlen(note5));
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
