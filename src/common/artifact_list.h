/* The list of artifacts by SHA-256 and size that a signing request and a
 * release manifest both carry ([{"name", "sha256", "size"}]), read as
 * strictly as the rest of json_strict.h: names safe and unique. */
#ifndef ROMBSR_ARTIFACT_LIST_H
#define ROMBSR_ARTIFACT_LIST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ROMBSR_NAME_MAX 255 /* artifact names, program paths */

struct rombsr_artifact {
	char name[ROMBSR_NAME_MAX + 1];
	unsigned char sha256[32];
	uint64_t size;
};

/* Reads obj[key], an array of at most max artifacts, into *out (calloc'd;
 * the caller frees it, also after a failure, when *n counts the artifacts
 * read so far). Errors name path.key[i]. */
int rombsr_json_artifacts(const json_t *obj, const char *path, const char *key, size_t max,
			  struct rombsr_artifact **out, size_t *n);
/* The JSON array of a list; NULL when out of memory. */
json_t *rombsr_artifacts_to_json(const struct rombsr_artifact *list, size_t n);

#endif
