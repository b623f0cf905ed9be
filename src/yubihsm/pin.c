/* The PIN form Yubico's PKCS#11 module takes, which ROMbsr's PIN files keep
 * for the YubiHSM too: one file names both the key and its password. */
#include "yh_client.h"

#include "../common/error.h"

int rombsr_yh_parse_pin(const char *pin, uint16_t *auth_id, const char **password)
{
	unsigned id = 0;

	for (int i = 0; i < 4; i++) {
		char c = pin[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return rombsr_error(ROMBSR_EINVAL, "a YubiHSM PIN is 4 hex digits of an authentication key ID "
							   "followed by its password (e.g. 0003…)");
		id = id << 4 | (unsigned)v;
	}
	if (id == 0 || pin[4] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "a YubiHSM PIN names authentication key 0 or has no password");
	*auth_id = (uint16_t)id;
	*password = pin + 4;
	return 0;
}
