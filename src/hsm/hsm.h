/* The HSM layer: everything in ROMbsr that touches a real key goes through
 * here, and only through PKCS#11. The capture module (src/capture) never
 * links this code.
 *
 * A struct rombsr_hsm is one token of one module: the module is loaded once
 * per process however many tokens use it, sessions come from a bounded pool
 * and are always closed (a YubiHSM 2 has 16 sessions for everybody: a leaked
 * one is a denial of service), and every PKCS#11 failure is reported with
 * the operation and the CKR_ name. */
#ifndef ROMBSR_HSM_H
#define ROMBSR_HSM_H

#include "../common/ckr_name.h"
#include "../common/config.h"
#include "../common/keyset.h"
#include "../common/sigalg.h"

#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ROMBSR_HSM_MAX_SESSIONS_DEFAULT 4
#define ROMBSR_HSM_LABEL_MAX 64
#define ROMBSR_HSM_ID_MAX 64

struct rombsr_hsm;

/* Loads module_path (refcounted per process), initializes it and selects the
 * one token that token_uri (RFC 7512) matches. A URI that carries a PIN
 * (pin-value) is refused: the PIN would sit in a config file or in argv. */
int rombsr_hsm_open(const char *module_path, const char *token_uri, struct rombsr_hsm **out);
/* The token an authority's configuration names, through its backend:
 * PKCS#11 (module and token URI) or a YubiHSM 2 (hsm.connector). */
int rombsr_hsm_open_for(const struct rombsr_authority_config *a, struct rombsr_hsm **out);
/* rombsr_hsm_open_for() and a login with the PIN in pin_file (the
 * authority's pin-file, or so-pin-file for the YubiHSM's administrator). */
int rombsr_hsm_open_login_for(const struct rombsr_authority_config *a, const char *pin_file, struct rombsr_hsm **out);
/* A YubiHSM 2 through its connector (http://127.0.0.1:12345): the handle
 * is named "yubihsm-<serial>"; rombsr_hsm_login() takes Yubico's PIN form,
 * 4 hex digits of the authentication key ID then its password. */
int rombsr_hsm_open_yubihsm(const char *connector_url, struct rombsr_hsm **out);
/* Logs out, closes every session of this token, and unloads the module when
 * its last user is gone. Accepts NULL. */
void rombsr_hsm_close(struct rombsr_hsm *hsm);

/* The token label (token=...) a URI names, for creating that token. */
int rombsr_hsm_uri_token_label(const char *token_uri, char label[33]);

/* Upper bound of concurrently open sessions (default 4). */
void rombsr_hsm_set_max_sessions(struct rombsr_hsm *hsm, size_t max);
const char *rombsr_hsm_token_label(const struct rombsr_hsm *hsm);

/* After a failure rombsr_hsm_recoverable() calls curable: closes every
 * session of this handle (answers ignored), re-initializes the module if
 * this handle is its only user, selects the token again by its URI, opens a
 * session and logs in with pin. Objects must be looked up again: their
 * handles do not survive. On failure the handle holds no session and may be
 * re-opened again or closed. */
int rombsr_hsm_reopen(struct rombsr_hsm *hsm, const char *pin);

/* Whether the calling thread's last failed PKCS#11 call answered a CKR_ that a
 * re-open may cure (a lost session or login, a device error, a device or
 * token gone) rather than one about the request (mechanism, data, key). */
bool rombsr_hsm_recoverable(const struct rombsr_hsm *hsm);

/* CKU_USER login; a wrong PIN is ROMBSR_EAUTH naming CKR_PIN_INCORRECT. */
int rombsr_hsm_login(struct rombsr_hsm *hsm, const char *pin);

/* Logs out (whoever is logged in); the sessions stay open. */
void rombsr_hsm_logout(struct rombsr_hsm *hsm);

/* rombsr_hsm_open() and rombsr_hsm_login() with the PIN read from pin_file
 * (rombsr_secret_from_file(): mode 0600) into a buffer wiped on every path.
 * On failure *out is NULL and nothing stays open. */
int rombsr_hsm_open_login(const char *module_path, const char *token_uri, const char *pin_file,
			   struct rombsr_hsm **out);

/* Borrows a session from the pool (opening one if under the bound, waiting
 * for one otherwise). Every get is paired with a put. */
int rombsr_hsm_session_get(struct rombsr_hsm *hsm, CK_SESSION_HANDLE *session);
void rombsr_hsm_session_put(struct rombsr_hsm *hsm, CK_SESSION_HANDLE session);

/* The raw function list, for the benchmark that compares this layer to a
 * bare C_Sign loop. */
CK_FUNCTION_LIST *rombsr_hsm_functions(struct rombsr_hsm *hsm);

struct rombsr_hsm_key {
	CK_OBJECT_HANDLE private_key;
	CK_OBJECT_HANDLE public_key;   /* CK_INVALID_HANDLE if the token has none */
	CK_OBJECT_HANDLE certificate;  /* CK_INVALID_HANDLE if none */
	enum rombsr_key_kind kind;
	unsigned bits;
	unsigned char id[ROMBSR_HSM_ID_MAX];
	size_t id_len;
	char label[ROMBSR_HSM_LABEL_MAX + 1];
};

/* Finds the private key labelled label (exactly one) and its public key and
 * certificate by CKA_ID. ROMBSR_ENOTFOUND names the label. */
