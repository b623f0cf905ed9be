#include "cli.h"

#include "../common/error.h"

#include <string.h>

int cli_authority_filter(const char *name, bool selected[ROMBSR_AUTHORITY_COUNT])
{
	enum rombsr_authority_id id;
	int r;

	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		selected[i] = name == NULL || strcmp(name, "all") == 0;
	if (name == NULL || strcmp(name, "all") == 0)
		return 0;
	r = rombsr_authority_from_name(name, &id);
	if (r == 0)
		selected[id] = true;
	return r;
}
