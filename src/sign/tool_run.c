/* The artifact routes' tools (tool_run.h): posix_spawn, never a shell, so
 * no word of an argv is split, globbed or expanded; a minimal environment;
 * no inherited descriptor but stdin (/dev/null), stdout and stderr (files
 * of the call's folder); a time limit. Runs in an HTTP thread. */
#define _GNU_SOURCE
#include "tool_run.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The last non-empty line of the tool's stderr, for the client's error. */
static void last_line(const char *path, char *out, size_t size)
{
	struct rombsr_buf b;
	size_t end, start;

	snprintf(out, size, "(no message)");
	if (rombsr_file_read(path, 1u << 20, &b) < 0) {
		rombsr_error_clear();
		return;
	}
	end = b.len;
	/* A tool that prints its usage after the error (mkimage): the line
	 * before the usage. */
	for (size_t i = 0; i + 6 <= b.len; i++)
		if ((i == 0 || b.data[i - 1] == '\n') && memcmp(b.data + i, "Usage:", 6) == 0) {
			end = i;
			break;
		}
	while (end > 0 && (b.data[end - 1] == '\n' || b.data[end - 1] == '\r' || b.data[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && b.data[start - 1] != '\n')
		start--;
	if (end > start) {
		snprintf(out, size, "%.*s", (int)(end - start), (const char *)b.data + start);
		for (char *p = out; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
	}
	rombsr_buf_free(&b);
}

static int wait_for(pid_t pid, unsigned timeout, int *status, bool *timed_out)
{
	struct timespec step = {0, 20 * 1000 * 1000};
	unsigned long waited_ms = 0;
	pid_t got;

	*timed_out = false;
	for (;;) {
		got = waitpid(pid, status, WNOHANG);
		if (got == pid)
			return 0;
		if (got < 0 && errno != EINTR)
			return rombsr_error(ROMBSR_EIO, "waitpid: %s", strerror(errno));
		if (waited_ms >= (unsigned long)timeout * 1000) {
			*timed_out = true;
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return 0;
		}
		nanosleep(&step, NULL);
		waited_ms += 20;
	}
}

int rombsr_tool_run(const char *const *argv, const char *const *envp, const char *dir, const char *out_path,
		    const char *err_path, unsigned timeout)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0, e, r = 0;
	bool timed_out = false;
	char line[512], *name = strrchr(argv[0], '/');

	name = name != NULL ? name + 1 : (char *)argv[0];
	if (access(argv[0], X_OK) != 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "%s: %s (is its Debian package installed? scripts/install-deps.sh)",
				    argv[0], strerror(errno));
	if (posix_spawn_file_actions_init(&fa) != 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	e = posix_spawn_file_actions_addchdir_np(&fa, dir);
	if (e == 0)
		e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (e == 0)
		e = posix_spawn_file_actions_addopen(&fa, 1, out_path != NULL ? out_path : "/dev/null",
						     O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (e == 0)
		e = posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	/* The TLS sockets and the signers' channels stay in the worker. */
	if (e == 0)
		e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (e == 0)
		e = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, (char *const *)envp);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0)
		return rombsr_error(ROMBSR_EIO, "cannot run %s: %s", argv[0], strerror(e));
	r = wait_for(pid, timeout, &status, &timed_out);
	if (r < 0)
		return r;
	if (timed_out)
		return rombsr_error(ROMBSR_EIO, "%s took more than %u seconds (server.tool-timeout): killed", name, timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	last_line(err_path, line, sizeof(line));
	if (WIFSIGNALED(status))
		return rombsr_error(ROMBSR_EINVAL, "%s was killed by signal %d: %s", name, WTERMSIG(status), line);
	return rombsr_error(ROMBSR_EINVAL, "%s failed (exit status %d): %s", name, WEXITSTATUS(status), line);
}
