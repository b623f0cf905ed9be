#define _GNU_SOURCE
#include "signer_link.h"

#include "../common/error.h"
#include "../signer/channel.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the signer may inherit of the worker's environment: the
 * sanitizers' settings and the test-only fault module's configuration.
 * Nothing else (no LD_*, no SOFTHSM2_CONF: the signer sets that from its
 * configuration). */
static const char *const kept_environment[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ",
					       "ROMBSR_P11_FAULT_CONFIG"};

static int signer_path(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return rombsr_error(ROMBSR_EIO, "cannot find the running program: %s", strerror(errno));
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL || snprintf(out, size, "%.*s/rombsr-signer", (int)(slash - self), self) >= (int)size)
		return rombsr_error(ROMBSR_EIO, "cannot place rombsr-signer beside %s", self);
	return 0;
}

/* In the child: nothing returns from here. */
static void exec_signer(const char *program, const struct rombsr_config *cfg, const struct rombsr_authority_config *a,
			const char *state_path, const struct rombsr_user *user, int channel)
{
	char *env[sizeof(kept_environment) / sizeof(kept_environment[0]) + 1];
	char *argv[8];
	size_t n = 0, argc = 0;

	/* Keeps only its own end of its own channel: an inherited end of
	 * another signer's channel would keep that one from ever seeing the
	 * worker hang up. */
	if (channel != 3) {
		if (dup2(channel, 3) != 3)
			_exit(127);
		close(channel);
	}
	close_range(4, ~0U, 0);
	if (user != NULL && rombsr_user_become(user) < 0) {
		fprintf(stderr, "rombsr sign: %s signer: %s\n", a->name, rombsr_error_message(ROMBSR_EPERM));
		_exit(126);
	}
	for (size_t i = 0; i < sizeof(kept_environment) / sizeof(kept_environment[0]); i++) {
		const char *v = getenv(kept_environment[i]);

		if (v != NULL && asprintf(&env[n], "%s=%s", kept_environment[i], v) >= 0)
			n++;
	}
	env[n] = NULL;
	argv[argc++] = "rombsr-signer";
	if (cfg->source != NULL) {
		argv[argc++] = "--config";
		argv[argc++] = cfg->source;
	}
	argv[argc++] = "--authority";
	argv[argc++] = (char *)a->name;
	argv[argc++] = "--state";
	argv[argc++] = (char *)state_path;
	argv[argc] = NULL;
	execve(program, argv, env);
	fprintf(stderr, "rombsr sign: cannot run %s: %s\n", program, strerror(errno));
	_exit(127);
}

int rombsr_signer_start(const struct rombsr_config *cfg, const struct rombsr_authority_config *a,
			const char *state_path, const struct rombsr_user *user, int *fd, pid_t *pid,
			char token_label[33])
{
	struct rombsr_channel_reply hello;
	char program[PATH_MAX];
	int sv[2], r;

	*fd = -1;
	*pid = 0;
	r = signer_path(program, sizeof(program));
	if (r < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot make the signer channel");
	fflush(NULL);
	*pid = fork();
	if (*pid < 0) {
		close(sv[0]);
		close(sv[1]);
		*pid = 0;
		return rombsr_error(ROMBSR_EIO, "cannot start the %s signer", a->name);
	}
	if (*pid == 0)
		exec_signer(program, cfg, a, state_path, user, sv[1]);
	close(sv[1]);
	*fd = sv[0];
	if (rombsr_channel_recv(*fd, &hello, sizeof(hello)) < 0) {
		r = rombsr_error(ROMBSR_EHSM, "%s signer did not start", a->name);
	} else if (hello.status != 0) {
		/* The signer's own code: a wrong PIN, an authority not served here
		 * (no PIN file) and a damaged token store are told apart from an
		 * HSM that may come back (EHSM, ENOTFOUND: worth a retry). */
		int code = hello.status < 0 && hello.status >= ROMBSR_EFORK ? hello.status : ROMBSR_EHSM;

		hello.message[sizeof(hello.message) - 1] = '\0';
		r = rombsr_error(code, "%s signer: %s", a->name, hello.message);
	} else if (hello.label[0] == '\0' || memchr(hello.label, '\0', 33) == NULL) {
		r = rombsr_error(ROMBSR_EHSM, "%s signer: its hello names no token", a->name);
	}
	if (r < 0) {
		rombsr_signer_stop(*fd, *pid);
		*fd = -1;
		*pid = 0;
		return r;
	}
	memcpy(token_label, hello.label, 33);
	return 0;
}

void rombsr_signer_stop(int fd, pid_t pid)
{
	int status;

	if (fd >= 0)
		close(fd);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
}
