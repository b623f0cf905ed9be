#define _GNU_SOURCE
#include "policy_state.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rombsr_policy_state {
	char *copy_path, *refused_path;
	struct rombsr_policy policy;
	bool have_policy;
	char sha256[65];
	char refused_sha256[65];
	/* Found by refresh, taken by commit. */
	struct rombsr_policy staged;
	struct rombsr_buf staged_text;
	bool have_staged;
};

static void sha256_hex(const struct rombsr_buf *text, char out[65])
{
	unsigned char md[32];

	SHA256(text->data, text->len, md);
	rombsr_hex_encode(md, 32, out);
}

static int load_copy(struct rombsr_policy_state *s)
{
	struct rombsr_buf text;
	int r = rombsr_file_read(s->copy_path, ROMBSR_POLICY_MAX_BYTES, &text);

	if (r == ROMBSR_ENOTFOUND)
		return 0;
	if (r == 0)
		r = rombsr_policy_parse((const char *)text.data, text.len, &s->policy);
	if (r == 0) {
		s->have_policy = true;
		sha256_hex(&text, s->sha256);
	} else {
		r = rombsr_error_wrap(r, "%s (the policy this sign node accepted last) is damaged", s->copy_path);
	}
	rombsr_buf_free(&text);
	return r;
}

static int load_refused(struct rombsr_policy_state *s)
{
	struct rombsr_buf text;
	int r = rombsr_file_read(s->refused_path, 128, &text);

	if (r == ROMBSR_ENOTFOUND)
		return 0;
	unsigned char md[32];

	if (r == 0 && (text.len != 65 || text.data[64] != '\n'))
		r = rombsr_error(ROMBSR_EINVAL, "%s: damaged (expected one SHA-256 in hex)", s->refused_path);
	if (r == 0) {
		text.data[64] = '\0';
		r = rombsr_hex_decode((const char *)text.data, md, 32, s->refused_path);
	}
	if (r == 0) {
		memcpy(s->refused_sha256, text.data, 64);
		s->refused_sha256[64] = '\0';
	}
	rombsr_buf_free(&text);
	return r;
}

static void drop_staged(struct rombsr_policy_state *s)
{
	if (!s->have_staged)
		return;
	rombsr_policy_free(&s->staged);
	rombsr_buf_free(&s->staged_text);
	s->have_staged = false;
}

int rombsr_policy_state_open(const char *dir, struct rombsr_policy_state **out)
{
	struct rombsr_policy_state *s = calloc(1, sizeof(*s));
	int r = s ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	*out = NULL;
	if (r == 0 && (asprintf(&s->copy_path, "%s/policy.json", dir) < 0 ||
		       asprintf(&s->refused_path, "%s/policy.refused", dir) < 0)) {
		s->copy_path = s->refused_path = NULL;
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r == 0)
		r = load_copy(s);
	if (r == 0)
		r = load_refused(s);
	if (r < 0) {
		rombsr_policy_state_close(s);
		return r;
	}
	*out = s;
	return 0;
}

void rombsr_policy_state_close(struct rombsr_policy_state *s)
{
	if (s == NULL)
		return;
	if (s->have_policy)
		rombsr_policy_free(&s->policy);
	drop_staged(s);
	free(s->copy_path);
	free(s->refused_path);
	free(s);
}

const struct rombsr_policy *rombsr_policy_state_current(const struct rombsr_policy_state *s)
{
	return s->have_policy ? &s->policy : NULL;
}

const char *rombsr_policy_state_sha256(const struct rombsr_policy_state *s)
{
	return s->sha256;
}

const char *rombsr_policy_state_refused_sha256(const struct rombsr_policy_state *s)
{
	return s->refused_sha256;
}

static int refuse(struct rombsr_policy_event *ev, const char *reason)
{
	ev->change = ROMBSR_POLICY_REFUSED;
	snprintf(ev->reason, sizeof(ev->reason), "%s", reason);
	return 0;
}

