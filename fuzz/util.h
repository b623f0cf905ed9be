/* Helpers shared by the harnesses in fuzz/ (docs/fuzzing.md). Several
 * parsers read files, not memory (the capture journal, the signature set,
 * the public bundle, both configurations), so a harness writes the input to
 * a file in a folder of its own and calls the real reader on it: the same
 * code path as in production, including the size caps. */
#ifndef ROMBSR_FUZZ_UTIL_H
#define ROMBSR_FUZZ_UTIL_H

#include "../src/audit/checkpoint.h"
#include "../src/common/buf.h"

#include <stddef.h>
#include <stdint.h>

/* The harness's own temporary folder, made on first use and removed at
 * exit. Aborts if it cannot be made: a harness without it tests nothing. */
const char *fuzz_dir(void);
/* Writes data to fuzz_dir()/name (replacing it) and returns the full path
 * in a static buffer. Aborts on failure. */
const char *fuzz_write(const char *name, const void *data, size_t size);
/* A valid public bundle (the two keys of keys.h) in
 * fuzz_dir()/bundle, with certs/ and manifest.json; returns its path. */
const char *fuzz_bundle(void);
/* The valid manifest fuzz_bundle() writes. */
extern const char fuzz_manifest[];

/* keys.h's audit verifier key, parsed: an array of one, as
 * rombsr_checkpoint_open() takes it. */
const struct rombsr_note_verifier *const *fuzz_audit_verifier(void);

/* A format with a parser and an encoder (request, response, approval,
 * trust file). The wrappers give them one shape; value is a struct of
 * value_size bytes. */
struct fuzz_codec {
	const char *name;
	size_t value_size;
	int (*parse)(const char *text, size_t len, void *value);
	int (*encode)(const void *value, struct rombsr_buf *out);
	void (*release)(void *value);
};

/* Parses data; if the parser accepts it, checks the round trip and returns
 * the parsed value (malloc'd, for more checks; release with
 * fuzz_codec_free), else NULL. */
void *fuzz_round_trip(const struct fuzz_codec *c, const uint8_t *data, size_t size);
void fuzz_codec_free(const struct fuzz_codec *c, void *value);

/* Round trips: what a parser accepted, its encoder must turn into text
 * the parser accepts again and that encodes to the same bytes. Aborts
 * (a finding) naming what when it does not. */
void fuzz_check(int ok, const char *what);
void fuzz_same(const void *a, size_t alen, const void *b, size_t blen, const char *what);

#endif
