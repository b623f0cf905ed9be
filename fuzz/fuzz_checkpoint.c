/* Checkpoint notes, verifier keys and tlog proofs (docs/audit-log.md): an
 * auditor reads notes and proofs from the queue, a build node reads the
 * proof in each response, and audit.vkey comes from the public bundle. The
 * input is tried as each of them: a note verified against the key of the
 * docs' example (so the docs' note verifies and mutations reach the
 * signature check), the same note unverified, a proof of the docs'
 * example entry 1, and its first line as a verifier key. */
#include "util.h"

#include "../src/audit/checkpoint.h"
#include "../src/audit/log.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "rombsr.example/audit"
static const char vkey[] = ORIGIN "+d0331dd7+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD8CG0hiOfI8q2VeKNg8ikcUv/X1R/TEruj/"
				  "oqcMv27ERkL8u0LNimz4zEENtUOJ1TziPGWRi7rh9l3Kp3ycJWE=";
/* Entry 1 of the docs' example log, which the docs' proof is for. */
static const char entry[] = "{\"index\":1,\"prev\":\"75aa2272dbab94aefd10d0310afcfc459f086dc8e95368df11514f2357a4a083\","
			    "\"result\":\"ok\",\"role\":\"signing\",\"time\":1718000001,\"token\":\"rombsr-release\","
			    "\"type\":\"hsm-login\",\"v\":1}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rombsr_note_verifier *trusted;
	struct rombsr_note_verifier *v = NULL;
	struct rombsr_checkpoint cp, cp2;
	const char *text = (const char *)data, *note;
	size_t note_len;
	uint64_t index;
	char *line;
	const uint8_t *nl;

	if (trusted == NULL)
		fuzz_check(rombsr_note_verifier_parse(vkey, &trusted) == 0, "checkpoint: the docs' vkey does not parse");
	if (rombsr_checkpoint_open(text, size, (const struct rombsr_note_verifier *const *)&trusted, 1, NULL, &cp) == 0) {
		fuzz_check(rombsr_checkpoint_parse_unverified(text, size, &cp2) == 0 && cp.size == cp2.size &&
				   memcmp(cp.root, cp2.root, sizeof(cp.root)) == 0,
			   "checkpoint: a verified note does not parse the same unverified");
	} else {
		rombsr_checkpoint_parse_unverified(text, size, &cp2);
	}
	if (rombsr_audit_proof_note(text, size, &note, &note_len) == 0)
		fuzz_check(note >= text && note + note_len <= text + size, "checkpoint: the proof's note is outside it");
	rombsr_audit_proof_verify(text, size, entry, strlen(entry), (const struct rombsr_note_verifier *const *)&trusted,
				  1, ORIGIN, &cp, &index);
	nl = memchr(data, '\n', size);
	line = strndup(text, nl != NULL ? (size_t)(nl - data) : size);
	if (line != NULL && rombsr_note_verifier_parse(line, &v) == 0)
		rombsr_note_verifier_free(v);
	free(line);
	return 0;
}
