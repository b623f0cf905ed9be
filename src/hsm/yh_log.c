/* The YubiHSM's own audit log, moved off the device before it fills
 * (docs/yubihsm.md, "The device's log"). With force audit on, a device
 * whose 62 entries are all unread refuses every logged command: a release
 * of hundreds of signatures fills it many times. So a signer that meets
 * "log full" spills: under a lock shared by every signer of the node it
 * reads the device's entries with the log reader's key, appends the new
 * ones to the spool file (synced), and only then advances the device's log
 * index. The worker collects the spool through the audit signer, logs it
 * in ROMbsr's audit log and acknowledges; only then is the spool trimmed.
 * An entry thus always sits on the device, in the spool or in the log.
 *
 * Spool: a first line "rombsr-device-log v1 <last number spilled>" ("-"
 * before the first spill), then one line per entry, the device's 32 bytes
 * in hex, oldest first. */
#define _GNU_SOURCE
#include "yh_backend.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define SPOOL_MAX 4096 /* entries: far more than a pass makes between drains */

struct spool {
	bool have_last;
	uint16_t last;
	size_t n;
	unsigned char (*entries)[YH_LOG_ENTRY_LEN];
};

static uint16_t entry_number(const unsigned char *e)
{
	return (uint16_t)(e[0] << 8 | e[1]);
}

/* Numbers wrap at 65536: "after" means within the next half. */
static bool after(uint16_t n, uint16_t last)
{
	uint16_t d = (uint16_t)(n - last);

	return d != 0 && d < 0x8000;
}

