/* Device Info: the one command ROMbsr sends outside a session. */
#include "yh_internal.h"

#include "../common/error.h"

#include <string.h>

#define DEVICE_INFO_HEAD 9

int rombsr_yh_parse_device_info(const uint8_t *resp, size_t resp_len, struct rombsr_yh_device_info *info)
{
	memset(info, 0, sizeof(*info));
	if (resp_len < DEVICE_INFO_HEAD || resp_len - DEVICE_INFO_HEAD > sizeof(info->algorithms))
		return rombsr_error(ROMBSR_EHSM, "YubiHSM Device Info: response of %zu bytes", resp_len);
	info->major = resp[0];
	info->minor = resp[1];
	info->patch = resp[2];
	info->serial = yh_get32(resp + 3);
	info->log_total = resp[7];
	info->log_used = resp[8];
	info->n_algorithms = resp_len - DEVICE_INFO_HEAD;
	memcpy(info->algorithms, resp + DEVICE_INFO_HEAD, info->n_algorithms);
	return 0;
}

int rombsr_yh_device_info(struct rombsr_yh_connector *c, struct rombsr_yh_device_info *info)
{
	uint8_t resp[DEVICE_INFO_HEAD + sizeof(info->algorithms)];
	size_t resp_len = sizeof(resp);
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	memset(info, 0, sizeof(*info));
	r = rombsr_yh_plain(c, YH_CMD_DEVICE_INFO, "Device Info", NULL, 0, resp, &resp_len);
	if (r == 0)
		r = rombsr_yh_parse_device_info(resp, resp_len, info);
	return r;
}