int rombsr_policy_state_commit(struct rombsr_policy_state *s, const struct rombsr_policy_event *ev)
{
	char line[66];
	int r;

	if (ev->change == ROMBSR_POLICY_REFUSED) {
		memcpy(s->refused_sha256, ev->sha256, sizeof(s->refused_sha256));
		snprintf(line, sizeof(line), "%s\n", ev->sha256);
		return rombsr_file_write_atomic(s->refused_path, line, 65, 0600, false);
	}
	if (ev->change != ROMBSR_POLICY_APPLIED)
		return 0;
	if (!s->have_staged)
		return rombsr_error(ROMBSR_EINTERNAL, "no policy change to commit");
	r = rombsr_file_write_atomic(s->copy_path, s->staged_text.data, s->staged_text.len, 0600, false);
	if (r < 0)
		return r;
	if (s->have_policy)
		rombsr_policy_free(&s->policy);
	s->policy = s->staged;
	s->have_policy = true;
	rombsr_buf_free(&s->staged_text);
	s->have_staged = false;
	memcpy(s->sha256, ev->sha256, sizeof(s->sha256));
	return 0;
}

#define POLICY_READ_CAP (64u << 20)

/* SHA-256 of nothing: what a removed policy file is remembered by. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int rombsr_policy_state_refresh(struct rombsr_policy_state *s, struct rombsr_repo *repo, const git_oid *head,
				struct rombsr_policy_event *ev)
{
	struct rombsr_policy next;
	struct rombsr_buf text;
	/* Read past the policy's own limit, so an oversize file can be named
	 * by its content's SHA-256 in the refusal. */
	int r = rombsr_repo_read(repo, head, ROMBSR_POLICY_PATH, POLICY_READ_CAP, &text);

	drop_staged(s);
	memset(ev, 0, sizeof(*ev));
	memcpy(ev->previous_sha256, s->sha256, sizeof(ev->previous_sha256));
	if (r == ROMBSR_ENOTFOUND) {
		rombsr_buf_free(&text);
		if (!s->have_policy || strcmp(s->refused_sha256, EMPTY_SHA256) == 0)
			return 0;
		snprintf(ev->sha256, sizeof(ev->sha256), "%s", EMPTY_SHA256);
		snprintf(ev->message, sizeof(ev->message),
			 "policy/policy.json was removed; policy %lld stays in force (to stop signing, disable the "
			 "keys in a new policy)",
			 (long long)s->policy.serial);
		return refuse(ev, "policy-removed");
	}
	if (r == ROMBSR_EINVAL) {
		/* Not a file, or beyond even the reading cap: the admin's mistake,
		 * refused like a malformed policy rather than failing every pass.
		 * Without content to name it by, it is named by the SHA-256 of the
		 * refusal's message. */
		snprintf(ev->message, sizeof(ev->message), "%s", rombsr_error_message(r));
		rombsr_buf_free(&text);
		rombsr_buf_init(&text, sizeof(ev->message));
		rombsr_buf_append(&text, ev->message, strlen(ev->message));
		sha256_hex(&text, ev->sha256);
		rombsr_buf_free(&text);
		if (strcmp(ev->sha256, s->refused_sha256) == 0)
			return 0;
		return refuse(ev, "policy-invalid");
	}
	if (r < 0)
		return r;
	sha256_hex(&text, ev->sha256);
	if (r == 0 && strcmp(ev->sha256, s->sha256) != 0 && strcmp(ev->sha256, s->refused_sha256) != 0 &&
	    text.len > ROMBSR_POLICY_MAX_BYTES) {
		snprintf(ev->message, sizeof(ev->message), "policy/policy.json: %zu bytes, larger than the limit of %u",
			 text.len, ROMBSR_POLICY_MAX_BYTES);
		rombsr_buf_free(&text);
		return refuse(ev, "policy-invalid");
	}
	if (strcmp(ev->sha256, s->sha256) == 0 || strcmp(ev->sha256, s->refused_sha256) == 0) {
		rombsr_buf_free(&text);
		return 0;
	}
	r = rombsr_policy_parse((const char *)text.data, text.len, &next);
	if (r < 0) {
		snprintf(ev->message, sizeof(ev->message), "%s", rombsr_error_message(r));
		rombsr_buf_free(&text);
		return refuse(ev, "policy-invalid");
	}
	if (s->have_policy && next.serial <= s->policy.serial) {
		snprintf(ev->message, sizeof(ev->message),
			 "policy.serial: %lld does not raise the serial of the policy in force (%lld)",
			 (long long)next.serial, (long long)s->policy.serial);
		rombsr_policy_free(&next);
		rombsr_buf_free(&text);
		return refuse(ev, "policy-serial");
	}
	s->staged = next;
	s->staged_text = text;
	s->have_staged = true;
	ev->change = ROMBSR_POLICY_APPLIED;
	ev->serial = next.serial;
	return 0;
}
