#include "secret.h"

#include "error.h"
#include "fsutil.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* Drops one trailing newline (files written by echo) and refuses what
 * cannot be a PIN: empty, or with a NUL or a line break inside. */
static int secret_finish(struct rombsr_buf *out, const char *source)
{
	int r = rombsr_buf_check(out, source);

	if (r < 0)
		goto fail;
	if (out->len > 0 && out->data[out->len - 1] == '\n')
		out->len--;
	if (out->len > 0 && out->data[out->len - 1] == '\r')
		out->len--;
	if (out->len == 0) {
		r = rombsr_error(ROMBSR_EINVAL, "%s: the secret is empty", source);
		goto fail;
	}
	if (memchr(out->data, '\0', out->len) != NULL || memchr(out->data, '\n', out->len) != NULL) {
		r = rombsr_error(ROMBSR_EINVAL, "%s: the secret must be one line of text", source);
		goto fail;
	}
	out->data[out->len] = '\0';
	return 0;
fail:
	rombsr_buf_free(out);
	return r;
}

int rombsr_secret_from_file(const char *path, struct rombsr_buf *out)
{
	struct stat st;
	int fd, r;

	rombsr_buf_init(out, ROMBSR_SECRET_MAX);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return rombsr_error(errno == ENOENT ? ROMBSR_ENOTFOUND : ROMBSR_EIO,
				    "cannot open PIN file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot stat PIN file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = rombsr_error(ROMBSR_EINVAL, "PIN file %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = rombsr_error(ROMBSR_EPERM,
				 "PIN file %s may be read by group or others (mode %04o); chmod 600 it",
				 path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	r = rombsr_fd_read(fd, path, out);
	if (r == 0)
		r = secret_finish(out, path);
out:
	close(fd);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

int rombsr_secret_from_fd(int fd, struct rombsr_buf *out)
{
	char source[64];
	int r;

	snprintf(source, sizeof(source), "PIN file descriptor %d", fd);
	rombsr_buf_init(out, ROMBSR_SECRET_MAX);
	r = rombsr_fd_read(fd, source, out);
	if (r == 0)
		r = secret_finish(out, source);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

/* One byte a read(2): nothing is read past the end of the line, and the PIN
 * goes straight into out, which wipes it, never through stdio's buffers. */
static int read_line(int fd, struct rombsr_buf *out)
{
	unsigned char c = 0;
	int r = 0;

	while (!out->failed) {
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (out->len == 0)
				r = rombsr_error(ROMBSR_EINVAL, "no PIN entered");
			break;
		}
		rombsr_buf_append(out, &c, 1);
		if (c == '\n')
			break;
	}
	OPENSSL_cleanse(&c, sizeof(c));
	return r;
}

int rombsr_secret_prompt(const char *prompt, struct rombsr_buf *out)
{
	struct termios old, quiet;
	int fd, r;

	rombsr_buf_init(out, ROMBSR_SECRET_MAX);
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return rombsr_error(ROMBSR_EINVAL,
				    "no terminal to ask for the PIN: give --pin-file or --pin-fd");
	if (tcgetattr(fd, &old) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot read terminal settings: %s", strerror(errno));
		goto out;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (rombsr_write_all(fd, prompt, strlen(prompt)) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot write to the terminal: %s", strerror(errno));
		goto out;
	}
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot turn off echo: %s", strerror(errno));
		goto out;
	}
	r = read_line(fd, out);
	/* Echo comes back whatever the read gave; a terminal left silent is
	 * worth a failure of its own. */
	if (tcsetattr(fd, TCSAFLUSH, &old) != 0 && r == 0)
		r = rombsr_error(ROMBSR_EIO, "cannot turn echo back on: %s", strerror(errno));
	/* The newline the user typed was not echoed; a failure to move the
	 * cursor on loses nothing. */
	(void)rombsr_write_all(fd, "\n", 1);
	if (r == 0)
		r = secret_finish(out, "PIN prompt");
out:
	close(fd);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

int rombsr_secret_random_hex(size_t n, struct rombsr_buf *out)
{
	unsigned char raw[32];
	char hex[65];

	rombsr_buf_init(out, ROMBSR_SECRET_MAX);
	if (n == 0 || n > 64 || n % 2 != 0)
		return rombsr_error(ROMBSR_EINTERNAL, "random secret length %zu", n);
	if (RAND_bytes(raw, (int)(n / 2)) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot draw random bytes");
	rombsr_hex_encode(raw, n / 2, hex);
	rombsr_buf_append(out, hex, n);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rombsr_buf_check(out, "random secret");
}
