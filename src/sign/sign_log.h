/* The sign node's one way to say what happened to a request: a line on
 * stderr, or under systemd a journal entry with the same MESSAGE and
 * structured fields (REQUEST_ID, KEY, OUTCOME, REASON, BUILD_NODE), so that
 * `journalctl -u rombsr-sign REQUEST_ID=<id>` tells one request's story
 * (docs/metrics.md, "Journal"). Nothing secret is ever passed here: the
 * fields are queue data (ids, key labels, fingerprints, reason codes). */
#ifndef ROMBSR_SIGN_LOG_H
#define ROMBSR_SIGN_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* Any field may be NULL or empty: it is left out. */
struct rombsr_sign_log_fields {
	const char *request_id;
	const char *key;        /* key labels, comma-separated */
	const char *outcome;    /* signed, rejected, waiting, published, approval-ignored */
	const char *reason;     /* a rejection's code */
	const char *build_node; /* the build node's fingerprint */
};

#define ROMBSR_SIGN_LOG_MAX_FIELDS 9

/* One journal entry as "NAME=value" strings (malloc'd). */
struct rombsr_sign_log_entry {
	char *field[ROMBSR_SIGN_LOG_MAX_FIELDS];
	size_t n;
};

/* Where lines go: the journal when stderr is the stream systemd connected
 * to it (JOURNAL_STREAM names stderr's device and inode, systemd.exec(5)),
 * else stderr. Decided once, on the first line. */
bool rombsr_sign_log_to_journal(void);

/* Builds the entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and each field
 * given. Pure: what the journal receives, unit-tested. */
int rombsr_sign_log_entry_build(int priority, const struct rombsr_sign_log_fields *f, const char *message,
				struct rombsr_sign_log_entry *out);
void rombsr_sign_log_entry_free(struct rombsr_sign_log_entry *e);

/* Says message (printf-style) at priority (LOG_INFO...): a journal entry
 * with f's fields, or "message\n" on stderr (also when the journal refuses
 * the entry). f may be NULL. */
void rombsr_sign_log(int priority, const struct rombsr_sign_log_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
