/* The capture journal (docs/capture.md): written by the capture module in
 * processes of the build, read by rombsr submit and by sign-journal. Every
 * line ends in the SHA-256 of the rest, which random bytes never match, so
 * the harness reads the input twice: as it is, and with each line's check
 * value recomputed, so that mutations reach the field checks behind it. */
#include "util.h"

#include "../src/common/capture_format.h"
#include "../src/common/hex.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ,"sha256":"<64 hex>"} at the end of a line (src/common/capture_format.c). */
#define SUFFIX_PREFIX ",\"sha256\":\""
#define SUFFIX_LEN (sizeof(SUFFIX_PREFIX) - 1 + 64 + 2)

static void reseal(unsigned char *line, size_t len)
{
	unsigned char md[32];
	char hex[65];

	if (len < SUFFIX_LEN || memcmp(line + len - SUFFIX_LEN, SUFFIX_PREFIX, sizeof(SUFFIX_PREFIX) - 1) != 0)
		return;
	EVP_Digest(line, len - SUFFIX_LEN, md, NULL, EVP_sha256(), NULL);
	rombsr_hex_encode(md, sizeof(md), hex);
	memcpy(line + len - 66, hex, 64);
}

static void read_journal(const void *data, size_t size)
{
	struct rombsr_cap_entry *entries = NULL;
	size_t n = 0;

	if (rombsr_cap_journal_read(fuzz_write("journal", data, size), &entries, &n) == 0) {
		/* What was read must be written back identically. */
		for (size_t i = 0; i < n; i++) {
			struct rombsr_buf line = {0};
			struct rombsr_cap_entry back;

			fuzz_check(rombsr_cap_entry_encode(&entries[i], &line) == 0, "journal: an entry read does not encode");
			fuzz_check(rombsr_cap_entry_decode((const char *)line.data, line.len - 1, &back) == 0 &&
					   rombsr_cap_op_same(&back.op, &entries[i].op),
				   "journal: an entry read does not survive encoding");
			rombsr_cap_entry_clear(&back);
			rombsr_buf_free(&line);
		}
	}
	rombsr_cap_journal_free(entries, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;

	read_journal(data, size);
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	for (size_t start = 0; start < size;) {
		unsigned char *nl = memchr(copy + start, '\n', size - start);
		size_t end = nl != NULL ? (size_t)(nl - copy) : size;

		reseal(copy + start, end - start);
		start = end + 1;
	}
	read_journal(copy, size);
	free(copy);
	return 0;
}
