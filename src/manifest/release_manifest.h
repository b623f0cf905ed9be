/* The release manifest, version 1 (docs/formats/release-manifest.md): what
 * a release is (product, device, version, time), every artifact it ships
 * by SHA-256 and size, and the AVB rollback indexes it sets. It is signed
 * by the manifest authority's key, never a release key, in a DSSE envelope
 * (envelope.h).
 *
 * The manifest is encoded one way only (compact JSON, keys sorted, lists
 * sorted), so the same release always gives the same bytes: a build can
 * capture its signing and replay it. The parser refuses anything else. */
#ifndef ROMBSR_RELEASE_MANIFEST_H
#define ROMBSR_RELEASE_MANIFEST_H

#include "../common/artifact_list.h"
#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ROMBSR_MANIFEST_FORMAT "rombsr.release-manifest"
#define ROMBSR_MANIFEST_VERSION 1
#define ROMBSR_MANIFEST_PAYLOAD_MAX (8u * 1024 * 1024)
#define ROMBSR_MANIFEST_MAX_ARTIFACTS 10000
#define ROMBSR_MANIFEST_TEXT_MAX 128
/* libavb's AVB_MAX_NUMBER_OF_ROLLBACK_INDEX_LOCATIONS. */
#define ROMBSR_MANIFEST_MAX_ROLLBACK 32
/* JSON integers are signed 64-bit in jansson; AVB indexes are unsigned. */
#define ROMBSR_MANIFEST_MAX_INDEX INT64_MAX
/* 9999-12-31T23:59:59Z, the last time the format's text form can hold. */
#define ROMBSR_MANIFEST_MAX_TIME 253402300799LL

struct rombsr_manifest_rollback {
	uint32_t location;
	uint64_t index;
};

struct rombsr_release_manifest {
	char product[ROMBSR_MANIFEST_TEXT_MAX + 1];
	char device[ROMBSR_MANIFEST_TEXT_MAX + 1];
	char release_version[ROMBSR_MANIFEST_TEXT_MAX + 1];
	time_t time;
	struct rombsr_artifact *artifacts; /* sorted by name (bytes), unique */
	size_t nartifacts;
	struct rombsr_manifest_rollback rollback[ROMBSR_MANIFEST_MAX_ROLLBACK]; /* sorted by location, unique */
	size_t nrollback;
};

/* Puts the artifacts and rollback indexes in the one order the format
 * allows; two artifacts of one name or two indexes of one location are
 * ROMBSR_EINVAL naming them. */
int rombsr_release_manifest_sort(struct rombsr_release_manifest *m);
/* The canonical bytes (out initialized here). The encoding is parsed back
 * before it is returned, so what this writes is what the parser accepts. */
int rombsr_release_manifest_encode(const struct rombsr_release_manifest *m, struct rombsr_buf *out);
/* Strict: unknown, missing or mistyped fields, limits, order and any form
 * but the canonical one are ROMBSR_EINVAL with the path of the field. */
int rombsr_release_manifest_parse(const char *text, size_t len, struct rombsr_release_manifest *out);
/* Accepts NULL and a zeroed or already freed manifest. */
void rombsr_release_manifest_free(struct rombsr_release_manifest *m);

#endif