int rombsr_hsm_find_key(struct rombsr_hsm *hsm, const char *label, struct rombsr_hsm_key *key);
/* The same for many labels at once, in three searches of the whole token
 * (private keys, public keys, certificates) rather than three per key:
 * found[i] tells whether labels[i] (NULL: skipped) is there, keys[i] is
 * then filled. A label held twice, or an ID shared by two public keys or
 * certificates, is an error. */
#define ROMBSR_HSM_FIND_MAX 65536
int rombsr_hsm_find_keys(struct rombsr_hsm *hsm, const char *const *labels, size_t n, struct rombsr_hsm_key *keys,
			 bool *found);
/* rombsr_hsm_find_keys() for the keys of one authority in a key set:
 * *keys and *found (malloc'd, the caller frees them) hold 2 * ks->len
 * slots: slot i is ks->entries[i]'s key, slot ks->len + i its retired
 * predecessor (label "<label>@<16 hex>", rombsr-sign hsm-rotate-keys), at
 * most one; entries of other authorities are never found. */
int rombsr_hsm_find_keyset(struct rombsr_hsm *hsm, const struct rombsr_keyset *ks, enum rombsr_authority_id authority,
			   struct rombsr_hsm_key **keys, bool **found);

/* The token label and key label (CKA_LABEL) an RFC 7512 key URI names
 * (pkcs11:token=T;object=L), percent-decoding done; a URI with other
 * attributes or a PIN is refused (key_uri.c). */
int rombsr_hsm_uri_key(const char *key_uri, char token[33], char object[ROMBSR_HSM_LABEL_MAX + 1]);

/* Gives a key's private key, public key and certificate another CKA_LABEL
 * (rombsr-sign hsm-rotate-keys: the predecessor keeps its CKA_ID, so Java
 * still pairs its certificate with it, under the new alias). */
int rombsr_hsm_relabel_key(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key, const char *label);

/* Destroys a key in the token: its private key, then its public key and
 * certificate (rombsr-sign hsm-revoke). */
int rombsr_hsm_destroy_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key);

/* Signs a digest. PKCS#1 v1.5 wraps it in the DigestInfo of its hash; PSS
 * uses MGF1 with the same hash and a salt of the hash length; ECDSA returns
 * the DER form (SEQUENCE of r, s) that X.509 and openssl use. */
int rombsr_hsm_sign_digest(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
			   enum rombsr_sigalg alg, const unsigned char *digest, size_t digest_len,
			   unsigned char *sig, size_t *sig_len);

/* One C_SignInit + C_Sign with any mechanism, for callers that already
 * hold the exact bytes a client asked to be signed. sig_len is in/out. */
int rombsr_hsm_sign_raw(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
			const CK_MECHANISM *mechanism, const unsigned char *data, size_t data_len,
			unsigned char *sig, size_t *sig_len);

/* Generates a key pair in the token: private key sensitive, never
 * extractable, sign only; with ROMBSR_HSM_KEY_WRAPPABLE extractable only
 * wrapped under the token's trusted wrap key (CKA_WRAP_WITH_TRUSTED, wrap.h)
 * and still never readable. ROMBSR_EEXISTS if a key with label exists. */
#define ROMBSR_HSM_KEY_WRAPPABLE 1u
int rombsr_hsm_generate_key(struct rombsr_hsm *hsm, const char *label, enum rombsr_key_kind kind,
			    unsigned bits, unsigned flags, struct rombsr_hsm_key *key);

/* Reads a token object's attribute into a malloc'd buffer. */
int rombsr_hsm_get_attribute(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE object,
			     CK_ATTRIBUTE_TYPE type, unsigned char **value, size_t *len);

/* Stores a DER certificate beside key (same CKA_ID and CKA_LABEL, as Java's
 * SunPKCS11 needs to pair them). */
int rombsr_hsm_store_certificate(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key,
				 const unsigned char *der, size_t der_len);

/* A YubiHSM's own audit log (yh_log.c, docs/yubihsm.md "The device's
 * log"); ROMBSR_EUNSUPPORTED on a PKCS#11 token. setup names the log
 * reader's PIN file and the spool every signer of the node shares; a
 * signature refused for a full log then spills the log to the spool and is
 * tried once more. read spills too, then gives the spool's oldest entries
 * (more: others follow); ack drops those up to number from the spool,
 * once they are in ROMbsr's log. */
#define ROMBSR_HSM_DEVICE_LOG_MAX 64
struct rombsr_hsm_device_log {
	size_t n;
	bool more;
	unsigned char entries[ROMBSR_HSM_DEVICE_LOG_MAX][32];
};
int rombsr_hsm_device_log_setup(struct rombsr_hsm *hsm, const char *log_pin_file, const char *spool_path);
bool rombsr_hsm_has_device_log(const struct rombsr_hsm *hsm);
/* The spool's files are given to uid:gid when made or rewritten: keygen
 * runs as root, the signers as their own user (sign.signer-user). */
void rombsr_hsm_device_log_owner(struct rombsr_hsm *hsm, uid_t uid, gid_t gid);
int rombsr_hsm_device_log_read(struct rombsr_hsm *hsm, struct rombsr_hsm_device_log *out);
int rombsr_hsm_device_log_ack(struct rombsr_hsm *hsm, uint16_t number);

#endif
