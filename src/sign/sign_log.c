/* The sign node's log lines: journal or stderr (sign_log.h). */
#define _GNU_SOURCE
#include "sign_log.h"

#include "../common/error.h"

#include <systemd/sd-journal.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int journal_mode = -1; /* -1: not decided yet */

/* systemd sets JOURNAL_STREAM=<device>:<inode> for a service whose stdout
 * or stderr it connected to the journal; a child that inherits the variable
 * but whose stderr was redirected (a test, a pipe) must not take it for
 * its own, hence the comparison with stderr itself. */
static bool stderr_is_journal_stream(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (e == NULL || sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool rombsr_sign_log_to_journal(void)
{
	if (journal_mode < 0)
		journal_mode = stderr_is_journal_stream();
	return journal_mode == 1;
}

static int add_field(struct rombsr_sign_log_entry *e, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return 0;
	if (e->n == ROMBSR_SIGN_LOG_MAX_FIELDS)
		return rombsr_error(ROMBSR_EINTERNAL, "journal entry: too many fields");
	if (asprintf(&e->field[e->n], "%s=%s", name, value) < 0) {
		e->field[e->n] = NULL;
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	e->n++;
	return 0;
}

int rombsr_sign_log_entry_build(int priority, const struct rombsr_sign_log_fields *f, const char *message,
				struct rombsr_sign_log_entry *out)
{
	char prio[8];
	int r;

	memset(out, 0, sizeof(*out));
	if (priority < LOG_EMERG || priority > LOG_DEBUG)
		return rombsr_error(ROMBSR_EINTERNAL, "journal entry: priority %d", priority);
	snprintf(prio, sizeof(prio), "%d", priority);
	r = add_field(out, "MESSAGE", message);
	if (r == 0)
		r = add_field(out, "PRIORITY", prio);
	if (r == 0)
		r = add_field(out, "SYSLOG_IDENTIFIER", "rombsr-sign");
	if (r == 0 && f != NULL) {
		r = add_field(out, "REQUEST_ID", f->request_id);
		if (r == 0)
			r = add_field(out, "KEY", f->key);
		if (r == 0)
			r = add_field(out, "OUTCOME", f->outcome);
		if (r == 0)
			r = add_field(out, "REASON", f->reason);
		if (r == 0)
			r = add_field(out, "BUILD_NODE", f->build_node);
	}
	if (r < 0)
		rombsr_sign_log_entry_free(out);
	return r;
}

void rombsr_sign_log_entry_free(struct rombsr_sign_log_entry *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->field[i]);
	memset(e, 0, sizeof(*e));
}

static bool send_to_journal(int priority, const struct rombsr_sign_log_fields *f, const char *message)
{
	struct rombsr_sign_log_entry e;
	struct iovec iov[ROMBSR_SIGN_LOG_MAX_FIELDS];
	int sent;

	/* A line that cannot be built is still said, on stderr. */
	if (rombsr_sign_log_entry_build(priority, f, message, &e) < 0) {
		rombsr_error_clear();
		return false;
	}
	for (size_t i = 0; i < e.n; i++)
		iov[i] = (struct iovec){e.field[i], strlen(e.field[i])};
	sent = sd_journal_sendv(iov, (int)e.n);
	rombsr_sign_log_entry_free(&e);
	return sent >= 0;
}

void rombsr_sign_log(int priority, const struct rombsr_sign_log_fields *f, const char *fmt, ...)
{
	char message[2048];
	va_list ap;

	/* A line longer than this is cut: it is shown to a person, never
	 * looked up (CONTRIBUTING.md, "Fixed-size buffers"). */
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (rombsr_sign_log_to_journal() && send_to_journal(priority, f, message))
		return;
	fprintf(stderr, "%s\n", message);
}
