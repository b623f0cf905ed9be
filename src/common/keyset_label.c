/* Key labels and the file names they map to, apart from the key set's
 * parser: the capture module checks bundle labels with these and must not
 * pull in the configuration reader (libgit2) that the key set needs. */
#include "keyset.h"

#include <string.h>

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool rombsr_keyset_label_ok(const char *label)
{
	size_t n = strlen(label);

	if (n == 0 || n > ROMBSR_KEYSET_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = label[i];
		bool segment_start = i == 0 || label[i - 1] == '/';

		if (segment_start && !alnum(c))
			return false;
		if (!alnum(c) && c != '_' && c != '-' && c != '.' && c != '/')
			return false;
	}
	return label[n - 1] != '/';
}

void rombsr_keyset_label_file(const char *label, char out[ROMBSR_KEYSET_LABEL_MAX + 1])
{
	size_t i;

	for (i = 0; i < ROMBSR_KEYSET_LABEL_MAX && label[i] != '\0'; i++)
		out[i] = label[i] == '/' ? '+' : label[i];
	out[i] = '\0';
}

bool rombsr_keyset_retired_base(const char *label, char base[ROMBSR_KEYSET_LABEL_MAX + 1])
{
	const char *at = strchr(label, '@');
	size_t n;

	if (at == NULL || strlen(at + 1) != ROMBSR_KEYSET_RETIRED_HEX)
		return false;
	for (const char *p = at + 1; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	n = (size_t)(at - label);
	if (n == 0 || n + 1 + ROMBSR_KEYSET_RETIRED_HEX > ROMBSR_KEYSET_LABEL_MAX)
		return false;
	memcpy(base, label, n);
	base[n] = '\0';
	return rombsr_keyset_label_ok(base);
}

bool rombsr_keyset_any_label_ok(const char *label)
{
	char base[ROMBSR_KEYSET_LABEL_MAX + 1];

	return rombsr_keyset_label_ok(label) || rombsr_keyset_retired_base(label, base);
}

bool rombsr_keyset_retired_label(const char *label, const char *spki_sha256, char out[ROMBSR_KEYSET_LABEL_MAX + 1])
{
	size_t n = strlen(label);

	if (!rombsr_keyset_label_ok(label) || n + 1 + ROMBSR_KEYSET_RETIRED_HEX > ROMBSR_KEYSET_LABEL_MAX ||
	    strlen(spki_sha256) < ROMBSR_KEYSET_RETIRED_HEX)
		return false;
	memcpy(out, label, n);
	out[n] = '@';
	memcpy(out + n + 1, spki_sha256, ROMBSR_KEYSET_RETIRED_HEX);
	out[n + 1 + ROMBSR_KEYSET_RETIRED_HEX] = '\0';
	return true;
}
