/* Helpers shared by the harnesses in fuzz/ (docs/fuzzing.md). Several
 * parsers read files, not memory (the capture journal, the signature set,
 * the public bundle, both configurations), so a harness writes the input to
 * a file in a folder of its own and calls the real reader on it: the same
 * code path as in production, including the size caps. */
#ifndef ROMBSR_FUZZ_UTIL_H
#define ROMBSR_FUZZ_UTIL_H

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

/* Round trips: what a parser accepted, its encoder must turn into text
 * the parser accepts again and that encodes to the same bytes. Aborts
 * (a finding) naming what when it does not. */
void fuzz_check(int ok, const char *what);
void fuzz_same(const void *a, size_t alen, const void *b, size_t blen, const char *what);

#endif
