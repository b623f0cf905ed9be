/* rombsr's configuration: a git-config-style file (parsed by libgit2's
 * config parser) named by --config, ROMBSR_CONFIG or /etc/rombsr/rombsr.conf.
 * Every key is known here; an unknown key is an error, not ignored, because
 * a misspelt security setting must never silently fall back to a default.
 * docs/config.md lists the keys. */
#ifndef ROMBSR_CONFIG_H
#define ROMBSR_CONFIG_H

#include <stddef.h>

#define ROMBSR_DEFAULT_CONFIG "/etc/rombsr/rombsr.conf"
#define ROMBSR_DEFAULT_STATE_DIR "/var/lib/rombsr"
#define ROMBSR_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define ROMBSR_DEFAULT_CONNECTOR "http://127.0.0.1:12345"

enum rombsr_authority_id {
	ROMBSR_AUTHORITY_RELEASE,
	ROMBSR_AUTHORITY_MANIFEST,
	/* Holds only the audit key, which signs audit log checkpoints and
	 * nothing else; no request may name it. */
	ROMBSR_AUTHORITY_AUDIT,
	ROMBSR_AUTHORITY_COUNT
};

/* How an authority reaches its keys: a PKCS#11 module, or a YubiHSM 2
 * through its connector with ROMbsr's own client (docs/yubihsm.md). */
enum rombsr_hsm_backend {
	ROMBSR_HSM_BACKEND_PKCS11,
	ROMBSR_HSM_BACKEND_YUBIHSM,
};

/* Each authority is its own trust boundary: its own token and credential. */
struct rombsr_authority_config {
	const char *name;
	char *module;       /* PKCS#11 module path */
	char *token_uri;    /* RFC 7512 URI naming the token */
	char *pin_file;     /* the signing role's PIN */
	char *so_pin_file;  /* the security officer's PIN (provisioning only) */
	/* hsm.backend, hsm.connector: with the YubiHSM backend the PIN files
	 * hold "<4 hex digits of an authentication key ID><password>", as
	 * Yubico's PKCS#11 module takes them: pin-file the signing key's,
	 * so-pin-file the administrator key's (docs/yubihsm.md). */
	enum rombsr_hsm_backend backend;
	char *connector;
	char *log_pin_file; /* the device audit log reader's key */
	char *backup_pin_file; /* the backup key's: export and import wrapped (docs/yubihsm.md) */
	char *loader_pin_file; /* the loader key's: the signer brings stored keys in and out (hsm.capacity) */
	char *log_spool;    /* <state>/signer/yubihsm-log.spool: the device log moved off it (docs/yubihsm.md) */
	/* Keys beyond the token's capacity (docs/custody.md, "More keys than
	 * the token holds"): capacity 0 means unbounded and no wrapped store. */
	size_t capacity;     /* hsm.capacity: private keys the token holds at most */
	size_t unwrap_slots; /* hsm.unwrap-slots: of those, kept free for unwrapped keys */
	char *wrapped_dir;   /* <state-dir>/wrapped/<name>: its keys kept wrapped on disk */
	size_t sessions;     /* sign.signer-sessions: HSM operations its signer runs at once */
};

#define ROMBSR_CONFIG_MAX_ADMINS 16

