/* Opening a token named by an RFC 7512 URI, logging in, and the bounded
 * session pool. */
#include "hsm_internal.h"
#include "yh_backend.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/secret.h"

#include <p11-kit/uri.h>
#include <stdlib.h>
#include <string.h>

void rombsr_p11_string(const unsigned char *field, size_t n, char *out)
{
	while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0'))
		n--;
	memcpy(out, field, n);
	out[n] = '\0';
}

static _Thread_local CK_RV last_rv;

void rombsr_hsm_note_rv(CK_RV rv)
{
	last_rv = rv;
}

int rombsr_hsm_fail(int code, const char *operation, struct rombsr_hsm *hsm, CK_RV rv)
{
	last_rv = rv;
	return rombsr_error(code, "%s (token '%s'): %s", operation, hsm->token_label,
			    rombsr_ckr_name(rv));
}

static int parse_token_uri(const char *token_uri, P11KitUri **out)
{
	P11KitUri *uri = p11_kit_uri_new();
	int pr;

	if (uri == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	pr = p11_kit_uri_parse(token_uri, P11_KIT_URI_FOR_SLOT | P11_KIT_URI_FOR_TOKEN, uri);
	if (pr != P11_KIT_URI_OK) {
		p11_kit_uri_free(uri);
		return rombsr_error(ROMBSR_EINVAL, "token URI '%s': %s", token_uri, p11_kit_uri_message(pr));
	}
	if (p11_kit_uri_any_unrecognized(uri)) {
		p11_kit_uri_free(uri);
		return rombsr_error(ROMBSR_EINVAL,
				    "token URI '%s' has attributes that do not name a token or slot",
				    token_uri);
	}
	/* Checked on the text too: p11-kit reads pin-value only as a query
	 * attribute and would pass over one written as a path attribute. */
	if (p11_kit_uri_get_pin_value(uri) != NULL || strstr(token_uri, "pin-value") != NULL) {
		p11_kit_uri_free(uri);
		return rombsr_error(ROMBSR_EPERM,
				    "token URI '%s' carries a PIN (pin-value); give the PIN in a pin-file",
				    token_uri);
	}
	*out = uri;
	return 0;
}

/* Exactly one token must match: signing with the wrong token because a URI
 * was too loose is worse than refusing. */
static int select_slot(struct rombsr_hsm *hsm, P11KitUri *uri, const char *token_uri)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG count = 0;
	unsigned matches = 0;
	CK_RV rv;
	int r = ROMBSR_EINTERNAL;

	rv = hsm->f->C_GetSlotList(CK_TRUE, NULL, &count);
	if (rv != CKR_OK)
		return rombsr_hsm_fail(ROMBSR_EHSM, "C_GetSlotList", hsm, rv);
	slots = calloc(count ? count : 1, sizeof(*slots));
	if (slots == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	rv = hsm->f->C_GetSlotList(CK_TRUE, slots, &count);
	if (rv != CKR_OK) {
		r = rombsr_hsm_fail(ROMBSR_EHSM, "C_GetSlotList", hsm, rv);
		goto out;
	}
	for (CK_ULONG i = 0; i < count; i++) {
		CK_TOKEN_INFO info;
		CK_SLOT_INFO slot_info;
		CK_SLOT_ID want = p11_kit_uri_get_slot_id(uri);

		if (want != (CK_SLOT_ID)-1 && want != slots[i])
			continue;
		if (hsm->f->C_GetSlotInfo(slots[i], &slot_info) != CKR_OK ||
		    !p11_kit_uri_match_slot_info(uri, &slot_info))
			continue;
		if (hsm->f->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		if (!(info.flags & CKF_TOKEN_INITIALIZED) || !p11_kit_uri_match_token_info(uri, &info))
			continue;
		if (matches++ == 0) {
			hsm->slot = slots[i];
			rombsr_p11_string(info.label, sizeof(info.label), hsm->token_label);
		}
	}
	if (matches == 0)
		r = rombsr_error(ROMBSR_ENOTFOUND, "no token matches '%s'", token_uri);
	else if (matches > 1)
		r = rombsr_error(ROMBSR_EINVAL, "%u tokens match '%s'; name one (token=, serial=)",
				 matches, token_uri);
	else
		r = 0;
out:
	free(slots);
	return r;
}

/* sessions[0], which holds the login state. */
static int open_first_session(struct rombsr_hsm *hsm)
{
	CK_RV rv = hsm->f->C_OpenSession(hsm->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &hsm->sessions[0]);

	if (rv != CKR_OK)
		return rombsr_hsm_fail(ROMBSR_EHSM, "C_OpenSession", hsm, rv);
	hsm->open_sessions = 1;
	hsm->busy[0] = false;
	return 0;
}

int rombsr_hsm_open(const char *module_path, const char *token_uri, struct rombsr_hsm **out)
{
	struct rombsr_hsm *hsm;
	P11KitUri *uri = NULL;
	int r;

	*out = NULL;
	r = parse_token_uri(token_uri, &uri);
	if (r < 0)
		return r;
	hsm = calloc(1, sizeof(*hsm));
	if (hsm == NULL) {
		p11_kit_uri_free(uri);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&hsm->lock, NULL);
	pthread_cond_init(&hsm->released, NULL);
	hsm->max_sessions = ROMBSR_HSM_MAX_SESSIONS_DEFAULT;
	hsm->token_uri = strdup(token_uri);
	r = hsm->token_uri != NULL ? rombsr_module_acquire(module_path, &hsm->module, &hsm->f)
				   : rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		r = select_slot(hsm, uri, token_uri);
	if (r == 0)
		r = open_first_session(hsm);
	p11_kit_uri_free(uri);
	if (r < 0) {
		rombsr_hsm_close(hsm);
		return r;
	}
	*out = hsm;
	return 0;
}

/* Logs out and closes every session of this handle, whatever the token
 * answers: after a device error the handles may be dead already, and a
 * session forgotten here would stay open in the token for good. */
static void close_sessions(struct rombsr_hsm *hsm)
{
	pthread_mutex_lock(&hsm->lock);
	if (hsm->logged_in && hsm->open_sessions > 0)
		hsm->f->C_Logout(hsm->sessions[0]);
	hsm->logged_in = false;
	/* Only our own sessions: another handle may share this module and slot. */
	for (size_t i = 0; i < hsm->open_sessions; i++) {
		hsm->f->C_CloseSession(hsm->sessions[i]);
		hsm->busy[i] = false;
	}
	hsm->open_sessions = 0;
	pthread_mutex_unlock(&hsm->lock);
}

void rombsr_hsm_close(struct rombsr_hsm *hsm)
{
	if (hsm == NULL)
		return;
	if (hsm->yh != NULL)
		rombsr_yh_hsm_free(hsm);
	else if (hsm->f != NULL)
		close_sessions(hsm);
	rombsr_module_release(hsm->module);
	pthread_cond_destroy(&hsm->released);
	pthread_mutex_destroy(&hsm->lock);
	free(hsm->token_uri);
	free(hsm);
}

int rombsr_hsm_reopen(struct rombsr_hsm *hsm, const char *pin)
{
	P11KitUri *uri = NULL;
	int r;

	if (hsm->yh != NULL)
		return rombsr_yh_hsm_reopen(hsm, pin);
	close_sessions(hsm);
	last_rv = CKR_OK;
	r = rombsr_module_reinit(hsm->module);
	if (r == 0)
		r = parse_token_uri(hsm->token_uri, &uri);
	/* The token may come back in another slot. */
	if (r == 0)
		r = select_slot(hsm, uri, hsm->token_uri);
	if (r == 0)
		r = open_first_session(hsm);
	if (r == 0)
		r = rombsr_hsm_login(hsm, pin);
	p11_kit_uri_free(uri);
	return r;
}

bool rombsr_hsm_recoverable(const struct rombsr_hsm *hsm)
{
	/* the calling thread's last failure, whichever handle it was on */
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_recoverable();
	switch (last_rv) {
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_SESSION_COUNT:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_DEVICE_ERROR:
	case CKR_DEVICE_MEMORY:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_SLOT_ID_INVALID:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
	case CKR_KEY_HANDLE_INVALID:
	case CKR_OBJECT_HANDLE_INVALID:
	case CKR_OPERATION_ACTIVE:
	case CKR_GENERAL_ERROR:
	case CKR_FUNCTION_FAILED:
		return true;
	default:
		return false;
	}
}

void rombsr_hsm_set_max_sessions(struct rombsr_hsm *hsm, size_t max)
{
	size_t cap = sizeof(hsm->sessions) / sizeof(hsm->sessions[0]);

	pthread_mutex_lock(&hsm->lock);
	hsm->max_sessions = max == 0 ? 1 : (max > cap ? cap : max);
	pthread_mutex_unlock(&hsm->lock);
}

const char *rombsr_hsm_token_label(const struct rombsr_hsm *hsm)
{
	return hsm->token_label;
}

CK_FUNCTION_LIST *rombsr_hsm_functions(struct rombsr_hsm *hsm)
{
	return hsm->f;
}

int rombsr_hsm_login_as(struct rombsr_hsm *hsm, CK_USER_TYPE user_type, const char *what, const char *pin)
{
	CK_RV rv;

	rv = hsm->f->C_Login(hsm->sessions[0], user_type, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		rv = CKR_OK;
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_LEN_RANGE ||
	    rv == CKR_PIN_EXPIRED)
		return rombsr_hsm_fail(ROMBSR_EAUTH, what, hsm, rv);
	if (rv != CKR_OK)
		return rombsr_hsm_fail(ROMBSR_EHSM, what, hsm, rv);
	hsm->logged_in = true;
	return 0;
}

void rombsr_hsm_logout(struct rombsr_hsm *hsm)
{
	if (hsm->yh != NULL) {
		rombsr_yh_hsm_logout(hsm);
		return;
	}
	if (hsm->logged_in && hsm->open_sessions > 0)
		hsm->f->C_Logout(hsm->sessions[0]);
	hsm->logged_in = false;
}

int rombsr_hsm_login(struct rombsr_hsm *hsm, const char *pin)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_login(hsm, pin);
	return rombsr_hsm_login_as(hsm, CKU_USER, "C_Login", pin);
}

int rombsr_hsm_open_for(const struct rombsr_authority_config *a, struct rombsr_hsm **out)
{
	int r;

	if (a->backend != ROMBSR_HSM_BACKEND_YUBIHSM)
		return rombsr_hsm_open(a->module, a->token_uri, out);
	r = rombsr_hsm_open_yubihsm(a->connector, out);
	/* Whoever works on the device can move its full log to the spool
	 * (yh_log.c): keygen fills it as surely as signing. */
	if (r == 0 && rombsr_path_exists(a->log_pin_file))
		r = rombsr_hsm_device_log_setup(*out, a->log_pin_file, a->log_spool);
	if (r < 0) {
		rombsr_hsm_close(*out);
		*out = NULL;
	}
	return r;
}

int rombsr_hsm_open_login_for(const struct rombsr_authority_config *a, const char *pin_file, struct rombsr_hsm **out)
{
	struct rombsr_buf pin;
	int r;

	*out = NULL;
	/* The PIN file first: a refused file costs no module load. */
	r = rombsr_secret_from_file(pin_file, &pin);
	if (r < 0)
		return r;
	r = rombsr_hsm_open_for(a, out);
	if (r == 0)
		r = rombsr_hsm_login(*out, (const char *)pin.data);
	rombsr_buf_free(&pin);
	if (r < 0) {
		rombsr_hsm_close(*out);
		*out = NULL;
	}
	return r;
}

int rombsr_hsm_open_login(const char *module_path, const char *token_uri, const char *pin_file,
			   struct rombsr_hsm **out)
{
	struct rombsr_buf pin;
	int r;

	*out = NULL;
	/* The PIN file first: a refused file costs no module load. */
	r = rombsr_secret_from_file(pin_file, &pin);
	if (r < 0)
		return r;
	r = rombsr_hsm_open(module_path, token_uri, out);
	if (r == 0)
		r = rombsr_hsm_login(*out, (const char *)pin.data);
	rombsr_buf_free(&pin);
	if (r < 0) {
		rombsr_hsm_close(*out);
		*out = NULL;
	}
	return r;
}

int rombsr_hsm_pool_take(struct rombsr_hsm *hsm, bool need_login, int (*open_slot)(struct rombsr_hsm *, size_t),
			 size_t *slot)
{
	int r = 0;

	pthread_mutex_lock(&hsm->lock);
	for (;;) {
		size_t i;

		if (need_login && !hsm->logged_in) {
			r = rombsr_error(ROMBSR_EHSM, "%s: no authenticated session", hsm->token_label);
			break;
		}
		for (i = 0; i < hsm->open_sessions; i++)
			if (!hsm->busy[i])
				break;
		if (i < hsm->open_sessions || (hsm->open_sessions < hsm->max_sessions && (r = open_slot(hsm, i)) == 0)) {
			hsm->busy[i] = true;
			hsm->open_sessions += i == hsm->open_sessions;
			*slot = i;
			break;
		}
		if (r < 0)
			break;
		pthread_cond_wait(&hsm->released, &hsm->lock);
	}
	pthread_mutex_unlock(&hsm->lock);
	return r;
}

void rombsr_hsm_pool_give(struct rombsr_hsm *hsm, bool (*is)(const struct rombsr_hsm *, size_t, const void *),
			  const void *session)
{
	pthread_mutex_lock(&hsm->lock);
	for (size_t i = 0; i < hsm->open_sessions; i++) {
		if (is(hsm, i, session)) {
			hsm->busy[i] = false;
			break;
		}
	}
	pthread_cond_signal(&hsm->released);
	pthread_mutex_unlock(&hsm->lock);
}

static int open_p11_slot(struct rombsr_hsm *hsm, size_t slot)
{
	CK_RV rv = hsm->f->C_OpenSession(hsm->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
					 &hsm->sessions[slot]);

	return rv == CKR_OK ? 0 : rombsr_hsm_fail(ROMBSR_EHSM, "C_OpenSession", hsm, rv);
}

int rombsr_hsm_session_get(struct rombsr_hsm *hsm, CK_SESSION_HANDLE *session)
{
	size_t slot;
	int r;

	/* Whatever has no native form on a YubiHSM fails closed here. */
	if (hsm->yh != NULL)
		return rombsr_error(ROMBSR_EUNSUPPORTED, "%s: this operation has no native YubiHSM form",
				    hsm->token_label);
	r = rombsr_hsm_pool_take(hsm, false, open_p11_slot, &slot);
	if (r == 0)
		*session = hsm->sessions[slot];
	return r;
}

static bool is_p11_session(const struct rombsr_hsm *hsm, size_t slot, const void *session)
{
	return hsm->sessions[slot] == *(const CK_SESSION_HANDLE *)session;
}

void rombsr_hsm_session_put(struct rombsr_hsm *hsm, CK_SESSION_HANDLE session)
{
	rombsr_hsm_pool_give(hsm, is_p11_session, &session);
}

int rombsr_hsm_uri_token_label(const char *token_uri, char label[33])
{
	P11KitUri *uri = NULL;
	CK_TOKEN_INFO *info;
	int r = parse_token_uri(token_uri, &uri);

	if (r < 0)
		return r;
	info = p11_kit_uri_get_token_info(uri);
	rombsr_p11_string(info->label, sizeof(info->label), label);
	p11_kit_uri_free(uri);
	if (label[0] == '\0')
		return rombsr_error(ROMBSR_EINVAL, "token URI '%s' names no token label (token=...)", token_uri);
	return 0;
}
