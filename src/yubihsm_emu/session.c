/* SCP03 sessions (session.h). The host's side is Yubico's lib/yubihsm.c:
 * the context is host challenge || card challenge; S-ENC, S-MAC and S-RMAC
 * come from the authentication key's two halves by the KDF; each command's
 * C-MAC chains on the previous one (so a replayed or reordered message
 * fails its MAC); the IV is the encrypted counter, the same for a command
 * and its response; the R-MAC covers the response under the chain value of
 * the command it answers. */
#include "session.h"
#include "scp.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#define NO_KEY 0xffff

void emu_session_end(struct emu_session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

static void touch(struct emu_session *s)
{
	if (clock_gettime(CLOCK_MONOTONIC, &s->last_used) != 0)
		memset(&s->last_used, 0, sizeof(s->last_used));
}

void emu_sessions_expire(struct emu_device *dev)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return;
	for (size_t i = 0; i < YH_MAX_SESSIONS; i++) {
		struct emu_session *s = &dev->sessions[i];

		if (s->used && now.tv_sec - s->last_used.tv_sec > (time_t)dev->session_timeout)
			emu_session_end(s);
	}
}

/* Logs a session command, or counts it as unlogged when force audit leaves
 * no room: establishing a session always works, so the log can be read. */
static void log_session(struct emu_device *dev, uint8_t cmd, size_t len, uint16_t session_key, uint16_t target,
			uint8_t result)
{
	struct emu_log_entry e;

	if (dev->command_audit[cmd] == 0)
		return;
	if (dev->force_audit != 0 && emu_log_full(dev)) {
		/* One authentication, one count: the session's second step. */
		if (cmd == YH_CMD_AUTHENTICATE_SESSION)
			dev->log.unlogged_auth++;
	} else {
		memset(&e, 0, sizeof(e));
		e.command = cmd;
		e.length = (uint16_t)len;
		e.session_key = session_key;
		e.target_key = target;
		e.second_key = NO_KEY;
		e.result = result;
		e.systick = emu_device_systick(dev);
		emu_log_add(dev, &e);
	}
	emu_state_persist(dev);
}

static int derive(struct emu_session *s, const struct emu_object *key)
{
	int r = 0;

	r |= emu_kdf(key->data, YH_SCP_S_ENC, s->context, 128, s->s_enc);
	r |= emu_kdf(key->data + YH_SCP_KEY_LEN, YH_SCP_S_MAC, s->context, 128, s->s_mac);
	r |= emu_kdf(key->data + YH_SCP_KEY_LEN, YH_SCP_S_RMAC, s->context, 128, s->s_rmac);
	return r;
}

void emu_session_create(struct emu_device *dev, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	struct emu_object *key;
	struct emu_session *s = NULL;
	uint8_t *p = out + YH_MSG_HEADER;
	size_t sid;

	if (len != 2 + YH_SCP_CHALLENGE_LEN) {
		emu_respond_error(out, out_len, YH_ERR_WRONG_LENGTH);
		return;
	}
	key = emu_object_find(dev, emu_get_u16(in), YH_TYPE_AUTHENTICATION_KEY);
	if (key == NULL || key->len != 2 * YH_SCP_KEY_LEN) {
		log_session(dev, YH_CMD_CREATE_SESSION, len, NO_KEY, emu_get_u16(in), YH_CMD_ERROR);
		emu_respond_error(out, out_len, YH_ERR_OBJECT_NOT_FOUND);
		return;
	}
	for (sid = 0; sid < YH_MAX_SESSIONS; sid++)
		if (!dev->sessions[sid].used) {
			s = &dev->sessions[sid];
			break;
		}
	if (s == NULL) {
		emu_respond_error(out, out_len, YH_ERR_SESSIONS_FULL);
		return;
	}
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->auth_id = key->id;
	touch(s);
	memcpy(s->context, in + 2, YH_SCP_CHALLENGE_LEN);
	if (RAND_bytes(s->context + YH_SCP_CHALLENGE_LEN, YH_SCP_CHALLENGE_LEN) != 1 || derive(s, key) != 0 ||
	    emu_kdf(s->s_mac, YH_SCP_CARD_CRYPTOGRAM, s->context, 64, p + 1 + YH_SCP_CHALLENGE_LEN) != 0) {
		emu_session_end(s);
		emu_respond_error(out, out_len, YH_ERR_SESSION_FAILED);
		return;
	}
	p[0] = (uint8_t)sid;
	memcpy(p + 1, s->context + YH_SCP_CHALLENGE_LEN, YH_SCP_CHALLENGE_LEN);
	out[0] = YH_CMD_CREATE_SESSION | YH_RESPONSE_FLAG;
	emu_put_u16(out + 1, 1 + 2 * YH_SCP_CHALLENGE_LEN);
	*out_len = YH_MSG_HEADER + 1 + 2 * YH_SCP_CHALLENGE_LEN;
	log_session(dev, YH_CMD_CREATE_SESSION, len, NO_KEY, key->id, out[0]);
}

