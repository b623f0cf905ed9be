/* The token's trusted wrap key, and keys that leave the token only wrapped
 * under it (docs/custody.md). A signing key made wrappable is sensitive
 * (CKA_PRIVATE_EXPONENT is never readable) and extractable only with
 * CKA_WRAP_WITH_TRUSTED, so the one key that can carry it out is the wrap
 * key the security officer marked CKA_TRUSTED. */
#ifndef ROMBSR_HSM_WRAP_H
#define ROMBSR_HSM_WRAP_H

#include "hsm.h"

#define ROMBSR_HSM_WRAP_LABEL "rombsr-wrap-key"
#define ROMBSR_HSM_WRAP_KEY_LEN 32
/* RFC 5649 AES key wrap with padding: a PKCS#8 private key is rarely a
 * multiple of 8 bytes. SoftHSM2 2.6.1 and the YubiHSM's PKCS#11 module both
 * have it. */
#define ROMBSR_HSM_WRAP_MECHANISM CKM_AES_KEY_WRAP_PAD
#define ROMBSR_HSM_WRAP_MECHANISM_NAME "CKM_AES_KEY_WRAP_PAD"

/* How this token wraps (a backup records it): ROMBSR_HSM_WRAP_MECHANISM_NAME,
 * or on a YubiHSM "YUBIHSM_AES_CCM_WRAP", its own Export Wrapped, which
 * only a YubiHSM holding the same wrap key imports. */
#define ROMBSR_HSM_WRAP_YUBIHSM_NAME "YUBIHSM_AES_CCM_WRAP"
const char *rombsr_hsm_wrap_mechanism(const struct rombsr_hsm *hsm);

/* Imports key as the token's wrap key, labelled ROMBSR_HSM_WRAP_LABEL with
 * CKA_ID id, on hsm (opened, not logged in): the security officer stages it
 * (only the SO may set CKA_TRUSTED), the user keeps it as a private token
 * object (wrap.c says why both). ROMBSR_EEXISTS if the token holds a wrap
 * key already. Returns logged in as the user. */
int rombsr_hsm_wrap_key_import(struct rombsr_hsm *hsm, const char *so_pin, const char *user_pin,
			       const unsigned char *key, size_t key_len, const unsigned char *id, size_t id_len);

/* Finds the wrap key (exactly one, CKA_TRUSTED); ROMBSR_ENOTFOUND if none.
 * id (ROMBSR_HSM_ID_MAX bytes, or NULL) receives its CKA_ID, which is the
 * secret ID of its Shamir shares. */
int rombsr_hsm_wrap_key_find(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE *handle, unsigned char *id,
			     size_t *id_len);

/* Wraps key's private key under the wrap key. *blob is malloc'd. A key
 * generated without ROMBSR_HSM_KEY_WRAPPABLE is refused by the token
 * (CKR_KEY_UNEXTRACTABLE), which this names. */
int rombsr_hsm_wrap(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, unsigned char **blob,
		    size_t *blob_len);

/* What an unwrapped key becomes: a signing key like keygen's wrappable one. */
struct rombsr_hsm_unwrap_spec {
	const char *label;
	const unsigned char *id;
	size_t id_len;
	enum rombsr_key_kind kind;
	bool token_object;  /* false: a session object, gone at close */
	/* CKA_EXTRACTABLE (with CKA_WRAP_WITH_TRUSTED either way): true only
	 * for a key that must leave the token wrapped again (a token key a
	 * later backup or rotation wraps); a key unwrapped only to sign is
	 * never exportable. */
	bool extractable;
};

/* Unwraps blob under the wrap key into a new private key. */
int rombsr_hsm_unwrap(struct rombsr_hsm *hsm, const struct rombsr_hsm_unwrap_spec *spec,
		      const unsigned char *blob, size_t blob_len, CK_OBJECT_HANDLE *out);

/* Whether the calling thread's last rombsr_hsm_unwrap failed for want of
 * room in the token (a YubiHSM's "storage failed"): a device the
 * authorities share can be fuller than hsm.capacity says. */
bool rombsr_hsm_unwrap_found_no_room(const struct rombsr_hsm *hsm);

/* Destroys one object; for undoing a half-done import. */
int rombsr_hsm_destroy_object(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE object);

/* How many private keys and certificates the token holds (a restore wants
 * a token without either). */
int rombsr_hsm_count_keys(struct rombsr_hsm *hsm, size_t *keys, size_t *certificates);

/* Whether key came into the token by unwrapping and stays there: a
 * YubiHSM keeps what it imports (origin imported-wrapped), so a key of the
 * wrapped store (hsm.capacity) found on the device is a copy a signer left
 * when it stopped, which the next signer takes as loaded. Always false on a
 * PKCS#11 token, whose unwrapped copies are session objects. */
int rombsr_hsm_key_was_unwrapped(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, bool *unwrapped);

/* An ID keygen must not give a new key: a key kept wrapped on disk comes
 * back under its own ID (a YubiHSM's Import Wrapped restores it), so its ID
 * stays taken while it is out of the token. Nothing to do on a PKCS#11
 * token, whose key IDs are 16 random bytes. */
int rombsr_hsm_reserve_id(struct rombsr_hsm *hsm, const unsigned char *id, size_t id_len);

#endif
