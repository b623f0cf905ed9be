/* rombsr queue-hook: install the queue server's pre-receive hook, or run
 * as that hook (git calls it with the pushed updates on standard input). */
#include "cli.h"

#include "../common/error.h"
#include "../queue/gpg.h"
#include "../queue/hook.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { OPT_INSTALL = 1, OPT_RUN, OPT_ADMIN };

static const struct cli_option options[] = {
	{"install", "PATH", "install the hook into the bare queue at PATH", OPT_INSTALL},
	{"admin", "FPR", "pin this admin key in the hook (repeatable; default queue.admin)", OPT_ADMIN},
	{"run", NULL, "act as the pre-receive hook (git runs this)", OPT_RUN},
	{NULL, NULL, NULL, 0},
};

int cmd_queue_hook(struct cli_context *ctx, int argc, char **argv)
{
	char admins[16][41];
	size_t nadmins = 0;
	const char *install = NULL;
	bool run = false;
	struct cli_parser p;
	char exe[PATH_MAX];
	ssize_t n;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, "--install PATH [--admin FPR]... | --run")) > 0) {
		if (id == OPT_INSTALL)
			install = p.value;
		else if (id == OPT_RUN)
			run = true;
		else if (nadmins == 16)
			return rombsr_error(ROMBSR_EINVAL, "at most 16 --admin keys");
		else if (!rombsr_fpr_valid(p.value))
			return rombsr_error(ROMBSR_EINVAL, "--admin: '%.48s' is not an OpenPGP fingerprint (40 upper-case hex)",
					    p.value);
		else
			memcpy(admins[nadmins++], p.value, 41);
	}
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (run == (install != NULL))
		return rombsr_error(ROMBSR_EINVAL, "give either --install PATH or --run");
	if (run) {
		r = rombsr_hook_run(stdin, stderr);
		/* The refusals are already on stderr for the pusher to read. */
		return r < 0 ? rombsr_error(r, "push refused") : 0;
	}
	if (nadmins == 0) {
		const struct rombsr_config *cfg;

		r = cli_config(ctx, &cfg);
		if (r < 0)
			return r;
		for (size_t i = 0; i < cfg->queue_nadmins; i++)
			memcpy(admins[nadmins++], cfg->queue_admins[i], 41);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return rombsr_error(ROMBSR_EIO, "cannot find the path of rombsr for the hook");
	exe[n] = '\0';
	r = rombsr_hook_install(install, exe, admins, nadmins);
	if (r == 0)
		cli_info("installed the pre-receive hook in %s (%zu admin keys pinned)", install, nadmins);
	return r;
}
