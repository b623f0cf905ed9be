/* A small TAP producer for the unit tests: "ok N - name" per check and a
 * closing "N passed, N failed" line. */
#ifndef ROMBSR_TAP_H
#define ROMBSR_TAP_H

#include <stdbool.h>

void tap_check(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* r is code and the message recorded for it contains text; says what it
 * got when not, so a failed check shows the message. */
bool tap_fails(int r, int code, const char *text);
/* A file of the source tree ($ROMBSR_TOP, else the current folder) as a
 * string (malloc'd), or NULL: the tests that hold a page of docs/ to the
 * example it shows. */
char *tap_top_file(const char *rel);
/* Prints the plan and totals; the exit status is non-zero if a check failed. */
int tap_done(void);

#define CHECK(cond, ...) tap_check((cond), __FILE__, __LINE__, __VA_ARGS__)

#endif
