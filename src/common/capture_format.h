/* The two files that carry a capture between the build node and the sign
 * side (docs/capture.md):
 *
 *  - the capture journal (version 1): one JSON object per line, appended by
 *    every process that signs through the capture module, each line ending
 *    in the SHA-256 of the rest of it, so a torn or edited line is found;
 *  - the signature set (version 1): one JSON document with the real
 *    signature of each captured operation, which the module replays.
 *
 * An operation is identified by (key fingerprint, mechanism, PSS
 * parameters, to-be-signed bytes). For mechanisms that hash inside the
 * token (CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA256, ...) the to-be-signed bytes
 * are the digest the module computed, never the data: the sign side signs
 * digests only. */
#ifndef ROMBSR_CAPTURE_FORMAT_H
#define ROMBSR_CAPTURE_FORMAT_H

#include "buf.h"
#include "sigalg.h"

#include <jansson.h>
#include <p11-kit/pkcs11.h>
#include <stdbool.h>
#include <stddef.h>

#define ROMBSR_CAP_JOURNAL_VERSION 1
#define ROMBSR_CAP_SIGSET_FORMAT "rombsr.capture-signatures"
#define ROMBSR_CAP_SIGSET_VERSION 1
/* Largest input of a raw mechanism: one RSA-8192 block. */
#define ROMBSR_CAP_TBS_MAX 1024
#define ROMBSR_CAP_SIG_MAX 1024
#define ROMBSR_CAP_JOURNAL_MAX (256u * 1024 * 1024)
#define ROMBSR_CAP_SIGSET_MAX (256u * 1024 * 1024)
/* Every placeholder starts so (docs/capture.md): a tool that checks the
 * signature it was given can tell a captured run from a broken token. */
#define ROMBSR_CAP_PLACEHOLDER_MAGIC "\0RBSRPH1"
#define ROMBSR_CAP_PLACEHOLDER_MAGIC_LEN 8

/* What the module does with a mechanism's input. */
enum rombsr_cap_input {
	ROMBSR_CAP_IN_HASH,    /* data: hashed by the module, digest recorded */
	ROMBSR_CAP_IN_RAW,     /* the client's bytes are what gets signed */
};

struct rombsr_cap_mech {
	const char *name;            /* "CKM_SHA256_RSA_PKCS" */
	CK_MECHANISM_TYPE type;
	bool ec;                     /* ECDSA, for a key of any supported curve; else RSA */
	enum rombsr_cap_input input;
	const char *hash;            /* OpenSSL name of the hash the module applies, or NULL */
	bool pss;                    /* takes CK_RSA_PKCS_PSS_PARAMS */
	/* The mechanism the sign side applies to the recorded bytes: PKCS#1
	 * hash-and-sign becomes CKM_RSA_PKCS over DigestInfo, PSS becomes
	 * CKM_RSA_PKCS_PSS over the digest, ECDSA_SHAx becomes CKM_ECDSA. */
	CK_MECHANISM_TYPE sign_type;
};

/* Every mechanism the module supports, in the order it lists them. */
extern const struct rombsr_cap_mech rombsr_cap_mechs[];
extern const size_t rombsr_cap_mechs_len;

const struct rombsr_cap_mech *rombsr_cap_mech_by_type(CK_MECHANISM_TYPE type);
const struct rombsr_cap_mech *rombsr_cap_mech_by_name(const char *name);

struct rombsr_cap_pss {
	CK_MECHANISM_TYPE hash;      /* CKM_SHA256, ... */
	CK_RSA_PKCS_MGF_TYPE mgf;    /* CKG_MGF1_SHA256, ... */
	CK_ULONG salt_len;
};

/* Checks PSS parameters against what OpenSSL and the sign side can honour
 * (SHA-2 hash, MGF1 with a SHA-2 hash, salt no longer than allowed by
 * modulus_bytes) and, for CKM_SHAx_RSA_PKCS_PSS, that the hash is the
 * mechanism's. */
int rombsr_cap_pss_check(const struct rombsr_cap_mech *mech, const struct rombsr_cap_pss *pss,
			 size_t modulus_bytes);
