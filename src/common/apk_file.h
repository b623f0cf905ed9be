/* A signed APK's v2/v3 signers, read from the file for binary transparency
 * (rombsr audit-find --artifact, docs/audit-log.md): for each signer, the
 * hash of its signed data — the digest the HSM signed, as the audit log's
 * signature entry holds it — and the content digest of the APK computed
 * from its bytes (APK Signature Scheme v2's chunked digest: 1 MiB chunks of
 * the entries, the central directory and the end record, each hashed with
 * the prefix 0xa5 and its length, then all chunk hashes with 0x5a and
 * their count), as the understood entry holds it.
 *
 * Layout facts (AOSP's APK signature scheme v2 documentation): the APK
 * Signing Block lies just before the central directory and ends with its
 * size and the magic "APK Sig Block 42"; it holds ID-value pairs, v2 under
 * 0x7109871a and v3 under 0xf05368c0; the content digest is computed with
 * the end record's central-directory offset pointing at the signing block. */
#ifndef ROMBSR_APK_FILE_H
#define ROMBSR_APK_FILE_H

#include <stdbool.h>
#include <stddef.h>

#define ROMBSR_APK_FILE_MAX_SIGNERS 8

struct rombsr_apk_signer {
	unsigned scheme;               /* 2 or 3 */
	char signed_data_digest[129];  /* hex: the signed data hashed with the signature's hash */
	char content_digest[129];      /* hex: computed from the file, with the signed data's first algorithm */
	bool content_matches;          /* the signed data names that same content digest */
};

struct rombsr_apk_signers {
	struct rombsr_apk_signer signer[ROMBSR_APK_FILE_MAX_SIGNERS];
	size_t n;
};

/* The v2/v3 signers of the APK in apk[0..len). 0 with n == 0 when the
 * file is no zip or has no APK Signing Block (not an error: audit-find
 * reads any artifact); ROMBSR_EINVAL when a signing block is there and
 * does not parse. */
int rombsr_apk_signers_read(const unsigned char *apk, size_t len, struct rombsr_apk_signers *out);

#endif
