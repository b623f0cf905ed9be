/* Child processes of rom-sign: the plan's steps, and rombsr itself for
 * submit and apply. fork and execve only: an argv from the plan is never
 * given to a shell, so no word of it is split, globbed or expanded; the
 * program is looked up in PATH here (execvp would hand a file without a
 * "#!" line to /bin/sh). */
#define _GNU_SOURCE
#include "rom_sign.h"

#include "../common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

void rom_describe_status(int status, char *out, size_t size)
{
	if (WIFEXITED(status))
		snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, size, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, size, "ended with wait status %#x", (unsigned)status);
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The program's path: argv[0] itself if it holds a '/' (then relative to
 * the child's folder), else the first executable file of that name in
 * the child's PATH. */
static int find_program(const char *name, char *const *envp, char **out)
{
	const char *path = env_get(envp, "PATH"), *p, *end;

	if (strchr(name, '/') != NULL) {
		*out = strdup(name);
		return *out ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	for (p = path ? path : DEFAULT_PATH;; p = end + 1) {
		char *candidate;

		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		/* An empty PATH entry would mean the current folder: skipped. */
		if (end > p) {
			if (asprintf(&candidate, "%.*s/%s", (int)(end - p), p, name) < 0)
				return rombsr_error(ROMBSR_ENOMEM, "out of memory");
			if (executable(candidate)) {
				*out = candidate;
				return 0;
			}
			free(candidate);
		}
		if (*end == '\0')
			break;
	}
	return rombsr_error(ROMBSR_ENOTFOUND, "program '%s' not found in PATH", name);
}

/* In the child: nothing here may return; errors go to its stderr. */
static void child(const struct rom_child *c, const char *program, char *const *envp, int parent)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* If rom-sign is killed, what it started goes with it: an apply left
	 * running could otherwise finish into a state folder a new rom-sign
	 * already works in. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(c->out_fd >= 0 ? c->out_fd : null, STDOUT_FILENO) < 0 ||
	    dup2(c->err_fd >= 0 ? c->err_fd : null, STDERR_FILENO) < 0)
		_exit(127);
	if (c->dir != NULL && chdir(c->dir) != 0) {
		dprintf(STDERR_FILENO, "rom-sign: cannot enter %s: %s\n", c->dir, strerror(errno));
		_exit(127);
	}
	execve(program, (char *const *)c->argv, envp);
	dprintf(STDERR_FILENO, "rom-sign: cannot run %s: %s\n", program, strerror(errno));
	_exit(127);
}

int rom_run(const struct rom_child *c, int *status)
{
	char *const *envp = c->envp ? c->envp : environ;
	char *program = NULL;
	pid_t parent = getpid(), pid;
	int r;

	r = find_program(c->argv[0], envp, &program);
	if (r < 0)
		return r;
	/* Relative to the child's folder, checked before it is entered. */
	if (program[0] != '/' && c->dir != NULL) {
		char *abs;

		if (asprintf(&abs, "%s/%s", c->dir, program) < 0) {
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
			goto out;
		}
		free(program);
		program = abs;
	}
	if (!executable(program)) {
		r = rombsr_error(ROMBSR_ENOTFOUND, "program '%s' is not an executable file", program);
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = rombsr_error(ROMBSR_EIO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(c, program, envp, parent);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			r = rombsr_error(ROMBSR_EIO, "waitpid: %s", strerror(errno));
			goto out;
		}
	}
out:
	free(program);
	return r;
}

static bool overridden(const struct rom_plan *plan, const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);

	if (n == strlen("ROMBSR_CAPTURE_CONFIG") && strncmp(entry, "ROMBSR_CAPTURE_CONFIG", n) == 0)
		return true;
	for (size_t i = 0; i < plan->nenv; i++)
		if (strncmp(plan->env[i], entry, n) == 0 && plan->env[i][n] == '=')
			return true;
	return false;
}

int rom_env_make(const struct rom_plan *plan, const char *capture_config, char ***out)
{
	size_t n = 0, k = 0;
	bool failed = false;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + plan->nenv + 2, sizeof(*env));
	if (env == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !failed; i++)
		if (!overridden(plan, environ[i]))
			failed = (env[k++] = strdup(environ[i])) == NULL;
	for (size_t i = 0; i < plan->nenv && !failed; i++)
		failed = (env[k++] = strdup(plan->env[i])) == NULL;
	if (!failed && capture_config != NULL && asprintf(&env[k], "ROMBSR_CAPTURE_CONFIG=%s", capture_config) < 0) {
		env[k] = NULL;
		failed = true;
	}
	if (failed) {
		rom_env_free(env);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	*out = env;
	return 0;
}

void rom_env_free(char **env)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}
