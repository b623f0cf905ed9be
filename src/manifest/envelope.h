/* The signed form of a release manifest (docs/formats/release-manifest.md):
 * a DSSE envelope (github.com/secure-systems-lab/dsse, protocol v1)
 *
 *     {"payload": base64(manifest), "payloadType": ROMBSR_MANIFEST_PAYLOAD_TYPE,
 *      "signatures": [{"keyid": SPKI SHA-256 hex, "sig": base64(DER ECDSA)}]}
 *
 * whose one signature is ECDSA P-256 with SHA-256 over DSSE's
 * pre-authentication encoding of type and payload, so no signature over
 * other bytes (another payload type, a request's digest) can pass for it. */
#ifndef ROMBSR_MANIFEST_ENVELOPE_H
#define ROMBSR_MANIFEST_ENVELOPE_H

#include "release_manifest.h"

#include "../common/buf.h"

#include <openssl/evp.h>
#include <stddef.h>

#define ROMBSR_MANIFEST_PAYLOAD_TYPE "application/vnd.rombsr.release-manifest+json"
/* base64 of the largest payload, with room for the rest. */
#define ROMBSR_MANIFEST_ENVELOPE_MAX (ROMBSR_MANIFEST_PAYLOAD_MAX / 3 * 4 + 4096)
/* DER of a P-256 ECDSA signature: SEQUENCE of two INTEGERs of up to 33 bytes. */
#define ROMBSR_MANIFEST_SIG_MAX 72

struct rombsr_manifest_envelope {
	unsigned char *payload; /* the manifest's canonical bytes */
	size_t payload_len;
	char keyid[65];
	unsigned char sig[ROMBSR_MANIFEST_SIG_MAX]; /* DER */
	size_t sig_len;
};

/* DSSE's PAE: "DSSEv1" SP len(type) SP type SP len(payload) SP payload,
 * lengths in ASCII decimal: the bytes the signature covers. */
int rombsr_manifest_pae(const unsigned char *payload, size_t len, struct rombsr_buf *out);

/* The envelope's text (out initialized here): pretty-printed JSON with
 * sorted keys and a final newline, so the same envelope is the same bytes. */
int rombsr_manifest_envelope_encode(const struct rombsr_manifest_envelope *e, struct rombsr_buf *out);
/* The envelope of payload signed by pub, from the raw r||s the token
 * returned (out initialized here). The signature is not checked: open the
 * result to check it. */
int rombsr_manifest_seal(const struct rombsr_buf *payload, EVP_PKEY *pub, const unsigned char *raw, size_t raw_len,
			 struct rombsr_buf *out);
/* Strict reading of an envelope: unknown fields, another payload type,
 * anything but exactly one signature, non-canonical base64 or DER are
 * ROMBSR_EINVAL naming the field. The signature is not checked. */
int rombsr_manifest_envelope_parse(const char *text, size_t len, struct rombsr_manifest_envelope *out);
void rombsr_manifest_envelope_free(struct rombsr_manifest_envelope *e);

/* The whole check, for text nobody vouches for: the envelope, its keyid
 * against pub, the signature over the PAE with pub, then the manifest.
 * Every refusal is ROMBSR_ESECURITY naming what failed (a broken library
 * stays ROMBSR_ECRYPTO / ROMBSR_ENOMEM). */
int rombsr_release_manifest_open(const char *text, size_t len, EVP_PKEY *pub, struct rombsr_release_manifest *out);

/* pub must be an EC P-256 key: ROMBSR_EINVAL naming what if not. */
int rombsr_manifest_key_check(EVP_PKEY *pub, const char *what);

#endif