/* The C-MAC of a message whose header says len (MAC included): CMAC of
 * chain || cmd || len || data without the MAC. */
static int command_mac(const struct emu_session *s, uint8_t cmd, const uint8_t *in, size_t len, uint8_t mac[16])
{
	uint8_t buf[16 + YH_MSG_MAX];

	memcpy(buf, s->mac_chain, 16);
	buf[16] = cmd;
	emu_put_u16(buf + 17, (uint16_t)len);
	memcpy(buf + 19, in, len - YH_SCP_MAC_LEN);
	return emu_cmac(s->s_mac, buf, 16 + YH_MSG_HEADER + len - YH_SCP_MAC_LEN, mac);
}

void emu_session_authenticate(struct emu_device *dev, const uint8_t *in, size_t len, uint8_t *out,
			      size_t *out_len)
{
	struct emu_session *s;
	uint8_t mac[16], expected[YH_SCP_CHALLENGE_LEN];
	uint16_t auth_id;

	if (len != 1 + YH_SCP_CHALLENGE_LEN + YH_SCP_MAC_LEN) {
		emu_respond_error(out, out_len, YH_ERR_WRONG_LENGTH);
		return;
	}
	if (in[0] >= YH_MAX_SESSIONS || !dev->sessions[in[0]].used || dev->sessions[in[0]].authenticated) {
		emu_respond_error(out, out_len, YH_ERR_INVALID_SESSION);
		return;
	}
	s = &dev->sessions[in[0]];
	auth_id = s->auth_id;
	memset(s->mac_chain, 0, sizeof(s->mac_chain));
	if (command_mac(s, YH_CMD_AUTHENTICATE_SESSION, in, len, mac) != 0 ||
	    emu_kdf(s->s_mac, YH_SCP_HOST_CRYPTOGRAM, s->context, 64, expected) != 0 ||
	    CRYPTO_memcmp(mac, in + len - YH_SCP_MAC_LEN, YH_SCP_MAC_LEN) != 0 ||
	    CRYPTO_memcmp(expected, in + 1, YH_SCP_CHALLENGE_LEN) != 0) {
		emu_session_end(s);
		log_session(dev, YH_CMD_AUTHENTICATE_SESSION, len, auth_id, NO_KEY, YH_CMD_ERROR);
		emu_respond_error(out, out_len, YH_ERR_AUTHENTICATION_FAILED);
		return;
	}
	memcpy(s->mac_chain, mac, 16);
	memset(s->counter, 0, sizeof(s->counter));
	emu_counter_increment(s->counter);
	s->authenticated = true;
	touch(s);
	out[0] = YH_CMD_AUTHENTICATE_SESSION | YH_RESPONSE_FLAG;
	emu_put_u16(out + 1, 0);
	*out_len = YH_MSG_HEADER;
	log_session(dev, YH_CMD_AUTHENTICATE_SESSION, len, auth_id, NO_KEY, out[0]);
}

/* Encrypts the inner response and wraps it: 0x85 || len || sid ||
 * ciphertext || R-MAC. */
