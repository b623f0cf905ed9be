/* The device's audit log entries on the wire, and their hash chain. */
#include "yh_internal.h"

#include "../common/device_chain.h"
#include "../common/error.h"

#include <string.h>

#define ENTRY_HEAD_LEN (YH_LOG_ENTRY_LEN - YH_LOG_DIGEST_LEN)

void rombsr_yh_log_entry_encode(const struct rombsr_yh_log_entry *e, uint8_t out[YH_LOG_ENTRY_LEN])
{
	yh_put16(out, e->number);
	out[2] = e->command;
	yh_put16(out + 3, e->length);
	yh_put16(out + 5, e->session_key);
	yh_put16(out + 7, e->target_key);
	yh_put16(out + 9, e->second_key);
	out[11] = e->result;
	yh_put32(out + 12, e->systick);
	memcpy(out + ENTRY_HEAD_LEN, e->digest, YH_LOG_DIGEST_LEN);
}

int rombsr_yh_log_entry_decode(const uint8_t in[YH_LOG_ENTRY_LEN], struct rombsr_yh_log_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->number = yh_get16(in);
	e->command = in[2];
	e->length = yh_get16(in + 3);
	e->session_key = yh_get16(in + 5);
	e->target_key = yh_get16(in + 7);
	e->second_key = yh_get16(in + 9);
	e->result = in[11];
	e->systick = yh_get32(in + 12);
	memcpy(e->digest, in + ENTRY_HEAD_LEN, YH_LOG_DIGEST_LEN);
	return 0;
}

bool rombsr_yh_log_entry_chains(const struct rombsr_yh_log_entry *e, const uint8_t previous[YH_LOG_DIGEST_LEN])
{
	uint8_t wire[YH_LOG_ENTRY_LEN];

	rombsr_yh_log_entry_encode(e, wire);
	return rombsr_device_entry_chains(wire, previous);
}
