/* The native YubiHSM 2 client: the connector's HTTP API through libcurl,
 * SCP03 sessions (authenticated, encrypted, MACed end to end: the connector
 * and the network are untrusted), and the commands ROMbsr needs.
 *
 * Every function returns 0 or a negative ROMBSR_E* code with its message
 * (src/common/error.h). A device error is ROMBSR_EHSM naming the command and
 * the device's error ("YubiHSM Sign PKCS1 (key 0x0102): insufficient
 * permissions"), except that a refused authentication is ROMBSR_EAUTH and a
 * response whose MAC or cryptogram does not verify is ROMBSR_ESECURITY.
 * rombsr_yh_last_device_error() tells the calling thread's last device
 * error byte (YH_ERR_*, yh_proto.h), YH_ERR_OK if the last failure was not
 * the device's.
 *
 * A session this side can no longer follow (the device answered invalid
 * session, as after the 30 s idle timeout; a transfer broke midway; the
 * device was reset) refuses every later command with ROMBSR_EHSM and
 * reports YH_ERR_INVALID_SESSION, the device's own word for it: open a new
 * one. A session whose response failed its R-MAC refuses every later
 * command with ROMBSR_ESECURITY. */
#ifndef ROMBSR_YH_CLIENT_H
#define ROMBSR_YH_CLIENT_H

#include "yh_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rombsr_yh_connector;
struct rombsr_yh_session;

/* url: "http://127.0.0.1:12345" (no path). Checks GET /connector/status
 * answers status=OK. One connector may be shared by sessions on several
 * threads: the device runs one command at a time, so transfers on one
 * connector are serialized by it. */
int rombsr_yh_connector_open(const char *url, struct rombsr_yh_connector **out);
void rombsr_yh_connector_close(struct rombsr_yh_connector *c);

uint8_t rombsr_yh_last_device_error(void);
const char *rombsr_yh_device_error_name(uint8_t error);

/* "<4 hex digits of the authentication key ID><password>", the PIN form
 * of Yubico's PKCS#11 module and of ROMbsr's PIN files for a YubiHSM
 * (pin.c). *password points into pin. */
int rombsr_yh_parse_pin(const char *pin, uint16_t *auth_id, const char **password);

/* Unauthenticated commands. */
struct rombsr_yh_device_info {
	uint8_t major, minor, patch;
	uint32_t serial;
	uint8_t log_total, log_used;
	uint8_t algorithms[256];
	size_t n_algorithms;
};
int rombsr_yh_device_info(struct rombsr_yh_connector *c, struct rombsr_yh_device_info *info);

/* The two session keys from a password (PBKDF2-HMAC-SHA256, salt "Yubico",
 * 10000 iterations): enc then mac. */
int rombsr_yh_derive_keys(const char *password, size_t password_len, uint8_t enc[16], uint8_t mac[16]);

/* Create Session + Authenticate Session with authentication key auth_id.
 * The password is not kept (only the derived keys, wiped at close). A
 * wrong password is ROMBSR_EAUTH. */
int rombsr_yh_session_open(struct rombsr_yh_connector *c, uint16_t auth_id, const char *password,
			   size_t password_len, struct rombsr_yh_session **out);
/* Close Session on the device (failure ignored: the device drops an idle
 * session itself after 30 s), then wipes and frees. Accepts NULL. */
void rombsr_yh_session_close(struct rombsr_yh_session *s);
uint16_t rombsr_yh_session_auth_id(const struct rombsr_yh_session *s);

/* One command inside the session: wrapped in Session Message, encrypted,
 * C-MACed, the response R-MAC checked and decrypted. resp_len is in/out.
 * Used by the commands below; exposed for the raw bench and tests. */
int rombsr_yh_transfer(struct rombsr_yh_session *s, uint8_t cmd, const uint8_t *data, size_t len, uint8_t *resp,
		       size_t *resp_len);

struct rombsr_yh_object {
	uint16_t id;
	uint8_t type;
	uint8_t sequence;
};
/* List Objects with optional filters (0 / NULL: none). *out is malloc'd. */
struct rombsr_yh_filter {
	uint16_t id;
	uint8_t type;
	uint16_t domains;
	uint64_t capabilities;
	uint8_t algorithm;
	const char *label;
};
int rombsr_yh_list_objects(struct rombsr_yh_session *s, const struct rombsr_yh_filter *filter,
			   struct rombsr_yh_object **out, size_t *n);

struct rombsr_yh_object_info {
	uint64_t capabilities;
	uint16_t id;
	uint16_t len;
	uint16_t domains;
	uint8_t type;
	uint8_t algorithm;
	uint8_t sequence;
	uint8_t origin;
	char label[YH_LABEL_LEN + 1];
	uint64_t delegated;
};
int rombsr_yh_object_info(struct rombsr_yh_session *s, uint16_t id, uint8_t type, struct rombsr_yh_object_info *info);

/* Objects are created with the given ID (0: the device picks one, *id_out
 * tells which; id_out may be NULL). Labels are at most 40 bytes. */
struct rombsr_yh_new_object {
	uint16_t id;
	const char *label;
	uint16_t domains;
	uint64_t capabilities;
	uint8_t algorithm;
	uint64_t delegated; /* authentication and wrap keys only */
};
int rombsr_yh_generate_asymmetric(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o,
				  uint16_t *id_out);
