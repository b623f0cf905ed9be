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
