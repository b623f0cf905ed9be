#include "audit_internal.h"

#include "../common/error.h"

int audit_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out, const char *what)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return rombsr_error(ROMBSR_EINVAL, "%s: expected a decimal number", what);
	if (len > 1 && s[0] == '0')
		return rombsr_error(ROMBSR_EINVAL, "%s: leading zero", what);
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return rombsr_error(ROMBSR_EINVAL, "%s: not a decimal number", what);
		d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return rombsr_error(ROMBSR_EINVAL, "%s: larger than %llu", what, (unsigned long long)max);
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
