/* Key events of the sign node's audit writer: a key-generated entry per key
 * the log does not have yet, a key-revoked entry per key gone from a token
 * the node examined ("removed", or "replaced" when another key took its
 * label), nothing twice across restarts, tokens not examined left alone,
 * and a bad key appending nothing. */
#include "tap.h"

#include "../../src/audit/entry.h"
#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/sign/audit_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RELEASE "rombsr-release"
#define AUDIT "rombsr-audit"
#define FP(c) (c c c c c c c c c c c c c c c c) /* 64 hex digits from a 4-digit string */

static char dir[64];

/* Every entry of the log, decoded; returns how many. */
static size_t read_entries(struct rombsr_audit_entry *out, size_t max)
{
	char path[128];
	struct rombsr_buf b;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/audit/entries", dir);
	if (rombsr_file_read(path, 1 << 20, &b) < 0)
		return 0;
	for (size_t at = 0; at < b.len && n < max;) {
		const char *line = (const char *)b.data + at;
		const char *nl = memchr(line, '\n', b.len - at);

		if (nl == NULL || rombsr_audit_entry_decode(line, (size_t)(nl - line), &out[n]) < 0)
			break;
		n++;
		at += (size_t)(nl - line) + 1;
	}
	rombsr_buf_free(&b);
	return n;
}

/* One start of the sign node: opens the writer, logs a login and the key
 * set, closes. Returns the number of key events appended, -1 on failure. */
static int start(const char *const *tokens, size_t ntokens, const struct rombsr_audit_key *keys, size_t nkeys)
{
	struct rombsr_audit_writer *w;
	size_t added = 0;
	int r = rombsr_audit_writer_open(dir, "rombsr.example/audit", -1, &w);

	if (r == 0)
		r = rombsr_audit_writer_login(w, RELEASE, "signing");
	if (r == 0)
		r = rombsr_audit_writer_keys(w, tokens, ntokens, keys, nkeys, &added);
	rombsr_audit_writer_close(w);
	return r < 0 ? -1 : (int)added;
}

static bool is_event(const struct rombsr_audit_entry *e, enum rombsr_audit_type type, const char *label,
		     const char *fingerprint, const char *extra)
{
	if (e->type != type || strcmp(e->key_label, label) != 0 || strcmp(e->key_fingerprint, fingerprint) != 0)
		return false;
	return type == ROMBSR_AUDIT_KEY_REVOKED ? strcmp(e->reason, extra) == 0 : strcmp(e->token, extra) == 0;
}

int main(void)
{
	static struct rombsr_audit_entry e[64];
	const char *both[] = {RELEASE, AUDIT}, *audit_only[] = {AUDIT};
	const char *fa = FP("aaaa"), *fb = FP("bbbb"), *fc = FP("cccc"), *fd = FP("dddd"), *fe = FP("eeee");
	struct rombsr_audit_key keys[] = {
		{RELEASE, "platform", fa, "rsa-4096"},
		{RELEASE, "media", fb, "rsa-4096"},
		{AUDIT, "audit", fc, "ec-p256"},
	};
	size_t n, before;

	snprintf(dir, sizeof(dir), "/tmp/rombsr-audit-keys.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "temporary folder");
		return tap_done();
	}

	CHECK(start(both, 2, keys, 3) == 3, "first start: one key-generated per key");
	n = read_entries(e, 64);
	CHECK(n == 4, "a login and three key events (%zu entries)", n);
	CHECK(is_event(&e[1], ROMBSR_AUDIT_KEY_GENERATED, "platform", fa, "rombsr-release") &&
		      strcmp(e[1].algorithm, "rsa-4096") == 0,
	      "platform: fingerprint, algorithm, token");
	CHECK(is_event(&e[3], ROMBSR_AUDIT_KEY_GENERATED, "audit", fc, "rombsr-audit") && strcmp(e[3].algorithm, "ec-p256") == 0,
	      "the audit key is in the key set too");

	CHECK(start(both, 2, keys, 3) == 0, "restart with the same keys: nothing logged");
	CHECK(read_entries(e, 64) == 5, "only the login was appended");

	/* keygen added a key */
	{
		struct rombsr_audit_key more[] = {keys[0], keys[1], keys[2], {RELEASE, "bluetooth", fd, "rsa-4096"}};

		CHECK(start(both, 2, more, 4) == 1, "a new key: one event");
		n = read_entries(e, 64);
		CHECK(is_event(&e[n - 1], ROMBSR_AUDIT_KEY_GENERATED, "bluetooth", fd, "rombsr-release"), "bluetooth generated");
		CHECK(start(both, 2, more, 4) == 0, "and not again");
	}
	/* media deleted from the token (bluetooth too) */
	CHECK(start(both, 2, (struct rombsr_audit_key[]){keys[0], keys[2]}, 2) == 2, "two keys gone: two events");
	n = read_entries(e, 64);
	CHECK(is_event(&e[n - 2], ROMBSR_AUDIT_KEY_REVOKED, "media", fb, "removed") &&
		      is_event(&e[n - 1], ROMBSR_AUDIT_KEY_REVOKED, "bluetooth", fd, "removed"),
	      "media and bluetooth revoked, reason removed");
	CHECK(start(both, 2, (struct rombsr_audit_key[]){keys[0], keys[2]}, 2) == 0, "a revocation is logged once");

	/* platform replaced under the same label: out, then in */
	{
		struct rombsr_audit_key now[] = {{RELEASE, "platform", fe, "rsa-4096"}, keys[2]};

		CHECK(start(both, 2, now, 2) == 2, "a replaced key: two events");
		n = read_entries(e, 64);
		CHECK(is_event(&e[n - 2], ROMBSR_AUDIT_KEY_REVOKED, "platform", fa, "replaced") &&
			      is_event(&e[n - 1], ROMBSR_AUDIT_KEY_GENERATED, "platform", fe, "rombsr-release"),
		      "old platform revoked (replaced), new one generated");
		/* The release token not opened this time: its keys are not gone. */
		CHECK(start(audit_only, 1, &keys[2], 1) == 0, "a token not examined: no revocation");
		/* media restored (the same key): present again */
		CHECK(start(both, 2, (struct rombsr_audit_key[]){now[0], keys[1], keys[2]}, 3) == 1,
		      "a key back in the token is logged again");
		n = read_entries(e, 64);
		CHECK(is_event(&e[n - 1], ROMBSR_AUDIT_KEY_GENERATED, "media", fb, "rombsr-release"), "media generated again");
	}
	/* The same key reported twice is one event; a bad key fails the whole
	 * batch, nothing is appended. */
	CHECK(start(both, 2,
		    (struct rombsr_audit_key[]){{RELEASE, "x", FP("1111"), "rsa-4096"}, {RELEASE, "x", FP("1111"), "rsa-4096"}},
		    2) == 4,
	      "a key listed twice: one key-generated (and the three keys not listed revoked)");
	before = read_entries(e, 64);
	CHECK(start(both, 2, (struct rombsr_audit_key[]){{RELEASE, "bad label", FP("2222"), "rsa-4096"}}, 1) == -1,
	      "a label that is not an id is refused");
	CHECK(read_entries(e, 64) == before + 1, "and only the login of that start is in the log");

	rombsr_remove_tree(dir);
	return tap_done();
}