static int spool_read(const char *path, struct spool *sp)
{
	struct rombsr_buf text = {0};
	char *line, *save = NULL;
	int r = 0;

	memset(sp, 0, sizeof(*sp));
	sp->entries = calloc(SPOOL_MAX, sizeof(*sp->entries));
	if (sp->entries == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (!rombsr_path_exists(path))
		return 0;
	r = rombsr_file_read(path, (SPOOL_MAX + 1) * (2 * YH_LOG_ENTRY_LEN + 1), &text);
	line = r == 0 ? strtok_r((char *)text.data, "\n", &save) : NULL;
	if (r == 0 && (line == NULL || strncmp(line, "rombsr-device-log v1 ", 21) != 0))
		r = rombsr_error(ROMBSR_EINVAL, "%s: not a device log spool", path);
	if (r == 0 && strcmp(line + 21, "-") != 0) {
		char *end;
		unsigned long v = strtoul(line + 21, &end, 10);

		if (*end != '\0' || v > 0xffff)
			r = rombsr_error(ROMBSR_EINVAL, "%s: bad first line", path);
		sp->have_last = true;
		sp->last = (uint16_t)v;
	}
	while (r == 0 && (line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (sp->n == SPOOL_MAX || strlen(line) != 2 * YH_LOG_ENTRY_LEN ||
		    rombsr_hex_decode(line, sp->entries[sp->n], YH_LOG_ENTRY_LEN, "entry") < 0)
			r = rombsr_error(ROMBSR_EINVAL, "%s: line %zu is not a device log entry", path, sp->n + 2);
		else
			sp->n++;
	}
	rombsr_buf_free(&text);
	return r;
}

static int spool_write(const char *path, const struct spool *sp, uid_t owner_uid, gid_t owner_gid)
{
	struct rombsr_buf out;
	char hex[2 * YH_LOG_ENTRY_LEN + 1];
	int r;

	rombsr_buf_init(&out, (SPOOL_MAX + 1) * (2 * YH_LOG_ENTRY_LEN + 32));
	if (sp->have_last)
		rombsr_buf_printf(&out, "rombsr-device-log v1 %u\n", (unsigned)sp->last);
	else
		rombsr_buf_append_str(&out, "rombsr-device-log v1 -\n");
	for (size_t i = 0; i < sp->n; i++) {
		rombsr_hex_encode(sp->entries[i], YH_LOG_ENTRY_LEN, hex);
		rombsr_buf_printf(&out, "%s\n", hex);
	}
	r = rombsr_buf_check(&out, "device log spool");
	if (r == 0)
		r = rombsr_file_write_atomic(path, out.data, out.len, 0600, false);
	if (r == 0 && owner_uid != (uid_t)-1 && chown(path, owner_uid, owner_gid) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot give %s to the signer's user: %s", path, strerror(errno));
	rombsr_buf_free(&out);
	return r;
}

static int lock_spool(const struct rombsr_yh_token *t, int *fd)
{
	char path[4096];

	const char *slash = strrchr(t->spool_path, '/');
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s.lock", t->spool_path) >= sizeof(path))
		return rombsr_error(ROMBSR_EINVAL, "spool path too long");
	/* keygen may run before the sign node ever made its folder. */
	if (slash != NULL && slash != t->spool_path) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - t->spool_path), t->spool_path);
		if ((r = rombsr_mkdir_p(dir, 0700)) < 0)
			return r;
	}
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return rombsr_error(ROMBSR_EIO, "cannot open %s: %s", path, strerror(errno));
	if (t->spool_uid != (uid_t)-1 && fchown(*fd, t->spool_uid, t->spool_gid) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot give %s to the signer's user: %s", path, strerror(errno));
		close(*fd);
		return r;
	}
	while (flock(*fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			close(*fd);
			return rombsr_error(ROMBSR_EIO, "cannot lock %s: %s", path, strerror(errno));
		}
	return 0;
}

/* A session of the log reader's key, for one read or one index move. */
static int log_session(struct rombsr_hsm *hsm, struct rombsr_yh_session **s)
{
	struct rombsr_buf pin = {0};
	const char *password;
	uint16_t id;
	int r = rombsr_secret_from_file(hsm->yh->log_pin_file, &pin);

	if (r == 0)
		r = rombsr_yh_parse_pin((const char *)pin.data, &id, &password);
	if (r == 0)
		r = rombsr_yh_session_open(hsm->yh->connector, id, password, strlen(password), s);
	rombsr_buf_free(&pin);
	return r < 0 ? rombsr_error_wrap(r, "the device log reader's key (%s)", hsm->yh->log_pin_file) : 0;
}

static int spill_locked(struct rombsr_hsm *hsm, struct spool *sp)
{
	struct rombsr_yh_session *s = NULL;
	struct rombsr_yh_log *log = calloc(1, sizeof(*log));
	size_t added = 0;
	int r = log ? spool_read(hsm->yh->spool_path, sp) : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0)
		r = log_session(hsm, &s);
	if (r == 0)
		r = rombsr_yh_get_log(s, log);
	/* The device's newest entry before the last one spilled: its numbering
	 * started again (a reset). Everything it holds is new; the worker
	 * sees the restart in its first entry (device_log.c). */
	if (r == 0 && sp->have_last && log->n > 0 && after(sp->last, log->entries[log->n - 1].number))
		sp->have_last = false;
	for (size_t i = 0; r == 0 && i < log->n; i++) {
		if (sp->have_last && !after(log->entries[i].number, sp->last))
			continue;
		if (sp->n == SPOOL_MAX) {
			r = rombsr_error(ROMBSR_EIO, "the device log spool is full (%d entries): the worker has not "
						     "collected it", SPOOL_MAX);
			break;
		}
		rombsr_yh_log_entry_encode(&log->entries[i], sp->entries[sp->n++]);
		sp->have_last = true;
		sp->last = log->entries[i].number;
		added++;
	}
	/* Durable before the device may overwrite them. */
	if (r == 0 && added > 0)
		r = spool_write(hsm->yh->spool_path, sp, hsm->yh->spool_uid, hsm->yh->spool_gid);
	if (r == 0 && sp->have_last)
		r = rombsr_yh_set_log_index(s, sp->last);
	rombsr_yh_session_close(s);
	free(log);
	return r;
}

