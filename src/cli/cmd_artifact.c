/* rombsr avb|ota|manifest …: these tools sign through a PKCS#11 module,
 * which the client never loads (docs/sign-node.md, "Privilege
 * separation"), so they live in rombsr-artifact beside this program and
 * the client hands the command line over to it. */
#include "cli.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* rombsr-artifact in the folder of the running rombsr: never a $PATH
 * lookup, so that a build's own PATH cannot swap the signing tool. */
static int artifact_path(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return rombsr_error(ROMBSR_EIO, "/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	return rombsr_path_format(out, size, "%s/rombsr-artifact", dirname(self));
}

int cmd_artifact(struct cli_context *ctx, int argc, char **argv)
{
	char path[PATH_MAX];
	char **args = calloc((size_t)argc + 4, sizeof(*args));
	int n = 0, r;

	if (args == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = artifact_path(path, sizeof(path));
	if (r < 0)
		goto out;
	args[n++] = "rombsr-artifact";
	if (ctx->config_path != NULL) {
		args[n++] = "--config";
		args[n++] = (char *)ctx->config_path;
	}
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execv(path, args);
	r = rombsr_error(ROMBSR_ENOTFOUND, "cannot run %s: %s (it is installed beside rombsr)", path,
			 strerror(errno));
out:
	free(args);
	return r;
}
