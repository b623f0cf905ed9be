/* Inside the native YubiHSM 2 client: the connector and session state, the
 * framing and SCP03 helpers the command files share, exposed to the unit
 * tests and the fuzz harness (tests/unit/test_yubihsm_client.c,
 * fuzz/fuzz_yh_response.c). Nothing outside src/yubihsm/ but those includes
 * this. */
#ifndef ROMBSR_YH_INTERNAL_H
#define ROMBSR_YH_INTERNAL_H

#include "yh_client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A command, header included, is at most YH_MSG_MAX bytes (lib/yubihsm.c
 * checks 3 + 1 + padded + MAC against its 3136-byte buffer); a response's
 * data may fill that buffer, its header comes on top. */
#define YH_RESPONSE_MAX (YH_MSG_HEADER + YH_MSG_MAX)
#define YH_SCP_BLOCK 16
#define YH_CONNECT_TIMEOUT_SECONDS 5L
/* RSA-4096 generation on the device takes tens of seconds. */
#define YH_TRANSFER_TIMEOUT_SECONDS 120L
#define YH_DEFAULT_URL "http://127.0.0.1:12345"

/* A session's state on this side. A session that is no longer in step with
 * the device refuses every later command. */
enum yh_session_state {
	YH_SESSION_OPEN,
	YH_SESSION_ENDED,  /* the device ended it, or a transfer broke midway */
	YH_SESSION_BROKEN, /* a response failed its R-MAC or its cryptogram */
};

struct rombsr_yh_session {
	struct rombsr_yh_connector *connector;
	uint16_t auth_id;
	uint8_t sid;
	enum yh_session_state state;
	uint8_t s_enc[YH_SCP_KEY_LEN];
	uint8_t s_mac[YH_SCP_KEY_LEN];
	uint8_t s_rmac[YH_SCP_KEY_LEN];
	uint8_t mac_chain[YH_SCP_BLOCK];
	uint8_t counter[YH_SCP_BLOCK];
};

static inline void yh_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void yh_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline void yh_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint16_t yh_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t yh_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t yh_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* device_error.c */
/* The command's name as the messages show it ("Sign PKCS1"). */
const char *rombsr_yh_command_name(uint8_t cmd);
/* Records a device error for the thread and returns its ROMBSR_E* code with
 * "YubiHSM <what>: <error name>". A refused Create or Authenticate Session
 * is ROMBSR_EAUTH, every other device error ROMBSR_EHSM. */
int rombsr_yh_device_failure(uint8_t cmd, const char *what, uint8_t error);
/* Sets the thread's last device error (YH_ERR_OK at the start of each
 * command). */
void rombsr_yh_set_last_device_error(uint8_t error);

/* message.c: framing. cmd(1) || length(2, big-endian) || data. */
int rombsr_yh_frame(uint8_t cmd, const uint8_t *data, size_t len, uint8_t *out, size_t out_size, size_t *out_len);
/* A plain response to cmd: at least the header, its length field equal to
 * what came, its command cmd | YH_RESPONSE_FLAG, or YH_CMD_ERROR with one
 * byte (the device's error, returned as rombsr_yh_device_failure() does).
 * *data points into msg. what names the command in messages. */
int rombsr_yh_parse_response(uint8_t cmd, const char *what, const uint8_t *msg, size_t msg_len,
			     const uint8_t **data, size_t *data_len);
/* The common head of a new object's payload: id(2) label(40) domains(2)
 * capabilities(8) algorithm(1), 53 bytes. Refuses a label over 40 bytes. */
#define YH_OBJECT_HEAD_LEN 53
int rombsr_yh_object_head(const struct rombsr_yh_new_object *o, uint8_t out[YH_OBJECT_HEAD_LEN]);
/* The new object's ID from a 2-byte response; when one was asked for, the
 * device must have used it. */
int rombsr_yh_created_id(const char *what, uint16_t asked, const uint8_t *resp, size_t resp_len, uint16_t *id_out);

/* connector.c: one POST to /connector/api, serialized on the connector.
 * resp must hold YH_RESPONSE_MAX bytes. */
int rombsr_yh_connector_transfer(struct rombsr_yh_connector *c, const uint8_t *msg, size_t len, uint8_t *resp,
				 size_t *resp_len);
/* An unauthenticated command (Device Info, Create Session): framed, sent,
 * its response parsed into resp (resp_len in/out). */