int rombsr_hsm_device_log_setup(struct rombsr_hsm *hsm, const char *log_pin_file, const char *spool_path)
{
	if (hsm->yh == NULL)
		return 0;
	free(hsm->yh->log_pin_file);
	free(hsm->yh->spool_path);
	hsm->yh->spool_path = NULL;
	hsm->yh->log_pin_file = strdup(log_pin_file);
	/* One spool per device: another device's numbers mean nothing here. */
	if (hsm->yh->log_pin_file == NULL ||
	    asprintf(&hsm->yh->spool_path, "%s-%u", spool_path, (unsigned)hsm->yh->serial) < 0) {
		hsm->yh->spool_path = NULL;
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	return 0;
}

void rombsr_hsm_device_log_owner(struct rombsr_hsm *hsm, uid_t uid, gid_t gid)
{
	if (hsm->yh == NULL)
		return;
	hsm->yh->spool_uid = uid;
	hsm->yh->spool_gid = gid;
}

bool rombsr_hsm_has_device_log(const struct rombsr_hsm *hsm)
{
	return hsm->yh != NULL && hsm->yh->spool_path != NULL;
}

/* Whether the device still refuses logged commands. Signers refused
 * together (two sessions of a pool, two signers of a node) queue on the
 * spool's lock; all but the first would open a log reader's session and
 * spill again for nothing. Device Info is one plain round trip and never
 * logged. A connector lying here can only make the retried signature fail
 * again: the entries stay on the device until a spill moves them. */
static bool log_still_full(struct rombsr_hsm *hsm)
{
	struct rombsr_yh_device_info info;

	if (rombsr_yh_device_info(hsm->yh->connector, &info) != 0) {
		rombsr_error_clear();
		return true;
	}
	return info.log_used >= info.log_total;
}

int rombsr_yh_hsm_spill(struct rombsr_hsm *hsm)
{
	struct spool sp = {0};
	int fd, r;

	if (!rombsr_hsm_has_device_log(hsm))
		return rombsr_error(ROMBSR_EUNSUPPORTED, "%s: no device log reader is set up", hsm->token_label);
	r = lock_spool(hsm->yh, &fd);
	if (r < 0)
		return r;
	r = log_still_full(hsm) ? spill_locked(hsm, &sp) : 0;
	close(fd);
	free(sp.entries);
	return r;
}

int rombsr_hsm_device_log_read(struct rombsr_hsm *hsm, struct rombsr_hsm_device_log *out)
{
	struct spool sp = {0};
	int fd, r;

	memset(out, 0, sizeof(*out));
	if (!rombsr_hsm_has_device_log(hsm))
		return rombsr_error(ROMBSR_EUNSUPPORTED, "%s has no device audit log to read", hsm->token_label);
	r = lock_spool(hsm->yh, &fd);
	if (r < 0)
		return r;
	r = spill_locked(hsm, &sp);
	for (size_t i = 0; r == 0 && i < sp.n && i < ROMBSR_HSM_DEVICE_LOG_MAX; i++)
		memcpy(out->entries[out->n++], sp.entries[i], YH_LOG_ENTRY_LEN);
	out->more = r == 0 && sp.n > ROMBSR_HSM_DEVICE_LOG_MAX;
	close(fd);
	free(sp.entries);
	return r;
}

int rombsr_hsm_device_log_ack(struct rombsr_hsm *hsm, uint16_t number)
{
	struct spool sp = {0};
	size_t keep = 0;
	int fd, r;

	if (!rombsr_hsm_has_device_log(hsm))
		return rombsr_error(ROMBSR_EUNSUPPORTED, "%s has no device audit log", hsm->token_label);
	r = lock_spool(hsm->yh, &fd);
	if (r < 0)
		return r;
	r = spool_read(hsm->yh->spool_path, &sp);
	for (size_t i = 0; r == 0 && i < sp.n; i++)
		if (after(entry_number(sp.entries[i]), number))
			memmove(sp.entries[keep++], sp.entries[i], YH_LOG_ENTRY_LEN);
	if (r == 0 && keep != sp.n) {
		sp.n = keep;
		r = spool_write(hsm->yh->spool_path, &sp, hsm->yh->spool_uid, hsm->yh->spool_gid);
	}
	close(fd);
	free(sp.entries);
	return r;
}
