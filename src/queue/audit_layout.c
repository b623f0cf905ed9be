#include "audit_layout.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

static int numbered_path(const char *dir, uint64_t n, const char *suffix, char *out, size_t size)
{
	char digits[21];

	snprintf(digits, sizeof(digits), "%020llu", (unsigned long long)n);
	if ((size_t)snprintf(out, size, "%s/%.14s/%.3s/%s%s", dir, digits, digits + 14, digits, suffix) >= size)
		return rombsr_error(ROMBSR_EINTERNAL, "path buffer too small");
	return 0;
}

int rombsr_queue_audit_chunk_path(uint64_t first, char *out, size_t size)
{
	return numbered_path(ROMBSR_QUEUE_AUDIT_ENTRIES, first, ".log", out, size);
}

int rombsr_queue_audit_checkpoint_path(uint64_t tree_size, char *out, size_t size)
{
	return numbered_path(ROMBSR_QUEUE_AUDIT_CHECKPOINTS, tree_size, "", out, size);
}

/* Parses "<n[0:14]>/<n[14:17]>/<n><suffix>" and checks it is the one
 * spelling numbered_path() makes. */
static int match_numbered(const char *rest, const char *suffix, uint64_t *number)
{
	char again[64];
	uint64_t n = 0;
	const char *digits = rest + 19;

	if (strlen(rest) != 19 + 20 + strlen(suffix) || strcmp(digits + 20, suffix) != 0)
		return 0;
	for (int i = 0; i < 20; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return 0;
		/* 20 digits may exceed 2^64 - 1: refuse rather than wrap. */
		if (n > (UINT64_MAX - (uint64_t)(digits[i] - '0')) / 10)
			return 0;
		n = n * 10 + (uint64_t)(digits[i] - '0');
	}
	snprintf(again, sizeof(again), "%020llu", (unsigned long long)n);
	if (snprintf(again + 20, sizeof(again) - 20, "%s", suffix) < 0)
		return 0;
	if (memcmp(rest, again, 14) != 0 || rest[14] != '/' || memcmp(rest + 15, again + 14, 3) != 0 ||
	    rest[18] != '/' || strcmp(digits, again) != 0)
		return 0;
	*number = n;
	return 1;
}

enum rombsr_queue_audit_kind rombsr_queue_audit_classify(const char *path, uint64_t *number)
{
	static const char entries[] = ROMBSR_QUEUE_AUDIT_ENTRIES "/";
	static const char checkpoints[] = ROMBSR_QUEUE_AUDIT_CHECKPOINTS "/";

	if (strncmp(path, entries, sizeof(entries) - 1) == 0 && match_numbered(path + sizeof(entries) - 1, ".log", number))
		return ROMBSR_QUEUE_AUDIT_CHUNK;
	if (strncmp(path, checkpoints, sizeof(checkpoints) - 1) == 0 &&
	    match_numbered(path + sizeof(checkpoints) - 1, "", number))
		return ROMBSR_QUEUE_AUDIT_CHECKPOINT;
	return ROMBSR_QUEUE_AUDIT_NONE;
}
