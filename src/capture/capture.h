/* The capture module's internals (libmock_pkcs11.so, alias
 * librombsr-capture.so). See docs/capture.md.
 *
 * The module holds public keys and certificates only. It shares no code
 * with src/hsm: nothing in this folder can reach a private key, so a build
 * node running it cannot sign, whatever a client asks. */
#ifndef ROMBSR_CAPTURE_H
#define ROMBSR_CAPTURE_H

#include "../common/bundle.h"
#include "../common/capture_format.h"

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

#define CAP_DEFAULT_CONFIG "/etc/rombsr/capture.conf"
#define CAP_CONFIG_ENV "ROMBSR_CAPTURE_CONFIG"

/* ---- config.c ---- */

enum cap_mode { CAP_MODE_CAPTURE, CAP_MODE_REPLAY };

struct cap_config {
	char *source;
	enum cap_mode mode;
	char *bundle;      /* folder of the public bundle */
	char *journal;     /* capture journal (capture mode) */
	char *signatures;  /* signature set (required in replay, optional in capture) */
};

/* Reads the file named by ROMBSR_CAPTURE_CONFIG, or the default. */
int cap_config_load(struct cap_config *cfg);
void cap_config_free(struct cap_config *cfg);

/* ---- objects.c ---- */

struct cap_attr {
	CK_ATTRIBUTE_TYPE type;
	unsigned char *value;
	size_t len;
	bool sensitive;    /* exists, but its value is never given out */
};

struct cap_object {
	CK_OBJECT_HANDLE handle;
	CK_OBJECT_CLASS klass;
	bool is_private;                     /* visible only after login */
	CK_SESSION_HANDLE owner;             /* 0 for token objects */
	const struct rombsr_bundle_key *key; /* token objects */
	EVP_PKEY *pkey;                      /* public key of a key object */
	bool owns_pkey;
	enum rombsr_key_kind kind;
	size_t sig_len;                      /* RSA: modulus bytes; ECDSA r||s: 64 (P-256), 96 (P-384) */
	char spki_sha256[65];
	char label[65];                      /* for messages */
	struct cap_attr *attrs;
	size_t nattrs;
};

/* The three token objects of one bundle key; handles first..first+2. */
int cap_objects_for_key(const struct rombsr_bundle_key *key, CK_OBJECT_HANDLE first, struct cap_object *out[3]);
/* A session public key from a C_CreateObject template (what apksig sends
 * to verify a signature). CK_RV because the reason is the client's. */
CK_RV cap_object_from_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE handle,
			       CK_SESSION_HANDLE owner, struct cap_object **out);
void cap_object_free(struct cap_object *o);
const struct cap_attr *cap_object_attr(const struct cap_object *o, CK_ATTRIBUTE_TYPE type);
bool cap_object_matches(const struct cap_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* ---- crypto.c ---- */

/* A placeholder handed out, and the operation it stands for. */
struct cap_placeholder {
	unsigned char sig[ROMBSR_CAP_SIG_MAX];
	size_t sig_len;
	struct rombsr_cap_op op;
};

/* Checks that a raw mechanism's input is something the sign side may sign
 * (a DigestInfo, a digest of the PSS hash, one RSA block). */
int cap_check_raw_input(const struct rombsr_cap_op *op, size_t sig_len);
/* Verifies sig over op with key, for real. 0, ROMBSR_ESECURITY if it does
 * not verify, ROMBSR_ECRYPTO or ROMBSR_ENOMEM if OpenSSL cannot check it. */
int cap_verify_real(EVP_PKEY *key, const struct rombsr_cap_op *op, const unsigned char *sig, size_t sig_len);
/* A fresh placeholder for op: distinct per call (128-bit random nonce),
 * of the real signature's length, bound to op. id gets the nonce in hex. */
int cap_make_placeholder(const struct rombsr_cap_op *op, size_t sig_len, struct cap_placeholder *ph, char id[33]);
/* Appends one entry to the journal: O_APPEND, an exclusive flock, one
 * write, fsync; a failed write is cut off again so no half entry stays. */
int cap_journal_append(const char *path, const struct rombsr_cap_entry *e);
/* Fills program, pid and time of an entry. */
int cap_entry_stamp(struct rombsr_cap_entry *e);

/* ---- module.c ---- */

/* One line on stderr, "rombsr-capture: ...": clients show only CKR codes. */
void cap_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
