/* One error convention for all of ROMbsr (see CONTRIBUTING.md).
 *
 * Functions return 0 on success or a negative ROMBSR_E* code. The code says
 * what kind of failure it was (so callers can branch on it); the detail a
 * person needs ("C_Login on token 'rombsr-release': CKR_PIN_INCORRECT") is kept
 * in a per-thread message set with rombsr_error(). */
#ifndef ROMBSR_ERROR_H
#define ROMBSR_ERROR_H

enum rombsr_error_code {
	ROMBSR_OK = 0,
	ROMBSR_EINTERNAL = -1,  /* a bug or an impossible state */
	ROMBSR_ENOMEM = -2,
	ROMBSR_EINVAL = -3,     /* bad input from the user or from a file */
	ROMBSR_EIO = -4,        /* the operating system refused a file operation */
	ROMBSR_ECONFIG = -5,    /* configuration file wrong */
	ROMBSR_EHSM = -6,       /* the PKCS#11 module returned an error */
	ROMBSR_ENOTFOUND = -7,
	ROMBSR_EEXISTS = -8,
	ROMBSR_ECRYPTO = -9,    /* OpenSSL or another crypto library failed (never a verdict: see ESECURITY) */
	ROMBSR_EAUTH = -10,     /* wrong PIN or credential */
	ROMBSR_EUNSUPPORTED = -11,
	ROMBSR_EPERM = -12,     /* refused on purpose: unsafe file mode, secret in argv */
	ROMBSR_ESECURITY = -13, /* a verification failed: bad signature, unauthorized change, rewritten history */
	ROMBSR_EFORK = -14,     /* the audit log contradicts a checkpoint accepted earlier (a security failure) */
};

/* The longest message kept; longer ones are cut. */
#define ROMBSR_ERROR_MESSAGE_MAX 1024

/* Records the detail message for this thread, filed under code, and returns code, so that a
 * failure is reported and propagated in one statement:
 *     return rombsr_error(ROMBSR_EINVAL, "bad label '%s'", label); */
int rombsr_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepends context to the message recorded for code ("keygen platform: <old>")
 * and returns code unchanged. When the last message was recorded for another
 * code (the callee returned code without recording one), the context is
 * prepended to the generic text of code instead, never to a stale message. */
int rombsr_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like rombsr_error_wrap() for a failure that changes kind on its way up (a
 * response that does not parse is, to the verifier, a security failure):
 * wraps the message recorded for from and files the result under code. */
int rombsr_error_wrap_as(int from, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like rombsr_error() but appends OpenSSL's queued error reason, and clears
 * OpenSSL's queue. */
int rombsr_error_openssl(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The detail message of the last failure on this thread if it was recorded
 * for code and not cleared since, else the generic text of code: a code
 * returned without rombsr_error() never shows an earlier failure's message.
 * Never NULL. */
const char *rombsr_error_message(int code);

const char *rombsr_strerror(int code);

/* Forgets the recorded message; a caller that handles a failure and goes on
 * clears it so that it cannot be shown for a later one of the same code. */
void rombsr_error_clear(void);

/* The recorded message and its code, kept across cleanup that may record
 * its own (a failed removal must not replace the reason for the removal). */
struct rombsr_error_saved {
	int code;
	char message[ROMBSR_ERROR_MESSAGE_MAX];
};

void rombsr_error_save(struct rombsr_error_saved *saved);
void rombsr_error_restore(const struct rombsr_error_saved *saved);

#endif
