/* Checkpoints: C2SP tlog-checkpoint bodies inside C2SP signed notes, signed
 * with ECDSA P-256 / SHA-256 (signed-note signature type 0x02, as used by
 * transparency-dev/witness and Sigstore Rekor).
 *
 *     rombsr.example/audit\n            origin
 *     1024\n                            tree size, decimal, no leading zero
 *     <base64 of the 32-byte root>\n    RFC 6962 root hash
 *     \n
 *     — <key name> <base64(key ID[4] || DER ECDSA signature)>\n
 *
 * The signature covers SHA-256 of the body (the three lines, with their
 * newlines). Key ID (type 0x02) = SHA-256(DER SubjectPublicKeyInfo)[:4],
 * big-endian, as the signed-note spec states for this type. A verifier key
 * ("vkey") is "<key name>+<8 lower-case hex key ID>+<base64(0x02 || SPKI DER)>".
 * See docs/audit-log.md. */
#ifndef ROMBSR_AUDIT_CHECKPOINT_H
#define ROMBSR_AUDIT_CHECKPOINT_H

#include "merkle.h"

#include "../common/buf.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define ROMBSR_NOTE_SIG_ECDSA 0x02
#define ROMBSR_NOTE_NAME_MAX 255  /* origin and key names */
#define ROMBSR_NOTE_MAX 16384      /* a whole note */
#define ROMBSR_NOTE_MAX_SIGNATURES 32
#define ROMBSR_NOTE_ECDSA_SIG_MAX 80 /* DER ECDSA P-256 is at most 72 bytes */

struct rombsr_checkpoint {
	char origin[ROMBSR_NOTE_NAME_MAX + 1];
	uint64_t size;
	unsigned char root[ROMBSR_MERKLE_HASH_LEN];
};

/* Signs the SHA-256 digest of the note body. sig holds *sig_len bytes on
 * entry (ROMBSR_NOTE_ECDSA_SIG_MAX); on success *sig_len is the length of
 * the DER ECDSA signature written. The HSM layer's rombsr_hsm_sign_digest()
 * with ROMBSR_SIG_ECDSA_SHA256 fits behind this; the library never sees a
 * private key. Returns 0 or a negative ROMBSR_E* code. */
typedef int (*rombsr_note_sign_fn)(void *ctx, const unsigned char digest[32], unsigned char *sig,
				   size_t *sig_len);

struct rombsr_note_signer {
	const char *name;           /* key name on the signature line */
	const unsigned char *spki;  /* DER SubjectPublicKeyInfo of the P-256 key */
	size_t spki_len;
	rombsr_note_sign_fn sign;
	void *ctx;
};

/* A trusted public key. */
struct rombsr_note_verifier {
	char name[ROMBSR_NOTE_NAME_MAX + 1];
	uint32_t key_id;
	EVP_PKEY *key;
};

/* Key names and origins: 1..255 printable ASCII characters, no space, no '+'. */
int rombsr_note_check_name(const char *name, const char *what);
/* SHA-256(spki)[:4] as a big-endian integer. */
int rombsr_note_key_id(const unsigned char *spki, size_t spki_len, uint32_t *id);
/* "<name>+<keyid hex>+<base64(0x02 || spki)>"; out is initialized here. */
int rombsr_note_vkey_format(const char *name, const unsigned char *spki, size_t spki_len,
			    struct rombsr_buf *out);
/* Parses a vkey strictly (P-256 keys only, key ID must match). */
int rombsr_note_verifier_parse(const char *vkey, struct rombsr_note_verifier **out);
int rombsr_note_verifier_from_spki(const char *name, const unsigned char *spki, size_t spki_len,
				   struct rombsr_note_verifier **out);
void rombsr_note_verifier_free(struct rombsr_note_verifier *v);

/* The checkpoint body; out is initialized here. */
int rombsr_checkpoint_body(const struct rombsr_checkpoint *cp, struct rombsr_buf *out);
/* The whole signed note; the signature returned by the callback is checked
 * against signer->spki before the note is returned (ROMBSR_ESECURITY if it
 * does not verify). out is initialized here. */
int rombsr_checkpoint_sign(const struct rombsr_checkpoint *cp, const struct rombsr_note_signer *signer,
			   struct rombsr_buf *out);
/* Parses a checkpoint note strictly and verifies it: at least one signature
 * line must be from a trusted key (same name and key ID) and verify; a line
 * from a trusted key that fails to verify rejects the note; lines from other
 * keys are ignored. expected_origin may be NULL. ROMBSR_EINVAL for a
 * malformed note, ROMBSR_ESECURITY for another origin or a signature that
 * does not verify, ROMBSR_ECRYPTO only if OpenSSL fails. */
int rombsr_checkpoint_open(const char *note, size_t len, const struct rombsr_note_verifier *const *trusted,
			   size_t n_trusted, const char *expected_origin, struct rombsr_checkpoint *out);
/* The same strict parsing without any signature check, for the log writer
 * reading back its own checkpoints (their roots are compared with the tree). */
int rombsr_checkpoint_parse_unverified(const char *note, size_t len, struct rombsr_checkpoint *out);

#endif