/* The public key as the device gives it: its algorithm, then the RSA
 * modulus or the EC point's X || Y. *key is malloc'd. */
int rombsr_yh_public_key(struct rombsr_yh_session *s, uint16_t id, uint8_t *algorithm, uint8_t **key,
			 size_t *key_len);

/* Signatures over a digest the caller computed. PKCS#1 v1.5: the device
 * adds the DigestInfo by the digest's length (20/32/48/64). PSS: MGF1 with
 * mgf1 (YH_ALGO_MGF1_*), salt_len bytes of salt. ECDSA: the DER SEQUENCE of
 * r and s. sig_len is in/out. */
int rombsr_yh_sign_pkcs1(struct rombsr_yh_session *s, uint16_t id, const uint8_t *digest, size_t digest_len,
			 uint8_t *sig, size_t *sig_len);
int rombsr_yh_sign_pss(struct rombsr_yh_session *s, uint16_t id, uint8_t mgf1, uint16_t salt_len,
		       const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len);
int rombsr_yh_sign_ecdsa(struct rombsr_yh_session *s, uint16_t id, const uint8_t *digest, size_t digest_len,
			 uint8_t *sig, size_t *sig_len);

/* Opaque objects (certificates: YH_ALGO_OPAQUE_X509_CERTIFICATE). *data is
 * malloc'd. */
int rombsr_yh_put_opaque(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o, const uint8_t *data,
			 size_t len, uint16_t *id_out);
int rombsr_yh_get_opaque(struct rombsr_yh_session *s, uint16_t id, uint8_t **data, size_t *len);

/* Authentication keys (YH_ALGO_AES128_YUBICO_AUTHENTICATION; o->algorithm
 * 0 means it) from a password, derived as rombsr_yh_derive_keys() does.
 * o->id must be set: there is no ID out. */
int rombsr_yh_put_authentication_key(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o,
				     const char *password, size_t password_len);
/* Changes the session's own authentication key id to a new password. */
int rombsr_yh_change_authentication_key(struct rombsr_yh_session *s, uint16_t id, const char *password,
					size_t password_len);
int rombsr_yh_delete_object(struct rombsr_yh_session *s, uint16_t id, uint8_t type);

/* Wrap keys: o->algorithm YH_ALGO_AES{128,192,256}_CCM_WRAP. Put Wrap Key
 * needs o->id set (no ID out). */
int rombsr_yh_generate_wrap_key(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o,
				uint16_t *id_out);
int rombsr_yh_put_wrap_key(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o, const uint8_t *key,
			   size_t key_len);
/* Export Wrapped / Import Wrapped: blob = nonce(13) || AES-CCM(object) ||
 * tag(16). *blob is malloc'd. */
int rombsr_yh_export_wrapped(struct rombsr_yh_session *s, uint16_t wrap_id, uint8_t type, uint16_t id,
			     uint8_t **blob, size_t *blob_len);
int rombsr_yh_import_wrapped(struct rombsr_yh_session *s, uint16_t wrap_id, const uint8_t *blob, size_t blob_len,
			     uint8_t *type, uint16_t *id);

/* The device's audit log: the two counters of what went unlogged, then the
 * entries still held (at most 62), oldest first. */
struct rombsr_yh_log_entry {
	uint16_t number;
	uint8_t command;
	uint16_t length;
	uint16_t session_key;
	uint16_t target_key;
	uint16_t second_key;
	uint8_t result;
	uint32_t systick;
	uint8_t digest[YH_LOG_DIGEST_LEN];
};
struct rombsr_yh_log {
	uint16_t unlogged_boot;
	uint16_t unlogged_auth;
	size_t n;
	struct rombsr_yh_log_entry entries[64];
};
int rombsr_yh_get_log(struct rombsr_yh_session *s, struct rombsr_yh_log *log);
/* Marks entries up to and including number as read (force audit frees
 * their room). */
int rombsr_yh_set_log_index(struct rombsr_yh_session *s, uint16_t number);
/* An entry's 32 bytes on the wire, and the chain: digest = the first 16
 * bytes of SHA-256(entry's first 16 bytes || previous digest). */
void rombsr_yh_log_entry_encode(const struct rombsr_yh_log_entry *e, uint8_t out[YH_LOG_ENTRY_LEN]);
int rombsr_yh_log_entry_decode(const uint8_t in[YH_LOG_ENTRY_LEN], struct rombsr_yh_log_entry *e);
bool rombsr_yh_log_entry_chains(const struct rombsr_yh_log_entry *e, const uint8_t previous[YH_LOG_DIGEST_LEN]);

int rombsr_yh_set_option(struct rombsr_yh_session *s, uint8_t option, const uint8_t *value, size_t len);
int rombsr_yh_get_option(struct rombsr_yh_session *s, uint8_t option, uint8_t *value, size_t *len);
int rombsr_yh_get_random(struct rombsr_yh_session *s, uint8_t *out, size_t len);
/* Reset Device: every object but the factory key is gone, key 1 is back
 * with "password"; the session ends with it. */
int rombsr_yh_reset(struct rombsr_yh_session *s);

#endif
