/* A YubiHSM 2 as an HSM handle: the connector, the credential and a pool
 * of SCP03 sessions. The device has 16 sessions for everybody and drops one
 * idle for 30 s, so sessions are opened as threads need them, bounded by
 * the handle's max_sessions; one the device dropped is replaced by the
 * runner (rombsr_yh_hsm_run) for the command it refused, which had not
 * run. Anything else that fails is the signer's retry path's to judge
 * (rombsr_hsm_recoverable, rombsr_hsm_reopen). */
#define _GNU_SOURCE
#include "yh_backend.h"

#include "../common/error.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static _Thread_local bool last_recoverable;

int rombsr_yh_note(int r)
{
	uint8_t device = rombsr_yh_last_device_error();

	/* A refused MAC or cryptogram (ROMBSR_ESECURITY) is never cured by
	 * trying again: someone between us and the device altered a message. */
	last_recoverable = r == ROMBSR_EHSM &&
			   (device == YH_ERR_OK || device == YH_ERR_INVALID_SESSION || device == YH_ERR_SESSION_FAILED ||
			    device == YH_ERR_SESSIONS_FULL || device == YH_ERR_COMMAND_UNEXECUTED);
	return r;
}

bool rombsr_yh_hsm_recoverable(void)
{
	return last_recoverable;
}

int rombsr_hsm_open_yubihsm(const char *connector_url, struct rombsr_hsm **out)
{
	struct rombsr_yh_device_info info;
	struct rombsr_hsm *hsm;
	int r;

	*out = NULL;
	hsm = calloc(1, sizeof(*hsm));
	if (hsm == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	/* First: rombsr_hsm_close() destroys them on every path. */
	pthread_mutex_init(&hsm->lock, NULL);
	pthread_cond_init(&hsm->released, NULL);
	if ((hsm->yh = calloc(1, sizeof(*hsm->yh))) == NULL || (hsm->yh->url = strdup(connector_url)) == NULL) {
		rombsr_hsm_close(hsm);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	hsm->yh->spool_uid = (uid_t)-1;
	hsm->yh->spool_gid = (gid_t)-1;
	hsm->max_sessions = ROMBSR_HSM_MAX_SESSIONS_DEFAULT;
	r = rombsr_yh_connector_open(connector_url, &hsm->yh->connector);
	if (r == 0)
		r = rombsr_yh_device_info(hsm->yh->connector, &info);
	if (r < 0) {
		rombsr_yh_note(r);
		rombsr_hsm_close(hsm);
		return rombsr_error_wrap(r, "YubiHSM at %s", connector_url);
	}
	hsm->yh->serial = info.serial;
	snprintf(hsm->token_label, sizeof(hsm->token_label), "yubihsm-%u", (unsigned)info.serial);
	*out = hsm;
	return 0;
}

static void close_sessions(struct rombsr_hsm *hsm)
{
	pthread_mutex_lock(&hsm->lock);
	for (size_t i = 0; i < hsm->open_sessions; i++) {
		rombsr_yh_session_close(hsm->yh->sessions[i]);
		hsm->yh->sessions[i] = NULL;
		hsm->busy[i] = false;
	}
	hsm->open_sessions = 0;
	hsm->logged_in = false;
	pthread_mutex_unlock(&hsm->lock);
}

/* The password lives for the handle's life (each new session of the pool
 * authenticates with it): on a page of its own, locked out of swap and
 * left out of core dumps. Locking is best effort: a low RLIMIT_MEMLOCK
 * must not stop signing, and the signer is not dumpable anyway. */
static int keep_password(struct rombsr_yh_token *t, const char *password)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = strlen(password);
	void *p;

	if (len + 1 > page)
		return rombsr_error(ROMBSR_EINVAL, "the password is longer than %zu bytes", page - 1);
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return rombsr_error(ROMBSR_ENOMEM, "cannot map a page for the password: %s", strerror(errno));
	(void)mlock(p, page);
	(void)madvise(p, page, MADV_DONTDUMP);
	memcpy(p, password, len + 1);
	t->password = p;
	t->password_len = len;
	return 0;
}

static void forget_password(struct rombsr_yh_token *t)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (t->password != NULL) {
		OPENSSL_cleanse(t->password, page);
		munlock(t->password, page);
		munmap(t->password, page);
	}
	t->password = NULL;
	t->password_len = 0;
}

void rombsr_yh_hsm_logout(struct rombsr_hsm *hsm)
{
	close_sessions(hsm);
	forget_password(hsm->yh);
}

void rombsr_yh_hsm_free(struct rombsr_hsm *hsm)
{
	rombsr_yh_hsm_logout(hsm);
	rombsr_yh_connector_close(hsm->yh->connector);
	free(hsm->yh->url);
	free(hsm->yh->log_pin_file);
	free(hsm->yh->spool_path);
	free(hsm->yh->reserved);
	free(hsm->yh);
	hsm->yh = NULL;
}

