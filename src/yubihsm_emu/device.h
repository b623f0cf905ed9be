/* The emulated YubiHSM 2: its objects, audit log, options and sessions, and
 * the one entry point the connector's HTTP API calls (device.c). Everything
 * here is reached under the device's lock: the real device runs one command
 * at a time. Key material is held in the clear, in memory and in the state
 * file (docs/yubihsm-emulator.md): this is for rehearsals and tests only. */
#ifndef ROMBSR_YH_EMU_DEVICE_H
#define ROMBSR_YH_EMU_DEVICE_H

#include "../yubihsm/yh_proto.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Storage is counted in pages of this size, as Get Storage Info reports. */
#define EMU_PAGE_SIZE 126
#define EMU_DEFAULT_MAX_STORAGE (1024 * EMU_PAGE_SIZE)
#define EMU_DEFAULT_SERIAL 1234567
#define EMU_FW_MAJOR 2
#define EMU_FW_MINOR 4
#define EMU_FW_PATCH 0
/* Largest data of a command or response inside a session: the outer
 * message (YH_MSG_MAX) holds header, session id, the padded inner message
 * and the MAC. */
#define EMU_INNER_MAX 3116
/* Every capability bit the device defines. */
#define EMU_CAP_ALL UINT64_C(0x00ffffffffffffff)
#define EMU_DOMAINS_ALL 0xffff
#define EMU_FACTORY_LABEL "DEFAULT AUTHKEY CHANGE THIS ASAP"
#define EMU_WRAP_NONCE_LEN 13
#define EMU_WRAP_TAG_LEN 16
#define EMU_WRAP_HEADER_LEN 59

struct emu_object {
	uint16_t id;
	uint8_t type;
	uint8_t algorithm;
	uint8_t sequence;
	uint8_t origin;
	uint16_t domains;
	uint64_t capabilities;
	uint64_t delegated;
	uint8_t label[YH_LABEL_LEN];
	/* The key in the device's own layout (the wrap format's body):
	 * authentication key enc || mac; wrap key the AES key; RSA
	 * p || q || dp || dq || qinv || n; EC d || x || y; opaque the bytes.
	 * Authentication and wrap keys keep their delegated capabilities
	 * apart, in delegated. */
	uint8_t *data;
	size_t len;
};

struct emu_log_entry {
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

struct emu_log {
	struct emu_log_entry entries[YH_LOG_ENTRIES]; /* oldest first */
	size_t n;
	uint16_t next_number;
	uint16_t last_read; /* Set Log Index: entries up to it are read */
	uint16_t unlogged_boot;
	uint16_t unlogged_auth;
	uint8_t last_digest[YH_LOG_DIGEST_LEN];
};

struct emu_session {
	bool used;
	bool authenticated;
	uint16_t auth_id;
	uint8_t context[2 * YH_SCP_CHALLENGE_LEN]; /* host || card challenge */
	uint8_t s_enc[YH_SCP_KEY_LEN];
	uint8_t s_mac[YH_SCP_KEY_LEN];
	uint8_t s_rmac[YH_SCP_KEY_LEN];
	uint8_t mac_chain[16];
	uint8_t counter[16];
	struct timespec last_used;
};

struct emu_device {
	pthread_mutex_t lock;
	uint32_t serial;
	size_t max_objects;
	size_t max_pages;
	unsigned session_timeout;
	const char *state_path;
	struct timespec boot;
	struct emu_object *objects;
	size_t n_objects;
	struct emu_log log;
	uint8_t force_audit;
	uint8_t command_audit[256];
	struct emu_session sessions[YH_MAX_SESSIONS];
};

/* The per-command context handlers fill (device.c, cmd_*.c). */
struct emu_ctx {
	struct emu_device *dev;
	struct emu_session *session;
	const struct emu_object *auth; /* the session's authentication key */
	uint16_t target_key;           /* for the audit log; 0xffff: none */
	uint16_t second_key;
	bool changed;        /* objects or options changed: save the state */
	bool end_session;    /* Close Session */
	bool reset;          /* Reset Device: every session ends */
};

/* A handler: the inner command's data in, its response data out (*out_len
 * in: room; out: used). Returns YH_ERR_OK or the device error. */
typedef uint8_t (*emu_handler)(struct emu_ctx *c, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

/* device.c */
int emu_device_init(struct emu_device *dev);
void emu_device_free(struct emu_device *dev);
/* The factory state: only the default authentication key, a fresh log. */
int emu_device_factory(struct emu_device *dev);
/* One message from the connector in, one response out (out holds
 * YH_MSG_MAX bytes). Takes the lock. */
void emu_device_process(struct emu_device *dev, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);
uint32_t emu_device_systick(const struct emu_device *dev);

/* objects.c */
struct emu_object *emu_object_find(struct emu_device *dev, uint16_t id, uint8_t type);
size_t emu_object_pages(const struct emu_object *o);
size_t emu_pages_used(const struct emu_device *dev);
/* Adds o (taking its data) with the id it names, or a free one if 0:
 * YH_ERR_OBJECT_EXISTS, YH_ERR_STORAGE_FAILED when full. */
uint8_t emu_object_add(struct emu_device *dev, struct emu_object *o);
void emu_object_delete(struct emu_device *dev, struct emu_object *o);
void emu_object_clear(struct emu_object *o);
void emu_objects_free(struct emu_device *dev);
/* Shared checks of new objects' attributes against the session's key. */
uint8_t emu_check_new(const struct emu_ctx *c, uint16_t domains, uint64_t caps, uint64_t delegated);
bool emu_domains_ok(const struct emu_ctx *c, const struct emu_object *o);
uint64_t emu_get_u64(const uint8_t *p);
void emu_put_u64(uint8_t *p, uint64_t v);
uint16_t emu_get_u16(const uint8_t *p);
void emu_put_u16(uint8_t *p, uint16_t v);
/* Reads the common header of put/generate commands: id(2) label(40)
 * domains(2) capabilities(8) algorithm(1). */
void emu_parse_new(const uint8_t *in, struct emu_object *o);

/* log.c */
void emu_log_reset(struct emu_device *dev);
void emu_log_boot(struct emu_device *dev);
size_t emu_log_unread(const struct emu_device *dev);
bool emu_log_full(const struct emu_device *dev);
void emu_log_add(struct emu_device *dev, const struct emu_log_entry *e);
void emu_log_entry_encode(const struct emu_log_entry *e, uint8_t out[YH_LOG_ENTRY_LEN]);
void emu_log_entry_decode(const uint8_t in[YH_LOG_ENTRY_LEN], struct emu_log_entry *e);
void emu_options_default(struct emu_device *dev);
/* Command audit as Get Option answers it: (command, value) pairs. */
size_t emu_options_command_audit(const struct emu_device *dev, uint8_t *out);
/* A command code the device knows (command audit takes only these). */
bool emu_command_known(uint8_t cmd);

/* state.c */
int emu_state_load(struct emu_device *dev, bool *fresh);
int emu_state_save(struct emu_device *dev);
/* Saves after a change; a failure is reported on stderr and the device
 * goes on (as a device whose flash write failed would not, but a rehearsal
 * should see the message rather than lose the session). */
void emu_state_persist(struct emu_device *dev);

/* dispatch.c: the table of commands inside a session. */
void emu_dispatch(struct emu_ctx *c, uint8_t cmd, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

#endif
