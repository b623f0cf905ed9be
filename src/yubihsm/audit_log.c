/* The device's audit log: Get Log Entries and Set Log Index. */
#include "yh_internal.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

#define LOG_HEAD_LEN 5

int rombsr_yh_parse_log(const uint8_t *resp, size_t resp_len, struct rombsr_yh_log *log)
{
	size_t n;

	memset(log, 0, sizeof(*log));
	if (resp_len < LOG_HEAD_LEN)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM Get Log Entries: response of %zu bytes, shorter than its head",
				    resp_len);
	n = resp[4];
	if (n > YH_LOG_ENTRIES)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM Get Log Entries: %zu entries, the device holds at most %d", n,
				    YH_LOG_ENTRIES);
	if (resp_len - LOG_HEAD_LEN != n * YH_LOG_ENTRY_LEN)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM Get Log Entries: %zu entries in %zu bytes", n,
				    resp_len - LOG_HEAD_LEN);
	log->unlogged_boot = yh_get16(resp);
	log->unlogged_auth = yh_get16(resp + 2);
	for (size_t i = 0; i < n; i++)
		rombsr_yh_log_entry_decode(resp + LOG_HEAD_LEN + i * YH_LOG_ENTRY_LEN, &log->entries[i]);
	log->n = n;
	return 0;
}

int rombsr_yh_get_log(struct rombsr_yh_session *s, struct rombsr_yh_log *log)
{
	uint8_t resp[LOG_HEAD_LEN + YH_LOG_ENTRIES * YH_LOG_ENTRY_LEN + 1];
	size_t resp_len = sizeof(resp);
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	memset(log, 0, sizeof(*log));
	r = rombsr_yh_command(s, YH_CMD_GET_LOG_ENTRIES, "Get Log Entries", NULL, 0, resp, &resp_len);
	if (r == 0)
		r = rombsr_yh_parse_log(resp, resp_len, log);
	return r;
}

int rombsr_yh_set_log_index(struct rombsr_yh_session *s, uint16_t number)
{
	uint8_t req[2], resp[1];
	size_t resp_len = 0;
	char what[48];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	yh_put16(req, number);
	snprintf(what, sizeof(what), "Set Log Index (%u)", number);
	return rombsr_yh_command(s, YH_CMD_SET_LOG_INDEX, what, req, sizeof(req), resp, &resp_len);
}