/* OpenSSL names of a PSS hash and MGF1 hash ("SHA256"), or NULL. */
const char *rombsr_cap_hash_name(CK_MECHANISM_TYPE hash);
const char *rombsr_cap_mgf_hash_name(CK_RSA_PKCS_MGF_TYPE mgf);

/* One signing operation, as the journal and the signature set name it. */
struct rombsr_cap_op {
	char label[65];
	char spki_sha256[65];
	const struct rombsr_cap_mech *mech;
	struct rombsr_cap_pss pss;   /* zero unless mech->pss */
	unsigned char tbs[ROMBSR_CAP_TBS_MAX];
	size_t tbs_len;
};

/* sig is a capture module's placeholder, not a signature. */
bool rombsr_cap_is_placeholder(const unsigned char *sig, size_t len);

bool rombsr_cap_op_same(const struct rombsr_cap_op *a, const struct rombsr_cap_op *b);

/* The data behind a digest, carried beside the operation when the module
 * recognized it, so that the sign node can see what it signs
 * (docs/capture.md, "Data"). At most this many bytes. */
#define ROMBSR_CAP_DATA_MAX (64u * 1024)

/* Every kind of data the sign node understands, NULL-terminated:
 * "apk-signed-data" (an APK v2/v3 signer's signed data), "avb-vbmeta" (a
 * vbmeta header then its auxiliary block), "jar-signature-file" (an APK v1
 * signature file, META-INF/NAME.SF). Policy rules and audit entries name
 * them. */
extern const char *const rombsr_cap_data_kinds[];
/* The kind of data, by what it parses as, or NULL. */
const char *rombsr_cap_data_kind(const unsigned char *data, size_t len);
/* The data must be of a known kind, at most ROMBSR_CAP_DATA_MAX bytes, and
 * hash to op's tbs with op's mechanism (a hashing one). */
int rombsr_cap_data_check(const struct rombsr_cap_op *op, const unsigned char *data, size_t len);
/* A "data" field (base64) of op, checked as above, into *data (owned). */
int rombsr_cap_data_from_json(const json_t *v, const struct rombsr_cap_op *op, unsigned char **data, size_t *len);

struct rombsr_cap_entry {
	struct rombsr_cap_op op;
	unsigned char *data;         /* owned, NULL if none (rombsr_cap_entry_clear frees it) */
	size_t data_len;
	char id[33];                 /* 128-bit random operation ID, hex */
	char time[32];               /* "2026-11-22T06:00:00.123Z" */
	long pid;
	char program[256];           /* /proc/self/exe of the caller */
	size_t sig_len;              /* length of the signature handed out */
};

/* One journal line, newline included, into line (initialized here). */
int rombsr_cap_entry_encode(const struct rombsr_cap_entry *e, struct rombsr_buf *line);
/* Parses one line (without its newline), checking its SHA-256. */
int rombsr_cap_entry_decode(const char *line, size_t len, struct rombsr_cap_entry *e);
/* Reads a whole journal; every line must be complete and intact. The error
 * names the file and the line. Free with rombsr_cap_journal_free(). */
int rombsr_cap_journal_read(const char *path, struct rombsr_cap_entry **entries, size_t *len);
void rombsr_cap_entry_clear(struct rombsr_cap_entry *e);
void rombsr_cap_journal_free(struct rombsr_cap_entry *entries, size_t len);

struct rombsr_cap_signature {
	struct rombsr_cap_op op;
	unsigned char sig[ROMBSR_CAP_SIG_MAX];
	size_t sig_len;
};

int rombsr_cap_sigset_read(const char *path, struct rombsr_cap_signature **sigs, size_t *len);
/* Writes the set atomically: a reader sees the old file or the whole new
 * one. */
int rombsr_cap_sigset_write(const char *path, const struct rombsr_cap_signature *sigs, size_t len);

/* DigestInfo (RFC 8017 section 9.2) of a digest made with the OpenSSL hash
 * hash_name (SHA1, SHA224 ... SHA512): out must hold 19 + digest_len bytes. */
int rombsr_cap_digest_info(const char *hash_name, const unsigned char *digest, size_t digest_len,
			   unsigned char *out, size_t *out_len);

#endif
