#include "tap.h"

#include "../../src/common/error.h"

#include <stdarg.h>
#include <stdio.h>
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

bool tap_error_is(int r, int code, const char *text)
{
	const char *m = rombsr_error_message(r);
	bool ok = r == code && strstr(m, text) != NULL;

	if (!ok)
		printf("# got %d '%s', wanted %d '%s'\n", r, m, code, text);
	return ok;
}

int tap_done(void)
{
	printf("1..%d\n", checks);
	return failures == 0 ? 0 : 1;
}
