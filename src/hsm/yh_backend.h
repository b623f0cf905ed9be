/* The YubiHSM 2 behind the HSM layer's interface (docs/yubihsm.md): the
 * rombsr_hsm_* functions hand over to these when the handle was opened with
 * rombsr_hsm_open_yubihsm(). Shared between the files of src/hsm only.
 *
 * Handles: an object is (type, ID) on the device, so a CK_OBJECT_HANDLE
 * here is type << 16 | ID; an asymmetric key is its own public key, and a
 * key's certificate is the opaque object with the key's ID. No object has
 * ID 0, so CK_INVALID_HANDLE (0) keeps its meaning. */
#ifndef ROMBSR_HSM_YH_BACKEND_H
#define ROMBSR_HSM_YH_BACKEND_H

#include "hsm_internal.h"

#include "../yubihsm/yh_client.h"

#include <openssl/evp.h>
#include <sys/types.h>

#define ROMBSR_YH_HANDLE(type, id) ((CK_OBJECT_HANDLE)(((unsigned long)(type) << 16) | (id)))
#define ROMBSR_YH_HANDLE_ID(h) ((uint16_t)((h)&0xffff))
#define ROMBSR_YH_HANDLE_TYPE(h) ((uint8_t)(((h) >> 16) & 0xff))
/* Every key ROMbsr makes lives in domain 1. */
#define ROMBSR_YH_DOMAINS 0x0001

struct rombsr_yh_token {
	struct rombsr_yh_connector *connector;
	char *url;
	uint32_t serial;
	/* The credential the sessions authenticate with, kept (on a locked
	 * page, wiped at close) because each new session of the pool
	 * authenticates on its own. */
	uint16_t auth_id;
	char *password;
	size_t password_len;
	struct rombsr_yh_session *sessions[16];
	/* The device log (yh_log.c): the reader's PIN file, read at each use,
	 * and the spool shared by the node's signers; NULL: not set up. */
	char *log_pin_file;
	char *spool_path;
	/* Whose the spool's files are made (rombsr_hsm_device_log_owner());
	 * -1: whoever makes them. */
	uid_t spool_uid;
	gid_t spool_gid;
	/* IDs generate must not pick (rombsr_hsm_reserve_id). */
	uint16_t *reserved;
	size_t nreserved;
};

int rombsr_yh_hsm_login(struct rombsr_hsm *hsm, const char *pin);
void rombsr_yh_hsm_logout(struct rombsr_hsm *hsm);
void rombsr_yh_hsm_free(struct rombsr_hsm *hsm);
int rombsr_yh_hsm_reopen(struct rombsr_hsm *hsm, const char *pin);
bool rombsr_yh_hsm_recoverable(void);
/* Remembers whether the calling thread's last failure r could be cured by
 * new sessions (the device dropped an idle session, the connector went
 * away), for rombsr_yh_hsm_recoverable; returns r. */
int rombsr_yh_note(int r);

/* One session of the pool, for one command or a few. */
int rombsr_yh_hsm_session_get(struct rombsr_hsm *hsm, struct rombsr_yh_session **s);
void rombsr_yh_hsm_session_put(struct rombsr_hsm *hsm, struct rombsr_yh_session *s);

/* Runs fn on a session of the pool. A command the device refused
 * unexecuted because its log is full (force audit) runs again once the log
 * is spilled; one its capabilities refuse is ROMBSR_EPERM, a refusal, not
 * a fault. */
int rombsr_yh_hsm_run(struct rombsr_hsm *hsm, int (*fn)(struct rombsr_yh_session *s, void *ctx), void *ctx);

/* Moves the device's log to the spool and advances its index (yh_log.c):
 * what a signature refused for a full log waits for. */
int rombsr_yh_hsm_spill(struct rombsr_hsm *hsm);

/* Every object of one type with its information (one Get Object Info per
 * object: the device lists IDs only); *out is malloc'd. */
int rombsr_yh_hsm_list(struct rombsr_hsm *hsm, uint8_t type, struct rombsr_yh_object_info **out, size_t *count);

int rombsr_yh_hsm_find_keys(struct rombsr_hsm *hsm, const char *const *labels, size_t n, bool retired,
			struct rombsr_hsm_key *keys, bool *found);
int rombsr_yh_hsm_public_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY **out);
int rombsr_yh_hsm_sign_raw(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, const CK_MECHANISM *mechanism,
		       const unsigned char *data, size_t data_len, unsigned char *sig, size_t *sig_len);
int rombsr_yh_hsm_generate_key(struct rombsr_hsm *hsm, const char *label, enum rombsr_key_kind kind, unsigned bits,
			   unsigned flags, struct rombsr_hsm_key *key);
int rombsr_yh_hsm_store_certificate(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key, const unsigned char *der,
				size_t der_len);
int rombsr_yh_hsm_get_attribute(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
			    unsigned char **value, size_t *len);
int rombsr_yh_hsm_destroy_object(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE object);

/* Custody (yh_wrap.c): as wrap.h's, on the device's own wrap. */
int rombsr_yh_hsm_wrap_key_find(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE *handle, unsigned char *id, size_t *id_len);
int rombsr_yh_hsm_wrap_key_import(struct rombsr_hsm *hsm, const char *so_pin, const char *user_pin,
				  const unsigned char *key, size_t key_len, const unsigned char *id, size_t id_len);
int rombsr_yh_hsm_wrap(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, unsigned char **blob,
		       size_t *blob_len);
struct rombsr_hsm_unwrap_spec;
int rombsr_yh_hsm_unwrap(struct rombsr_hsm *hsm, const struct rombsr_hsm_unwrap_spec *spec, const unsigned char *blob,
			 size_t blob_len, CK_OBJECT_HANDLE *out);
bool rombsr_yh_hsm_unwrap_found_no_room(void);
int rombsr_yh_hsm_count_keys(struct rombsr_hsm *hsm, size_t *keys, size_t *certificates);
int rombsr_yh_hsm_key_was_unwrapped(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, bool *unwrapped);
int rombsr_yh_hsm_reserve_id(struct rombsr_hsm *hsm, const unsigned char *id, size_t id_len);
int rombsr_yh_hsm_key_proves(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY *pub);

#endif
