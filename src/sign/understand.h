/* The sign node knows what it signs (docs/sign-node.md, "Data the sign
 * node understands"): when an operation carries the data behind its digest
 * (docs/capture.md, "Data"), the worker parses it and checks it against the
 * operation and the node's own records before anything is signed: an AVB
 * vbmeta image's header and auxiliary block, an APK v2/v3 signer's signed
 * data, an APK v1 signature file. */
#ifndef ROMBSR_SIGN_UNDERSTAND_H
#define ROMBSR_SIGN_UNDERSTAND_H

#include "hard_rules.h"

#include "../audit/entry.h"
#include "../queue/request.h"

#include <stdbool.h>
#include <stdint.h>

#define ROMBSR_UNDERSTOOD_DIGEST_MAX 64

struct rombsr_understood {
	const char *kind;            /* "avb-vbmeta", …, or NULL: the operation carries no data */
	char content_digest[2 * ROMBSR_UNDERSTOOD_DIGEST_MAX + 1]; /* hex: the APK content digest (v2/v3) or
	                                                              * manifest digest (v1) named, or "" */
	char successor_spki[65];     /* apk-lineage-node: the SPKI SHA-256 of the certificate it names */
	uint64_t rollback_index;
	uint32_t rollback_location;
	char summary[ROMBSR_AUDIT_TEXT_MAX + 1]; /* for the audit log */
};

/* Operation i's data, understood: a vbmeta whose algorithm is the
 * mechanism's hash with the key's size, whose embedded public key is the
 * signing key (spki_sha256), and whose descriptors parse. False with the
 * refusal filled when it is not. An operation without data is understood
 * as nothing (kind NULL) and passes. */
bool rombsr_sign_understand(const struct rombsr_request *req, size_t i, size_t modulus_bytes,
	struct rombsr_understood *u, struct rombsr_refusal *why);

/* The "understood" audit entries of a request that is signed, one per
 * operation with data; *n is how many were written to out (at most max). */
int rombsr_sign_understood_entries(const struct rombsr_request *req, struct rombsr_audit_entry *out, size_t max,
	size_t *n);

#endif
