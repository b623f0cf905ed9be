/* Running age (age_run.h). */
#define _GNU_SOURCE
#include "age_run.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define AGE_MAX_ARGS 40
#define AGE_ERR_MAX 512

struct age_call {
	const char *argv[AGE_MAX_ARGS];
	const unsigned char *in;   /* stdin, or NULL for /dev/null */
	size_t in_len;
	unsigned char *out;        /* stdout, or NULL for /dev/null */
	size_t out_max;
	size_t out_len;
	bool out_overflow;
	char err[AGE_ERR_MAX];     /* age's stderr, one line */
	int status;
};

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

/* Reads fd to its end into buf (max bytes kept); *over if there was more. */
static void drain(int fd, unsigned char *buf, size_t max, size_t *len, bool *over)
{
	unsigned char scratch[512];

	*len = 0;
	for (;;) {
		ssize_t n = read(fd, scratch, sizeof(scratch));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (*len + (size_t)n > max) {
			*over = true;
			n = (ssize_t)(max - *len);
		}
		memcpy(buf + *len, scratch, (size_t)n);
		*len += (size_t)n;
	}
	OPENSSL_cleanse(scratch, sizeof(scratch));
}

static int spawn_actions(posix_spawn_file_actions_t *fa, const struct age_call *c, int in[2], int out[2],
			 int err[2])
{
	int e = posix_spawn_file_actions_init(fa);

	if (e == 0)
		e = c->in != NULL ? posix_spawn_file_actions_adddup2(fa, in[0], 0)
				  : posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	if (e == 0)
		e = c->out != NULL ? posix_spawn_file_actions_adddup2(fa, out[1], 1)
				   : posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(fa, err[1], 2);
	return e == 0 ? 0 : rombsr_error(ROMBSR_EIO, "cannot prepare to run age: %s", strerror(e));
}

/* Runs age with c->argv: no shell, a fixed environment, stdin from c->in,
 * stdout into c->out. Returns 0 when age ran (its status in c->status). */
static int run_age(struct age_call *c)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	struct sigaction ignore = {.sa_handler = SIG_IGN}, old;
	posix_spawn_file_actions_t fa;
	bool fa_made = false, over = false;
	size_t err_len = 0;
	pid_t pid = -1;
	int r, e;

	c->out_len = 0;
	c->err[0] = '\0';
	if ((c->in != NULL && pipe2(in, O_CLOEXEC) != 0) || (c->out != NULL && pipe2(out, O_CLOEXEC) != 0) ||
	    pipe2(err, O_CLOEXEC) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot make a pipe for age: %s", strerror(errno));
		goto out;
	}
	r = spawn_actions(&fa, c, in, out, err);
	fa_made = r == 0;
	if (r < 0)
		goto out;
	/* age may exit before reading its input: a write to its closed pipe
	 * must fail, not kill us. */
	sigaction(SIGPIPE, &ignore, &old);
	e = posix_spawn(&pid, AGE_PATH, &fa, NULL, (char *const *)c->argv, envp);
	if (e != 0) {
		sigaction(SIGPIPE, &old, NULL);
		r = rombsr_error(ROMBSR_EIO, "cannot run %s: %s (install Debian's age)", AGE_PATH, strerror(e));
		goto out;
	}
	close(in[0]), in[0] = -1;
	close(out[1]), out[1] = -1;
	close(err[1]), err[1] = -1;
	if (c->in != NULL && rombsr_write_all(in[1], c->in, c->in_len) < 0 && errno != EPIPE)
		r = rombsr_error(ROMBSR_EIO, "cannot write to age: %s", strerror(errno));
	close_pair(in);
	if (c->out != NULL)
		drain(out[0], c->out, c->out_max, &c->out_len, &c->out_overflow);
	drain(err[0], (unsigned char *)c->err, sizeof(c->err) - 1, &err_len, &over);
	c->err[err_len] = '\0';
	while (waitpid(pid, &c->status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGPIPE, &old, NULL);
	/* One line for the person: age's own lines joined. */
	for (char *p = c->err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = p[1] != '\0' ? ' ' : '\0';
out:
	if (fa_made)
		posix_spawn_file_actions_destroy(&fa);
	close_pair(in);
	close_pair(out);
	close_pair(err);
	return r;
}

static bool age_ok(const struct age_call *c)
{
	return WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
}

static bool recipient_syntax(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n > 1024)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r[i] < 0x20 || (unsigned char)r[i] >= 0x7f)
			return false;
	if (strncmp(r, "age1", 4) == 0) {
		for (size_t i = 4; i < n; i++)
			if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9')))
				return false;
		return n > 4;
	}
	return strncmp(r, "ssh-ed25519 AAAA", 16) == 0;
}

int age_check_recipient(const char *recipient)
{
	struct age_call c = {.argv = {"age", "--encrypt", "--recipient", recipient, "--output", "/dev/null", NULL}};
	int r;

	if (!recipient_syntax(recipient))
		return rombsr_error(ROMBSR_EINVAL, "recipient '%.80s' is neither an age X25519 recipient (age1…) nor "
				    "an ssh-ed25519 public key", recipient);
	/* age's own parser decides: encrypting nothing to nowhere. */
	r = run_age(&c);
	if (r == 0 && !age_ok(&c))
		r = rombsr_error(ROMBSR_EINVAL, "recipient '%.80s' does not parse: %s", recipient, c.err);
	return r;
}

int age_encrypt(const char *recipient, const unsigned char *data, size_t len, const char *out_path)
{
	struct age_call c = {.argv = {"age", "--encrypt", "--recipient", recipient, "--output", out_path, NULL},
			     .in = data, .in_len = len};
	int r;

	r = run_age(&c);
	if (r == 0 && !age_ok(&c))
		r = rombsr_error(ROMBSR_ECRYPTO, "age could not encrypt %s: %s", out_path, c.err);
	return r;
}

int age_decrypt(const char *path, const char *const *ids, size_t nids, unsigned char *out, size_t max,
		size_t *len)
{
	struct age_call c = {.argv = {"age", "--decrypt"}, .out = out, .out_max = max};
	size_t n = 2;
	int r;

	*len = 0;
	if (nids == 0 || 2 * nids + 5 > AGE_MAX_ARGS)
		return rombsr_error(ROMBSR_EINVAL, "give 1 to %d identity files", (AGE_MAX_ARGS - 5) / 2);
	for (size_t i = 0; i < nids; i++) {
		c.argv[n++] = "--identity";
		c.argv[n++] = ids[i];
	}
	/* "--" ends age's options: a share file named "-x" is a file. */
	c.argv[n++] = "--";
	c.argv[n++] = path;
	c.argv[n] = NULL;
	r = run_age(&c);
	if (r == 0 && !age_ok(&c))
		r = rombsr_error(ROMBSR_EINVAL, "%s does not decrypt with the identities given: %s", path, c.err);
	if (r == 0 && c.out_overflow)
		r = rombsr_error(ROMBSR_EINVAL, "%s: not a wrap-key share (more than %zu bytes)", path, max);
	if (r < 0) {
		OPENSSL_cleanse(out, max);
		return r;
	}
	*len = c.out_len;
	return 0;
}
