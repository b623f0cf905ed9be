/* Shared between the files of src/hsm only. */
#ifndef ROMBSR_HSM_INTERNAL_H
#define ROMBSR_HSM_INTERNAL_H

#include "hsm.h"

#include <pthread.h>

struct rombsr_module;
struct rombsr_yh_token;

struct rombsr_hsm {
	struct rombsr_module *module;
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slot;
	char token_label[33];

	pthread_mutex_t lock;
	pthread_cond_t released;
	/* sessions[0] is opened with the handle and kept open: PKCS#11 login
	 * state lasts only while the application has a session on the token. */
	CK_SESSION_HANDLE sessions[16];
	bool busy[16];
	size_t open_sessions;
	size_t max_sessions;
	bool logged_in;
	/* Kept for rombsr_hsm_reopen, which selects the token again. */
	char *token_uri;
	/* Non-NULL: a YubiHSM 2 through ROMbsr's own client, not PKCS#11
	 * (yh_backend.h); module, f and the session fields are then unused
	 * but lock, released and max_sessions, which its pool shares. */
	struct rombsr_yh_token *yh;
};

/* Remembers rv as this thread's last failed PKCS#11 call, for
 * rombsr_hsm_recoverable: per thread, because a signer runs several
 * sessions at once and one thread's failure must not be judged by
 * another's code. */
void rombsr_hsm_note_rv(CK_RV rv);

/* Loads and initializes a module once per process; later calls for the same
 * path share it. */
int rombsr_module_acquire(const char *path, struct rombsr_module **out, CK_FUNCTION_LIST **f);
void rombsr_module_release(struct rombsr_module *m);
/* C_Finalize then C_Initialize, keeping the library loaded, when the caller
 * is the module's only user (a finalize would pull it from under others;
 * then nothing is done). */
int rombsr_module_reinit(struct rombsr_module *m);

/* Formats the failure of a PKCS#11 call: "C_Login (token 'x'): CKR_..."
 * and remembers rv for rombsr_hsm_recoverable (rombsr_hsm_note_rv). */
int rombsr_hsm_fail(int code, const char *operation, struct rombsr_hsm *hsm, CK_RV rv);

/* Reads key->kind and key->bits from its private key object. */
int rombsr_hsm_key_shape(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key);

/* Finds the objects that match tmpl. Returns how many (at most max
 * handles stored) or a negative error. */
int rombsr_hsm_find(struct rombsr_hsm *hsm, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *found, CK_ULONG max);

/* C_Login on the handle's first session as user_type (CKU_USER, CKU_SO);
 * what names the role in messages. A wrong PIN is ROMBSR_EAUTH. */
int rombsr_hsm_login_as(struct rombsr_hsm *hsm, CK_USER_TYPE user_type, const char *what, const char *pin);

/* Which of labels a label of len bytes (v, not NUL-ended) is: its index,
 * or with retired n + j for "<labels[j]>@<16 hex>" (the retired label then
 * in text); SIZE_MAX for none. */
size_t rombsr_hsm_match_label(const char *const *labels, size_t n, bool retired, const unsigned char *v, size_t len,
			      char text[ROMBSR_HSM_LABEL_MAX + 1]);

/* The session pool both backends share (token.c): takes a free slot of
 * hsm->busy, or opens one with open_slot (called under hsm->lock, within
 * max_sessions), or waits for one to be given back. With need_login, a
 * handle not logged in is refused. */
int rombsr_hsm_pool_take(struct rombsr_hsm *hsm, bool need_login, int (*open_slot)(struct rombsr_hsm *, size_t),
			 size_t *slot);
/* Gives back the session is() recognizes (none if the pool no longer
 * holds it: a re-open closed it). */
void rombsr_hsm_pool_give(struct rombsr_hsm *hsm, bool (*is)(const struct rombsr_hsm *, size_t, const void *),
			  const void *session);

/* Copies a blank-padded PKCS#11 text field into a C string. */
void rombsr_p11_string(const unsigned char *field, size_t n, char *out);

#endif
