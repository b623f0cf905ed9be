/* rombsr-signer: the privileged half of the sign node, one process per
 * authority. Only rombsr-sign starts it: as the signer user, with its
 * channel on descriptor 3 and nothing else open.
 * Usage: rombsr-signer [--config FILE] --authority NAME --state PATH
 * (no --config: the built-in defaults, as the worker found no file). */
#define _GNU_SOURCE
#include "channel.h"
#include "signer.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../hsm/provision.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHANNEL_FD 3

/* A signer that cannot start still answers the hello, so the worker
 * reports why instead of "did not start". */
static int refuse(int code)
{
	struct rombsr_channel_reply reply;

	memset(&reply, 0, sizeof(reply));
	reply.magic = ROMBSR_CHANNEL_MAGIC;
	reply.status = code;
	snprintf(reply.message, sizeof(reply.message), "%s", rombsr_error_message(code));
	rombsr_channel_send(CHANNEL_FD, &reply, sizeof(reply));
	return 1;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *authority = NULL, *state = NULL;
	struct rombsr_config cfg;
	enum rombsr_authority_id id;
	struct stat st;
	int r;

	/* Never traced or dumped: it holds the PIN and the session. Ends with
	 * the worker (a death signal set before exec does not survive the
	 * change of user, so it is set here). */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 1;
	if (fstat(CHANNEL_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "rombsr-signer: started by rombsr-sign only (no channel on descriptor %d)\n",
			CHANNEL_FD);
		return 2;
	}
	close_range(CHANNEL_FD + 1, ~0U, 0);
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--config") == 0)
			config = argv[i + 1];
		else if (strcmp(argv[i], "--authority") == 0)
			authority = argv[i + 1];
		else if (strcmp(argv[i], "--state") == 0)
			state = argv[i + 1];
	}
	if (authority == NULL || state == NULL || argc != (config ? 7 : 5))
		return refuse(rombsr_error(ROMBSR_EINVAL,
					   "usage: rombsr-signer [--config FILE] --authority NAME --state PATH"));
	r = rombsr_authority_from_name(authority, &id);
	if (r < 0)
		return refuse(r);
	r = rombsr_config_load(config, &cfg);
	if (r < 0)
		return refuse(r);
	/* No PIN file: this node does not serve the authority (the worker,
	 * which may not look at PIN files, learns it here). */
	if (!rombsr_path_exists(cfg.authority[id].pin_file))
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "no PIN file %s: this node does not serve the %s authority",
				 cfg.authority[id].pin_file, authority);
	else
		r = rombsr_softhsm_prepare(&cfg);
	if (r < 0) {
		rombsr_config_free(&cfg);
		return refuse(r);
	}
	r = rombsr_signer_serve(&cfg.authority[id], state, CHANNEL_FD);
	rombsr_config_free(&cfg);
	/* Failures before the hello reached the worker in it. */
	return r < 0 ? 1 : 0;
}
