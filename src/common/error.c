#include "error.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The message belongs to the code it was recorded for: last_code is 0 when
 * there is none, so a message can only be shown for the failure it
 * describes. */
static _Thread_local int last_code;
static _Thread_local char last_message[ROMBSR_ERROR_MESSAGE_MAX];

static const struct {
	int code;
	const char *text;
} error_texts[] = {
	{ROMBSR_OK, "success"},
	{ROMBSR_EINTERNAL, "internal error"},
	{ROMBSR_ENOMEM, "out of memory"},
	{ROMBSR_EINVAL, "invalid input"},
	{ROMBSR_EIO, "input/output error"},
	{ROMBSR_ECONFIG, "configuration error"},
	{ROMBSR_EHSM, "HSM error"},
	{ROMBSR_ENOTFOUND, "not found"},
	{ROMBSR_EEXISTS, "already exists"},
	{ROMBSR_ECRYPTO, "cryptographic failure"},
	{ROMBSR_EAUTH, "authentication failed"},
	{ROMBSR_EUNSUPPORTED, "not supported"},
	{ROMBSR_EPERM, "refused"},
	{ROMBSR_ESECURITY, "security check failed"},
	{ROMBSR_EFORK, "the audit log forked"},
};

const char *rombsr_strerror(int code)
{
	for (size_t i = 0; i < sizeof(error_texts) / sizeof(error_texts[0]); i++)
		if (error_texts[i].code == code)
			return error_texts[i].text;
	return "unknown error";
}

static void record(int code, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void record(int code, const char *fmt, va_list ap)
{
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	last_code = code;
}

static bool recorded_for(int code)
{
	return code != 0 && last_code == code && last_message[0] != '\0';
}

int rombsr_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(code, fmt, ap);
	va_end(ap);
	return code;
}

static int wrap(int from, int code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

static int wrap(int from, int code, const char *fmt, va_list ap)
{
	char old[ROMBSR_ERROR_MESSAGE_MAX];
	const char *detail = rombsr_strerror(from);
	size_t used;

	if (recorded_for(from)) {
		memcpy(old, last_message, sizeof(old));
		detail = old;
	}
	record(code, fmt, ap);
	used = strlen(last_message);
	if (used + 2 < sizeof(last_message)) {
		memcpy(last_message + used, ": ", 3);
		used += 2;
		size_t room = sizeof(last_message) - used - 1;
		size_t n = strlen(detail);

		if (n > room)
			n = room;
		memcpy(last_message + used, detail, n);
		last_message[used + n] = '\0';
	}
	return code;
}

int rombsr_error_wrap(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wrap(code, code, fmt, ap);
	va_end(ap);
	return code;
}

int rombsr_error_wrap_as(int from, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wrap(from, code, fmt, ap);
	va_end(ap);
	return code;
}

int rombsr_error_openssl(int code, const char *fmt, ...)
{
	char reason[256] = "no detail from OpenSSL";
	unsigned long e = ERR_peek_last_error();
	size_t used;
	va_list ap;

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	va_start(ap, fmt);
	record(code, fmt, ap);
	va_end(ap);
	used = strlen(last_message);
	/* Cut to fit: the reason is a suffix, the message before it is whole. */
	(void)snprintf(last_message + used, sizeof(last_message) - used, " (%s)", reason);
	return code;
}

const char *rombsr_error_message(int code)
{
	if (recorded_for(code))
		return last_message;
	return rombsr_strerror(code);
}

void rombsr_error_clear(void)
{
	last_code = 0;
	last_message[0] = '\0';
}

void rombsr_error_save(struct rombsr_error_saved *saved)
{
	saved->code = last_code;
	memcpy(saved->message, last_message, sizeof(saved->message));
}

void rombsr_error_restore(const struct rombsr_error_saved *saved)
{
	last_code = saved->code;
	memcpy(last_message, saved->message, sizeof(last_message));
}