int rombsr_yh_plain(struct rombsr_yh_connector *c, uint8_t cmd, const char *what, const uint8_t *data, size_t len,
		    uint8_t *resp, size_t *resp_len);

/* scp03.c */
/* AES-CMAC over a || b (b may be empty). */
int rombsr_yh_cmac(const uint8_t key[YH_SCP_KEY_LEN], const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
		   uint8_t out[YH_SCP_BLOCK]);
/* The SCP03 KDF in counter mode, one block: CMAC(key, 11 zero bytes ||
 * constant || 0x00 || L(2) || 0x01 || context(16)), its first bits/8
 * bytes. bits is 64 or 128. */
int rombsr_yh_scp_kdf(const uint8_t key[YH_SCP_KEY_LEN], uint8_t constant, const uint8_t context[2 * YH_SCP_CHALLENGE_LEN],
		      uint16_t bits, uint8_t *out);
/* ISO 7816-4 padding then AES-128-CBC under s_enc with IV = AES-ECB(s_enc,
 * counter). out holds len rounded up to the next whole block (one more
 * block when len is one already). */
int rombsr_yh_scp_encrypt(const uint8_t s_enc[YH_SCP_KEY_LEN], const uint8_t counter[YH_SCP_BLOCK], const uint8_t *in,
			  size_t len, uint8_t *out, size_t out_size, size_t *out_len);
/* The reverse, into out (len bytes); the padding must be exactly 0x80 then
 * fewer than 16 zeros. */
int rombsr_yh_scp_decrypt(const uint8_t s_enc[YH_SCP_KEY_LEN], const uint8_t counter[YH_SCP_BLOCK], const uint8_t *in,
			  size_t len, uint8_t *out, size_t *out_len);
void rombsr_yh_counter_increment(uint8_t counter[YH_SCP_BLOCK]);

/* session.c */
/* The session's outer message for an inner command already framed: sid ||
 * encrypted || C-MAC, chaining the MAC. Exposed for the tests. */
int rombsr_yh_session_wrap(struct rombsr_yh_session *s, const uint8_t *inner, size_t inner_len, uint8_t *out,
			   size_t out_size, size_t *out_len);
/* The device's answer to it: R-MAC checked (ROMBSR_ESECURITY, the session
 * broken, when it does not verify), decrypted, the inner response returned
 * in inner (YH_RESPONSE_MAX bytes) with the counter advanced. An unauthenticated
 * error (YH_CMD_ERROR, one byte) ends the session. */
int rombsr_yh_session_unwrap(struct rombsr_yh_session *s, const char *what, const uint8_t *msg, size_t msg_len,
			     uint8_t *inner, size_t *inner_len);
/* Appends the C-MAC to msg (header and data there, the header's length
 * counting the MAC), advancing the chain. */
int rombsr_yh_add_cmac(struct rombsr_yh_session *s, uint8_t *msg, size_t len_without_mac);
/* Checks the R-MAC closing msg (CMAC(S-RMAC, chain || msg less its last 8
 * bytes)); ROMBSR_ESECURITY and the session broken when it does not verify. */
int rombsr_yh_check_rmac(struct rombsr_yh_session *s, const char *what, const uint8_t *msg, size_t msg_len);
/* One command in the session, named what in messages; resp_len in/out.
 * rombsr_yh_transfer() is this with the command's name. */
int rombsr_yh_command(struct rombsr_yh_session *s, uint8_t cmd, const char *what, const uint8_t *data, size_t len,
		      uint8_t *resp, size_t *resp_len);

/* rombsr_yh_command() with the response, at least min bytes, in a malloc'd
 * *out. */
int rombsr_yh_command_alloc(struct rombsr_yh_session *s, uint8_t cmd, const char *what, const uint8_t *data,
			    size_t len, size_t min, uint8_t **out, size_t *out_len);

/* audit_log.c: Get Log Entries' response (unlogged boot u16, unlogged
 * auth u16, count u8, count entries of 32 bytes). */
int rombsr_yh_parse_log(const uint8_t *resp, size_t resp_len, struct rombsr_yh_log *log);

/* device_info.c: Device Info's response (version 3 bytes, serial u32,
 * log total and used, then the algorithms). */
int rombsr_yh_parse_device_info(const uint8_t *resp, size_t resp_len, struct rombsr_yh_device_info *info);

#endif