/* The first session proves the credential: a wrong password fails here,
 * not at the first signature. */
int rombsr_yh_hsm_login(struct rombsr_hsm *hsm, const char *pin)
{
	struct rombsr_yh_token *t = hsm->yh;
	const char *password;
	uint16_t auth_id;
	int r = rombsr_yh_parse_pin(pin, &auth_id, &password);

	if (r < 0)
		return r;
	rombsr_yh_hsm_logout(hsm);
	r = keep_password(t, password);
	if (r < 0)
		return r;
	t->auth_id = auth_id;
	r = rombsr_yh_session_open(t->connector, auth_id, t->password, t->password_len, &t->sessions[0]);
	if (r < 0) {
		forget_password(t);
		rombsr_yh_note(r);
		return rombsr_error_wrap(r, "authentication key 0x%04x on %s", auth_id, hsm->token_label);
	}
	pthread_mutex_lock(&hsm->lock);
	hsm->open_sessions = 1;
	hsm->busy[0] = false;
	hsm->logged_in = true;
	pthread_mutex_unlock(&hsm->lock);
	return 0;
}

int rombsr_yh_hsm_reopen(struct rombsr_hsm *hsm, const char *pin)
{
	struct rombsr_yh_token *t = hsm->yh;
	struct rombsr_yh_device_info info;
	int r;

	rombsr_yh_hsm_logout(hsm);
	rombsr_yh_connector_close(t->connector);
	t->connector = NULL;
	r = rombsr_yh_connector_open(t->url, &t->connector);
	if (r == 0)
		r = rombsr_yh_device_info(t->connector, &info);
	/* The same device or none: another one's keys would sign under
	 * labels that are not theirs. */
	if (r == 0 && info.serial != t->serial)
		r = rombsr_error(ROMBSR_EPERM, "the YubiHSM at %s is now serial %u, not %u", t->url,
				 (unsigned)info.serial, (unsigned)t->serial);
	if (r == 0)
		r = rombsr_yh_hsm_login(hsm, pin);
	return rombsr_yh_note(r);
}

static int open_yh_slot(struct rombsr_hsm *hsm, size_t slot)
{
	struct rombsr_yh_token *t = hsm->yh;

	return rombsr_yh_session_open(t->connector, t->auth_id, t->password, t->password_len, &t->sessions[slot]);
}

int rombsr_yh_hsm_session_get(struct rombsr_hsm *hsm, struct rombsr_yh_session **s)
{
	size_t slot;
	int r = rombsr_hsm_pool_take(hsm, true, open_yh_slot, &slot);

	if (r == 0)
		*s = hsm->yh->sessions[slot];
	return rombsr_yh_note(r);
}

static bool is_yh_session(const struct rombsr_hsm *hsm, size_t slot, const void *session)
{
	return hsm->yh->sessions[slot] == session;
}

void rombsr_yh_hsm_session_put(struct rombsr_hsm *hsm, struct rombsr_yh_session *s)
{
	rombsr_hsm_pool_give(hsm, is_yh_session, s);
}

/* The device ends a session idle for 30 s (a signer waits longer than
 * that between requests): the borrowed one is replaced by a new one with
 * the same credential. */
static int renew(struct rombsr_hsm *hsm, struct rombsr_yh_session **s)
{
	struct rombsr_yh_token *t = hsm->yh;
	struct rombsr_yh_session *fresh = NULL;
	int r = rombsr_yh_session_open(t->connector, t->auth_id, t->password, t->password_len, &fresh);

	if (r < 0)
		return r;
	pthread_mutex_lock(&hsm->lock);
	for (size_t i = 0; i < hsm->open_sessions; i++)
		if (t->sessions[i] == *s)
			t->sessions[i] = fresh;
	pthread_mutex_unlock(&hsm->lock);
	rombsr_yh_session_close(*s);
	*s = fresh;
	return 0;
}

int rombsr_yh_hsm_run(struct rombsr_hsm *hsm, int (*fn)(struct rombsr_yh_session *s, void *ctx), void *ctx)
{
	struct rombsr_yh_session *s;
	int r = rombsr_yh_hsm_session_get(hsm, &s);

	if (r < 0)
		return r;
	r = fn(s, ctx);
	/* Refused before it ran: tried once more on a new session. */
	if (r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_INVALID_SESSION && renew(hsm, &s) == 0)
		r = fn(s, ctx);
	if (r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_LOG_FULL && rombsr_hsm_has_device_log(hsm)) {
		r = rombsr_yh_hsm_spill(hsm);
		if (r == 0)
			r = fn(s, ctx);
	}
	rombsr_yh_hsm_session_put(hsm, s);
	if (r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_INSUFFICIENT_PERMISSIONS)
		return rombsr_error_wrap_as(r, ROMBSR_EPERM, "refused by the device's capabilities");
	return rombsr_yh_note(r);
}
