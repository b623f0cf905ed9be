/* The per-thread message belongs to the code it was recorded for: a code
 * returned without rombsr_error() never shows an earlier failure's text. */
#include "tap.h"

#include "../../src/common/error.h"

#include <openssl/err.h>
#include <pthread.h>
#include <string.h>

/* A callee that fails without recording anything, as `return ROMBSR_ENOMEM;`
 * does after an allocation. */
static int bare(int code)
{
	return code;
}

static void *other_thread(void *arg)
{
	(void)arg;
	rombsr_error(ROMBSR_EIO, "recorded on the other thread");
	return NULL;
}

static void test_message(void)
{
	int r;

	rombsr_error_clear();
	CHECK(strcmp(rombsr_error_message(ROMBSR_EINVAL), "invalid input") == 0, "nothing recorded: generic text");
	r = rombsr_error(ROMBSR_EINVAL, "bad label '%s'", "x");
	CHECK(r == ROMBSR_EINVAL && strcmp(rombsr_error_message(r), "bad label 'x'") == 0, "the message of its code");
	CHECK(strcmp(rombsr_error_message(r), "bad label 'x'") == 0, "reading it twice gives it twice");

	r = bare(ROMBSR_ENOMEM);
	CHECK(strcmp(rombsr_error_message(r), "out of memory") == 0,
	      "a bare return of another code does not show the earlier message (%s)", rombsr_error_message(r));
	CHECK(strcmp(rombsr_error_message(ROMBSR_OK), "success") == 0, "success never shows a message");

	rombsr_error_clear();
	CHECK(strcmp(rombsr_error_message(ROMBSR_EINVAL), "invalid input") == 0,
	      "a cleared message is not shown even for its code");

	rombsr_error(ROMBSR_EAUTH, "C_Login: CKR_PIN_INCORRECT");
	rombsr_error(ROMBSR_EIO, "cannot read x");
	CHECK(strcmp(rombsr_error_message(ROMBSR_EAUTH), "authentication failed") == 0,
	      "a later failure replaces the earlier one");
}

static void test_wrap(void)
{
	int r;

	r = rombsr_error(ROMBSR_ENOTFOUND, "no key 'platform'");
	r = rombsr_error_wrap(r, "authority %s", "release");
	CHECK(r == ROMBSR_ENOTFOUND && strcmp(rombsr_error_message(r), "authority release: no key 'platform'") == 0,
	      "wrap prepends to the message of the same code");

	rombsr_error(ROMBSR_EINVAL, "an old failure");
	r = rombsr_error_wrap(bare(ROMBSR_ENOMEM), "authority %s", "release");
	CHECK(r == ROMBSR_ENOMEM && strcmp(rombsr_error_message(r), "authority release: out of memory") == 0,
	      "wrap of a bare code wraps its generic text, not a stale message (%s)", rombsr_error_message(r));

	r = rombsr_error(ROMBSR_EINVAL, "malformed response");
	r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "%s", "responses/x.json");
	CHECK(r == ROMBSR_ESECURITY &&
	      strcmp(rombsr_error_message(r), "responses/x.json: malformed response") == 0,
	      "wrap_as files the wrapped message under the new code");
	CHECK(strcmp(rombsr_error_message(ROMBSR_EINVAL), "invalid input") == 0, "and not under the old one");

	rombsr_error(ROMBSR_EINVAL, "an old failure");
	r = rombsr_error_wrap_as(bare(ROMBSR_ENOMEM), ROMBSR_ESECURITY, "x");
	CHECK(strcmp(rombsr_error_message(r), "x: out of memory") == 0, "wrap_as of a bare code: its generic text");
}

static void test_save_restore(void)
{
	struct rombsr_error_saved saved;
	int r = rombsr_error(ROMBSR_EPERM, "PIN file p may be read by others");

	rombsr_error_save(&saved);
	rombsr_error(ROMBSR_EIO, "cannot remove a scratch folder");
	rombsr_error_restore(&saved);
	CHECK(strcmp(rombsr_error_message(r), "PIN file p may be read by others") == 0,
	      "cleanup that records its own failure does not replace the reason");
}

static void test_openssl(void)
{
	int r;

	rombsr_error(ROMBSR_EINVAL, "an old failure");
	ERR_clear_error();
	r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot hash");
	CHECK(r == ROMBSR_ECRYPTO && strcmp(rombsr_error_message(r), "cannot hash (no detail from OpenSSL)") == 0,
	      "OpenSSL failures are filed under their code (%s)", rombsr_error_message(r));
	CHECK(strcmp(rombsr_error_message(ROMBSR_EINVAL), "invalid input") == 0, "the old message is gone");
}

static void test_threads(void)
{
	pthread_t t;

	rombsr_error(ROMBSR_EIO, "recorded here");
	CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0 && pthread_join(t, NULL) == 0, "second thread ran");
	CHECK(strcmp(rombsr_error_message(ROMBSR_EIO), "recorded here") == 0, "messages are per thread");
}

int main(void)
{
	test_message();
	test_wrap();
	test_save_restore();
	test_openssl();
	test_threads();
	CHECK(strcmp(rombsr_strerror(ROMBSR_EFORK), "the audit log forked") == 0, "EFORK has its text");
	return tap_done();
}
