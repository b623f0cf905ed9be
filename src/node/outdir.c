/* Result folders that appear whole (outdir.h). */
#define _GNU_SOURCE
#include "outdir.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int outdir_begin(const char *out, char **scratch)
{
	if (asprintf(scratch, "%s.tmp-XXXXXX", out) < 0) {
		*scratch = NULL;
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (mkdtemp(*scratch) == NULL) {
		int e = errno;

		free(*scratch);
		*scratch = NULL;
		return rombsr_error(ROMBSR_EIO, "cannot create a folder beside %s: %s", out, strerror(e));
	}
	return 0;
}

int outdir_finish(char **scratch, const char *out)
{
	/* RENAME_NOREPLACE: a plain rename would replace an empty folder that
	 * appeared at out since the start. */
	if (renameat2(AT_FDCWD, *scratch, AT_FDCWD, out, RENAME_NOREPLACE) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot move the result to %s: %s", out, strerror(errno));
	free(*scratch);
	*scratch = NULL;
	return 0;
}

void outdir_discard(char **scratch)
{
	struct rombsr_error_saved saved;

	if (*scratch == NULL)
		return;
	rombsr_error_save(&saved);
	rombsr_remove_tree(*scratch);
	rombsr_error_restore(&saved);
	free(*scratch);
	*scratch = NULL;
}
