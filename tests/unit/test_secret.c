/* PIN input: file modes, trimming, refusals. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/common/secret.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/rombsr-unit-secret.XXXXXX";

static const char *put(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) != 0)
		abort();
	close(fd);
	return path;
}

int main(void)
{
	struct rombsr_buf s;
	int r, fds[2];
	char big[400];

	if (mkdtemp(dir) == NULL)
		abort();
	r = rombsr_secret_from_file(put("ok", "0001password\n", 13, 0600), &s);
	CHECK(r == 0 && strcmp((char *)s.data, "0001password") == 0 && s.len == 12, "one trailing newline dropped");
	rombsr_buf_free(&s);
	r = rombsr_secret_from_file(put("crlf", "abcd\r\n", 6, 0400), &s);
	CHECK(r == 0 && strcmp((char *)s.data, "abcd") == 0, "CRLF dropped, 0400 accepted");
	rombsr_buf_free(&s);
	r = rombsr_secret_from_file(put("open", "abcd", 4, 0640), &s);
	CHECK(r == ROMBSR_EPERM && strstr(rombsr_error_message(r), "mode 0640") != NULL, "group-readable refused");
	CHECK(s.data == NULL, "nothing kept after a refusal");
	r = rombsr_secret_from_file(put("empty", "\n", 1, 0600), &s);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "empty") != NULL, "empty refused");
	r = rombsr_secret_from_file(put("two", "ab\ncd\n", 6, 0600), &s);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "one line") != NULL, "two lines refused");
	r = rombsr_secret_from_file(put("nul", "ab\0cd", 5, 0600), &s);
	CHECK(r == ROMBSR_EINVAL, "NUL inside refused");
	memset(big, 'a', sizeof(big));
	r = rombsr_secret_from_file(put("big", big, sizeof(big), 0600), &s);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "limit") != NULL, "over 256 bytes refused");
	r = rombsr_secret_from_file(dir, &s);
	CHECK(r == ROMBSR_EINVAL || r == ROMBSR_EPERM, "a folder is not a PIN file");
	r = rombsr_secret_from_file("/nonexistent/pin", &s);
	CHECK(r == ROMBSR_ENOTFOUND, "missing file");

	if (pipe(fds) != 0 || write(fds[1], "fdpin\n", 6) != 6)
		abort();
	close(fds[1]);
	r = rombsr_secret_from_fd(fds[0], &s);
	CHECK(r == 0 && strcmp((char *)s.data, "fdpin") == 0, "PIN from a file descriptor");
	rombsr_buf_free(&s);
	close(fds[0]);

	r = rombsr_secret_random_hex(32, &s);
	CHECK(r == 0 && s.len == 32 && strspn((char *)s.data, "0123456789abcdef") == 32, "random PIN is 32 hex");
	{
		struct rombsr_buf t;

		CHECK(rombsr_secret_random_hex(32, &t) == 0 && strcmp((char *)s.data, (char *)t.data) != 0,
		      "two random PINs differ");
		rombsr_buf_free(&t);
	}
	rombsr_buf_free(&s);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			abort();
	}
	return tap_done();
}
