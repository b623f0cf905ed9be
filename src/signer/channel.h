/* The only way from the worker (which fetches and parses untrusted queue
 * content) to a signer (which holds one authority's HSM session): fixed-size
 * typed messages over a SOCK_SEQPACKET socket pair. Nothing is parsed on the
 * signer's side but these structs, and it re-checks every field. */
#ifndef ROMBSR_SIGN_CHANNEL_H
#define ROMBSR_SIGN_CHANNEL_H

#include "../audit/merkle.h"
#include "../common/capture_format.h"

#include <stdint.h>

#define ROMBSR_CHANNEL_MAGIC 0x524f4d42u /* "ROMB" */
#define ROMBSR_CHANNEL_VERSION 1

enum rombsr_channel_op {
	ROMBSR_CH_SIGN = 1,      /* sign one operation of a request */
	ROMBSR_CH_KEYS = 2,      /* list the keys this signer holds (public data) */
	ROMBSR_CH_STATS = 3,     /* HSM operations and cache hits so far */
	/* Audit signer only: */
	ROMBSR_CH_AUDIT_STATE = 4, /* the last checkpoint it signed */
	ROMBSR_CH_CHECKPOINT = 5,  /* sign a checkpoint consistent with that one */
	/* Audit signer on a YubiHSM only (docs/yubihsm.md, "The device's log"): */
	ROMBSR_CH_DEVICE_LOG = 6,     /* the device's audit log as it stands */
	ROMBSR_CH_DEVICE_LOG_ACK = 7, /* entries up to index are in our log: free their room */
};

#define ROMBSR_CHANNEL_DEVICE_LOG_MAX 64
#define ROMBSR_CHANNEL_DEVICE_LOG_ENTRY 32

#define ROMBSR_CHANNEL_ORIGIN_MAX 256
#define ROMBSR_CHANNEL_PROOF_MAX 64

struct rombsr_channel_request {
	uint32_t magic;
	uint32_t version;
	uint32_t op;
	char request_id[33];
	char label[65];
	char spki_sha256[65];
	uint64_t mechanism;      /* CK_MECHANISM_TYPE the client asked for */
	uint64_t pss_hash, pss_mgf, pss_salt_len;
	uint32_t tbs_len;
	unsigned char tbs[ROMBSR_CAP_TBS_MAX];
	uint32_t index;          /* ROMBSR_CH_KEYS: which key; ROMBSR_CH_SIGN: which operation of the request */
	/* ROMBSR_CH_CHECKPOINT: the tree to sign, and the proof that it extends
	 * the last tree this signer signed (old_size leaves). */
	char origin[ROMBSR_CHANNEL_ORIGIN_MAX];
	uint64_t tree_size, old_size;
	unsigned char root[ROMBSR_MERKLE_HASH_LEN];
	uint32_t proof_len;
	unsigned char proof[ROMBSR_CHANNEL_PROOF_MAX][ROMBSR_MERKLE_HASH_LEN];
};

struct rombsr_channel_reply {
	uint32_t magic;
	int32_t status;          /* 0 or a ROMBSR_E* code */
	char message[256];
	uint32_t sig_len;
	unsigned char sig[ROMBSR_CAP_SIG_MAX];
	/* ROMBSR_CH_KEYS */
	char label[65];
	char spki_sha256[65];
	uint32_t key_kind;       /* enum rombsr_key_kind */
	uint32_t modulus_bytes;  /* RSA; 0 for EC */
	uint32_t more;           /* another key follows at index + 1 */
	uint32_t device_id;      /* a YubiHSM's object ID of the key; 0 on PKCS#11 tokens */
	/* ROMBSR_CH_STATS */
	uint64_t hsm_operations, cache_hits;
	uint64_t unwraps, evictions; /* keys kept wrapped on disk: unwrapped into, destroyed in the token */
	uint32_t from_cache;     /* ROMBSR_CH_SIGN: answered without the HSM */
	/* ROMBSR_CH_SIGN: not signed because the HSM stayed unreachable for the
	 * whole retry bound (docs/sign-node.md, "HSM faults") */
	uint32_t hsm_unavailable;
	/* ROMBSR_CH_AUDIT_STATE: the last tree signed (size 0: none yet) and
	 * the audit key (DER SubjectPublicKeyInfo) */
	uint64_t tree_size;
	unsigned char root[ROMBSR_MERKLE_HASH_LEN];
	uint32_t spki_len;
	unsigned char spki[256];
	/* ROMBSR_CH_DEVICE_LOG: the two counters of what went unlogged, then
	 * the entries held, oldest first, as the device encodes them */
	uint32_t unlogged_boot, unlogged_auth;
	uint32_t device_log_n;
	unsigned char device_log[ROMBSR_CHANNEL_DEVICE_LOG_MAX][ROMBSR_CHANNEL_DEVICE_LOG_ENTRY];
};

int rombsr_channel_send(int fd, const void *msg, size_t len);
/* Receives exactly len bytes as one message; anything else is an error. */
int rombsr_channel_recv(int fd, void *msg, size_t len);
/* One request, one reply (not pipelined): checks the reply's magic and
 * ends its message string. */
int rombsr_channel_call(int fd, const struct rombsr_channel_request *m, struct rombsr_channel_reply *reply);

#endif