static int seal(struct emu_session *s, uint8_t sid, const uint8_t iv[16], uint8_t *inner, size_t inner_len,
		uint8_t *out, size_t *out_len)
{
	uint8_t buf[16 + YH_MSG_MAX];
	uint8_t mac[16];
	size_t padded = emu_pad(inner, inner_len);
	size_t outer = 1 + padded + YH_SCP_MAC_LEN;

	if (YH_MSG_HEADER + outer > YH_MSG_MAX)
		return -1;
	out[0] = YH_CMD_SESSION_MESSAGE | YH_RESPONSE_FLAG;
	emu_put_u16(out + 1, (uint16_t)outer);
	out[3] = sid;
	if (emu_aes_cbc(s->s_enc, iv, inner, padded, out + 4, true) != 0)
		return -1;
	memcpy(buf, s->mac_chain, 16);
	memcpy(buf + 16, out, YH_MSG_HEADER + 1 + padded);
	if (emu_cmac(s->s_rmac, buf, 16 + YH_MSG_HEADER + 1 + padded, mac) != 0)
		return -1;
	memcpy(out + 4 + padded, mac, YH_SCP_MAC_LEN);
	*out_len = YH_MSG_HEADER + outer;
	return 0;
}

/* Checks the C-MAC and decrypts: the inner message's length, or -1 with
 * the error to answer in *error. */
static long open_message(struct emu_session *s, const uint8_t *in, size_t len, const uint8_t iv[16],
			 uint8_t *plain, uint8_t *error)
{
	uint8_t mac[16];
	size_t ct_len = len - 1 - YH_SCP_MAC_LEN;
	long n;

	if (command_mac(s, YH_CMD_SESSION_MESSAGE, in, len, mac) != 0 ||
	    CRYPTO_memcmp(mac, in + len - YH_SCP_MAC_LEN, YH_SCP_MAC_LEN) != 0) {
		*error = YH_ERR_AUTHENTICATION_FAILED;
		return -1;
	}
	memcpy(s->mac_chain, mac, 16);
	if (emu_aes_cbc(s->s_enc, iv, in + 1, ct_len, plain, false) != 0) {
		*error = YH_ERR_INVALID_DATA;
		return -1;
	}
	n = emu_unpad(plain, ct_len);
	if (n < YH_MSG_HEADER || emu_get_u16(plain + 1) != (size_t)n - YH_MSG_HEADER) {
		*error = YH_ERR_WRONG_LENGTH;
		return -1;
	}
	return n;
}

static void end_sessions(struct emu_device *dev)
{
	for (size_t i = 0; i < YH_MAX_SESSIONS; i++)
		emu_session_end(&dev->sessions[i]);
}

void emu_session_message(struct emu_device *dev, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	uint8_t plain[YH_MSG_MAX + 16], inner[YH_MSG_MAX + 16], iv[16];
	struct emu_ctx c;
	struct emu_session *s;
	size_t inner_len = 0;
	uint8_t error = 0;
	long n;

	if (len < 1 || in[0] >= YH_MAX_SESSIONS || !dev->sessions[in[0]].authenticated) {
		emu_respond_error(out, out_len, YH_ERR_INVALID_SESSION);
		return;
	}
	s = &dev->sessions[in[0]];
	if (len < 1 + 16 + YH_SCP_MAC_LEN || (len - 1 - YH_SCP_MAC_LEN) % 16 != 0) {
		emu_respond_error(out, out_len, YH_ERR_WRONG_LENGTH);
		return;
	}
	if (emu_aes_block(s->s_enc, s->counter, iv) != 0) {
		emu_respond_error(out, out_len, YH_ERR_COMMAND_UNEXECUTED);
		return;
	}
	n = open_message(s, in, len, iv, plain, &error);
	if (n < 0 && error == YH_ERR_AUTHENTICATION_FAILED) {
		/* Nothing ran; the channel is broken, as SCP03 ends it. */
		emu_session_end(s);
		emu_respond_error(out, out_len, error);
		return;
	}
	touch(s);
	memset(&c, 0, sizeof(c));
	c.dev = dev;
	c.session = s;
	if (n < 0) {
		inner[0] = YH_CMD_ERROR;
		emu_put_u16(inner + 1, 1);
		inner[3] = error;
		inner_len = 4;
	} else {
		emu_dispatch(&c, plain[0], plain + YH_MSG_HEADER, (size_t)n - YH_MSG_HEADER, inner, &inner_len);
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	if (seal(s, in[0], iv, inner, inner_len, out, out_len) != 0)
		emu_respond_error(out, out_len, YH_ERR_COMMAND_UNEXECUTED);
	OPENSSL_cleanse(inner, sizeof(inner));
	emu_counter_increment(s->counter);
	if (c.end_session)
		emu_session_end(s);
	if (c.reset)
		end_sessions(dev);
}
