/* What the YubiHSM connector answers (src/yubihsm/): the connector and the
 * network are not trusted, so every byte of a response is input. The first
 * byte picks the parser, the rest is the response:
 *   0  a plain response (rombsr_yh_parse_response, for Get Opaque)
 *   1  Get Log Entries' data (rombsr_yh_parse_log), every entry re-encoded
 *   2  Device Info's data (rombsr_yh_parse_device_info)
 *   3  a session message answer as it came (rombsr_yh_session_unwrap): the
 *      R-MAC stops nearly all of it, which is the point
 *   4  the answer's ciphertext, given a valid header and R-MAC by the
 *      harness, so decryption, padding and the inner frame are reached. */
#include "util.h"

#include "../src/common/error.h"
#include "../src/yubihsm/yh_internal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void session(struct rombsr_yh_session *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < YH_SCP_KEY_LEN; i++) {
		s->s_enc[i] = (uint8_t)i;
		s->s_mac[i] = (uint8_t)(0x40 + i);
		s->s_rmac[i] = (uint8_t)(0x80 + i);
	}
	s->counter[YH_SCP_BLOCK - 1] = 1;
	s->sid = 5;
	s->state = YH_SESSION_OPEN;
}

static void unwrap(const uint8_t *data, size_t size, bool add_mac)
{
	static uint8_t msg[YH_RESPONSE_MAX], inner[YH_RESPONSE_MAX];
	struct rombsr_yh_session s;
	size_t len = size, inner_len = 0;
	uint8_t mac[YH_SCP_BLOCK];
	int r;

	session(&s);
	if (add_mac) {
		if (size > YH_MSG_MAX - 1 - YH_SCP_MAC_LEN)
			return;
		msg[0] = YH_CMD_SESSION_MESSAGE | YH_RESPONSE_FLAG;
		yh_put16(msg + 1, (uint16_t)(1 + size + YH_SCP_MAC_LEN));
		msg[3] = s.sid;
		memcpy(msg + 4, data, size);
		if (rombsr_yh_cmac(s.s_rmac, s.mac_chain, YH_SCP_BLOCK, msg, 4 + size, mac) != 0)
			abort();
		memcpy(msg + 4 + size, mac, YH_SCP_MAC_LEN);
		len = 4 + size + YH_SCP_MAC_LEN;
	} else {
		if (size > sizeof(msg))
			return;
		memcpy(msg, data, size);
	}
	r = rombsr_yh_session_unwrap(&s, "fuzz", msg, len, inner, &inner_len);
	if (r == 0) {
		fuzz_check(inner_len >= YH_MSG_HEADER && yh_get16(inner + 1) == inner_len - YH_MSG_HEADER,
			   "yh_response: an inner frame whose length disagrees was accepted");
		fuzz_check(s.state == YH_SESSION_OPEN && s.counter[YH_SCP_BLOCK - 1] == 2,
			   "yh_response: an accepted answer did not advance the counter");
	} else {
		fuzz_check(s.state != YH_SESSION_OPEN, "yh_response: a refused answer left the session open");
	}
	rombsr_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body = NULL;
	size_t body_len = 0;
	struct rombsr_yh_log log;
	struct rombsr_yh_device_info info;
	uint8_t wire[YH_LOG_ENTRY_LEN];

	if (size < 1)
		return 0;
	switch (data[0]) {
	case 0:
		if (rombsr_yh_parse_response(YH_CMD_GET_OPAQUE, "fuzz", data + 1, size - 1, &body, &body_len) == 0)
			fuzz_check(body == data + 1 + YH_MSG_HEADER && body_len == size - 1 - YH_MSG_HEADER &&
					   data[1] == (YH_CMD_GET_OPAQUE | YH_RESPONSE_FLAG),
				   "yh_response: a plain response accepted with the wrong data");
		break;
	case 1:
		if (rombsr_yh_parse_log(data + 1, size - 1, &log) == 0) {
			fuzz_check(log.n <= YH_LOG_ENTRIES && 5 + log.n * YH_LOG_ENTRY_LEN == size - 1,
				   "yh_response: a log whose count disagrees was accepted");
			for (size_t i = 0; i < log.n; i++) {
				rombsr_yh_log_entry_encode(&log.entries[i], wire);
				fuzz_same(wire, sizeof(wire), data + 1 + 5 + i * YH_LOG_ENTRY_LEN, YH_LOG_ENTRY_LEN,
					  "yh_response: a log entry does not re-encode to its bytes");
				(void)rombsr_yh_log_entry_chains(&log.entries[i], i > 0 ? log.entries[i - 1].digest : wire);
			}
		}
		break;
	case 2:
		if (rombsr_yh_parse_device_info(data + 1, size - 1, &info) == 0)
			fuzz_check(info.n_algorithms + 9 == size - 1, "yh_response: Device Info's algorithms miscounted");
		break;
	case 3:
		unwrap(data + 1, size - 1, false);
		break;
	case 4:
		unwrap(data + 1, size - 1, true);
		break;
	default:
		break;
	}
	rombsr_error_clear();
	return 0;
}