struct rombsr_config {
	char *source;       /* the file read, or NULL for built-in defaults */
	char *state_dir;
	char *softhsm2_conf;
	char *keyset_file;  /* keyset.file; NULL: the built-in key set */
	size_t hsm_capacity, hsm_unwrap_slots; /* copied into each authority */
	enum rombsr_hsm_backend hsm_backend;   /* copied into each authority */
	char *hsm_connector;
	/* The signing queue */
	char *queue_url;    /* the queue remote; NULL if not configured */
	char *queue_clone;  /* this node's bare copy */
	char queue_admins[ROMBSR_CONFIG_MAX_ADMINS][41]; /* pinned admin fingerprints */
	size_t queue_nadmins;
	/* This node's OpenPGP identity */
	char *gpg_home;     /* GNUPGHOME; NULL: GnuPG's default */
	char *gpg_key;      /* primary key fingerprint this node signs with */
	struct rombsr_authority_config authority[ROMBSR_AUTHORITY_COUNT];
	/* The audit log */
	char *audit_origin; /* checkpoint origin line */
	char *audit_vkey;   /* file holding the trusted audit verifier key, for readers */
	/* rombsr audit-anomalies' thresholds (0 / NULL: its defaults) */
	char *anomaly_hours;           /* "HH-HH": UTC hours signatures are allowed in */
	size_t anomaly_volume_factor, anomaly_volume_min, anomaly_baseline_days;
	/* The sign node */
	size_t max_waiting; /* requests that may wait for approvals at once */
	char *metrics_listen; /* sign.metrics-listen: the daemon's /metrics (docs/metrics.md); NULL: none */
	size_t signer_sessions; /* sign.signer-sessions (0 while unset: the default) */
	/* The signing server, rombsr-sign serve (docs/server.md); NULL/0: unset */
	char *server_listen;      /* server.listen: ADDRESS:PORT */
	char *server_certificate; /* server.certificate: its TLS certificate chain, PEM */
	char *server_key;         /* server.key: its TLS private key, PEM */
	char *server_client_ca;   /* server.client-ca: CA certificates client certificates must chain to */
	size_t server_max_connections, server_timeout, server_max_body;
	/* The artifact routes (POST /sign/...): the public bundle the tools
	 * see, the capture module they load (NULL: libmock_pkcs11.so beside
	 * rombsr-sign), each tool run's time limit, and each route's key. */
	char *server_bundle, *server_capture_module;
	size_t server_tool_timeout;
	char *server_key_modules, *server_key_swupdate, *server_key_uefi, *server_key_fitimage;
	/* Users the sign node's processes run as when it starts with the right
	 * to switch (as root, or with CAP_SETUID and CAP_SETGID): NULL, both
	 * stay the starting user (docs/sign-node.md, "Privilege separation"). */
	char *worker_user;  /* fetches, verifies, decides, publishes */
	char *signer_user;  /* the only one that reads PIN files */
};

#define ROMBSR_CONFIG_MAX_WAITING 100000
#define ROMBSR_CONFIG_DEFAULT_SERVER_CONNECTIONS 32
#define ROMBSR_CONFIG_MAX_SERVER_CONNECTIONS 1024
#define ROMBSR_CONFIG_DEFAULT_SERVER_TIMEOUT 60    /* seconds */
#define ROMBSR_CONFIG_MAX_SERVER_TIMEOUT 3600
#define ROMBSR_CONFIG_DEFAULT_SERVER_MAX_BODY (64u << 20)
#define ROMBSR_CONFIG_MAX_SERVER_MAX_BODY (1u << 30)
#define ROMBSR_CONFIG_DEFAULT_SERVER_TOOL_TIMEOUT 120 /* seconds */
#define ROMBSR_CONFIG_MAX_SERVER_TOOL_TIMEOUT 3600
#define ROMBSR_CONFIG_MAX_CAPACITY 65536
#define ROMBSR_CONFIG_DEFAULT_UNWRAP_SLOTS 8
/* A PKCS#11 session runs one operation at a time: a signer's concurrency
 * is its number of sessions. Two by default (docs/config.md); at most the
 * HSM layer's pool (16, a YubiHSM 2's sessions for all its users). */
#define ROMBSR_CONFIG_DEFAULT_SIGNER_SESSIONS 2
#define ROMBSR_CONFIG_MAX_SIGNER_SESSIONS 16

#define ROMBSR_DEFAULT_AUDIT_ORIGIN "rombsr.local/audit"

/* Loads path (NULL: ROMBSR_CONFIG, then the default file if it exists,
 * then built-in defaults). Errors name the file and, for syntax errors, the
 * line. Installs the key set keyset.file names (or the built-in one) as the
 * process's current set (src/common/keyset.h). */
int rombsr_config_load(const char *path, struct rombsr_config *cfg);
void rombsr_config_free(struct rombsr_config *cfg);

const char *rombsr_authority_name(enum rombsr_authority_id id);
int rombsr_authority_from_name(const char *name, enum rombsr_authority_id *id);

#endif
