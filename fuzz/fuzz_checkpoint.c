/* Checkpoint notes, verifier keys and tlog proofs (docs/audit-log.md): an
 * auditor reads notes and proofs from the queue, a build node reads the
 * proof in each response, and audit.vkey comes from the public bundle. The
 * input is tried as each of them: a note verified against keys.h's audit
 * key (so its notes verify and mutations reach the signature check), the
 * same note unverified, a proof of keys.h's entry 1, and its first line as
 * a verifier key. */
#include "keys.h"
#include "util.h"

#include "../src/audit/checkpoint.h"
#include "../src/audit/log.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rombsr_note_verifier *const *trusted = fuzz_audit_verifier();
	struct rombsr_note_verifier *v = NULL;
	struct rombsr_checkpoint cp, cp2;
	const char *text = (const char *)data, *note;
	size_t note_len;
	uint64_t index;
	char *line;
	const uint8_t *nl;

	if (rombsr_checkpoint_open(text, size, trusted, 1, NULL, &cp) == 0) {
		fuzz_check(rombsr_checkpoint_parse_unverified(text, size, &cp2) == 0 && cp.size == cp2.size &&
				   memcmp(cp.root, cp2.root, sizeof(cp.root)) == 0,
			   "checkpoint: a verified note does not parse the same unverified");
	} else {
		rombsr_checkpoint_parse_unverified(text, size, &cp2);
	}
	if (rombsr_audit_proof_note(text, size, &note, &note_len) == 0)
		fuzz_check(note >= text && note + note_len <= text + size, "checkpoint: the proof's note is outside it");
	rombsr_audit_proof_verify(text, size, FUZZ_AUDIT_ENTRY1, strlen(FUZZ_AUDIT_ENTRY1), trusted, 1, FUZZ_AUDIT_ORIGIN,
				  &cp, &index);
	nl = memchr(data, '\n', size);
	line = strndup(text, nl != NULL ? (size_t)(nl - data) : size);
	if (line != NULL && rombsr_note_verifier_parse(line, &v) == 0)
		rombsr_note_verifier_free(v);
	free(line);
	return 0;
}
