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
	ROMBSR_ECRYPTO = -9,    /* OpenSSL failed, or a signature did not verify */
	ROMBSR_EAUTH = -10,     /* wrong PIN or credential */
	ROMBSR_EUNSUPPORTED = -11,
	ROMBSR_EPERM = -12,     /* refused on purpose: unsafe file mode, secret in argv */
	ROMBSR_ESECURITY = -13, /* a verification failed: bad signature, unauthorized change, rewritten history */
	ROMBSR_EFORK = -14,     /* the audit log contradicts a checkpoint accepted earlier (a security failure) */
};

/* Records the detail message for this thread and returns code, so that a
 * failure is reported and propagated in one statement:
 *     return rombsr_error(ROMBSR_EINVAL, "bad label '%s'", label); */
int rombsr_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepends context to the current message ("keygen platform: <old>") and
 * returns code unchanged. */
int rombsr_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like rombsr_error() but appends OpenSSL's queued error reason, and clears
 * OpenSSL's queue. */
int rombsr_error_openssl(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The detail message of the last failure on this thread, or the generic text
 * of code if none was recorded. Never NULL. */
const char *rombsr_error_message(int code);

const char *rombsr_strerror(int code);
void rombsr_error_clear(void);

#endif
