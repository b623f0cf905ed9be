#include "tap.h"

#include "../../src/common/buf.h"
#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

void tap_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s %d - ", ok ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		printf("#   failed at %s:%d\n", file, line);
}

int tap_done(void)
{
	printf("1..%d\n", checks);
	return failures == 0 ? 0 : 1;
}

bool tap_fails(int r, int code, const char *text)
{
	const char *m = rombsr_error_message(r);
	bool ok = r == code && strstr(m, text) != NULL;

	if (!ok)
		printf("# got %d '%s', wanted %d '%s'\n", r, m, code, text);
	return ok;
}

char *tap_top_file(const char *rel)
{
	const char *top = getenv("ROMBSR_TOP");
	char path[4096];
	struct rombsr_buf b;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", rel);
	if (rombsr_file_read(path, 1 << 20, &b) < 0)
		return NULL;
	s = strdup(rombsr_buf_cstr(&b));
	rombsr_buf_free(&b);
	return s;
}
