/* rombsr-sign wrap-key create: the split ceremony (docs/custody.md). The
 * wrap key is drawn in locked memory, split into Shamir shares, each share
 * encrypted to one custodian with age, and imported into the release token
 * as its trusted wrap key. The share files appear in --out only when all of
 * them and the import succeeded; the key appears in the token only if the
 * share files can follow. */
#define _GNU_SOURCE
#include "age_run.h"
#include "ceremony.h"
#include "node.h"
#include "outdir.h"
#include "share.h"
#include "wrap_key_token.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_THRESHOLD = 1, OPT_SHARES, OPT_RECIPIENT, OPT_OUT };

static const struct cli_option options[] = {
	{"threshold", "N", "shares needed to rebuild the key (default 3)", OPT_THRESHOLD},
	{"shares", "N", "shares made, one per --recipient (default 5)", OPT_SHARES},
	{"recipient", "RECIPIENT", "a custodian's age1… recipient or 'ssh-ed25519 …' key, in share order; once "
				   "per share", OPT_RECIPIENT},
	{"out", "DIR", "folder to create for the encrypted shares (must not exist)", OPT_OUT},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

#define USAGE "wrap-key create --threshold N --shares N --recipient R... --out DIR"

struct create_args {
	unsigned long threshold;
	unsigned long count;
	const char *recipients[SHARE_MAX];
	size_t nrecipients;
	const char *out;
};

struct create_state {
	struct ceremony_vault vault;
	unsigned char *secret;
	unsigned char id[SHARE_ID_LEN];
	struct wrap_share *shares;
	char *text;
	char *scratch;
	struct rombsr_hsm *hsm;
};

static int parse_args(struct cli_context *ctx, int argc, char **argv, struct create_args *a)
{
	struct cli_parser p;
	int id, r = 0;

	memset(a, 0, sizeof(*a));
	a->threshold = 3;
	a->count = 5;
	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, USAGE)) > 0) {
		if (id == OPT_THRESHOLD)
			r = cli_parse_uint(p.value, SHARE_MAX, &a->threshold, "--threshold");
		else if (id == OPT_SHARES)
			r = cli_parse_uint(p.value, SHARE_MAX, &a->count, "--shares");
		else if (id == OPT_OUT)
			a->out = p.value;
		else if (id != OPT_RECIPIENT)
			r = cli_take_pin_option(ctx, id, p.value);
		else if (a->nrecipients == SHARE_MAX)
			r = rombsr_error(ROMBSR_EINVAL, "more than %d recipients", SHARE_MAX);
		else
			a->recipients[a->nrecipients++] = p.value;
	}
	if (r < 0)
		return r;
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (a->out == NULL)
		return rombsr_error(ROMBSR_EINVAL, "--out DIR is required");
	if (a->threshold < 2 || a->threshold > a->count)
		return rombsr_error(ROMBSR_EINVAL, "--threshold must be at least 2 and at most --shares (%lu)", a->count);
	if (a->nrecipients != a->count)
		return rombsr_error(ROMBSR_EINVAL, "%zu recipients for %lu shares: give one --recipient per share",
				    a->nrecipients, a->count);
	if (rombsr_path_exists(a->out))
		return rombsr_error(ROMBSR_EEXISTS, "%s exists already; shares go to a new folder", a->out);
	/* Every recipient before anything is drawn or written. */
	for (size_t i = 0; i < a->nrecipients; i++) {
		r = age_check_recipient(a->recipients[i]);
		if (r < 0)
			return rombsr_error_wrap(r, "--recipient %zu", i + 1);
	}
	return 0;
}

/* The public record of the split beside the shares: who holds which. */
static int write_listing(const struct create_state *s, const struct create_args *a)
{
	char id[2 * SHARE_ID_LEN + 1], path[4096];
	struct rombsr_buf b;
	int r;

	rombsr_hex_encode(s->id, SHARE_ID_LEN, id);
	rombsr_buf_init(&b, 1 << 20);
	rombsr_buf_printf(&b, "rombsr-wrap-key-shares v1\nsecret-id %s\nthreshold %lu\nshares %lu\n", id,
			  a->threshold, a->count);
	for (size_t i = 0; i < a->count; i++)
		rombsr_buf_printf(&b, "share-%zu.age %s\n", i + 1, a->recipients[i]);
	r = rombsr_buf_check(&b, "share listing");
	if (r == 0)
		r = rombsr_path_format(path, sizeof(path), "%s/shares.txt", s->scratch);
	if (r == 0)
		r = rombsr_file_write_atomic(path, b.data, b.len, 0644, true);
	rombsr_buf_free(&b);
	return r;
}

/* Draws, splits, encrypts every share, and proves in memory that the
 * first threshold shares give the key back before anything is kept. */
static int split_and_encrypt(struct create_state *s, const struct create_args *a)
{
	const char *names[SHARE_MAX];
	unsigned char *again = ceremony_vault_take(&s->vault, SHARE_SECRET_LEN);
	char path[4096];
	size_t len;
	int r;

	if (again == NULL)
		return rombsr_error(ROMBSR_EINTERNAL, "ceremony memory too small");
	if (RAND_priv_bytes(s->secret, SHARE_SECRET_LEN) != 1 || RAND_bytes(s->id, SHARE_ID_LEN) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "no random bytes for the wrap key");
	r = share_split(s->secret, s->id, (unsigned)a->threshold, (unsigned)a->count, s->shares);
	for (size_t i = 0; i < a->count && r == 0; i++) {
		r = share_format(&s->shares[i], s->text, &len);
		if (r == 0)
			r = rombsr_path_format(path, sizeof(path), "%s/share-%zu.age", s->scratch, i + 1);
		if (r == 0)
			r = age_encrypt(a->recipients[i], (const unsigned char *)s->text, len, path);
		OPENSSL_cleanse(s->text, SHARE_TEXT_MAX);
		names[i] = "(in memory)";
	}
	if (r == 0)
		r = share_combine(s->shares, names, a->threshold, again);
	if (r == 0 && CRYPTO_memcmp(again, s->secret, SHARE_SECRET_LEN) != 0)
		r = rombsr_error(ROMBSR_EINTERNAL, "the shares do not give the key back");
	return r;
}

static int create(struct cli_context *ctx, const struct create_args *a, struct create_state *s)
{
	bool imported = false;
	char id[2 * SHARE_ID_LEN + 1];
	int r;

	r = wrap_key_token_open(ctx, &s->hsm);
	if (r == 0)
		r = ceremony_harden();
	if (r == 0)
		r = ceremony_vault_init(&s->vault, 64 * 1024);
	if (r < 0)
		return r;
	s->secret = ceremony_vault_take(&s->vault, SHARE_SECRET_LEN);
	s->shares = ceremony_vault_take(&s->vault, a->count * sizeof(*s->shares));
	s->text = ceremony_vault_take(&s->vault, SHARE_TEXT_MAX);
	if (s->secret == NULL || s->shares == NULL || s->text == NULL)
		return rombsr_error(ROMBSR_EINTERNAL, "ceremony memory too small");
	r = outdir_begin(a->out, &s->scratch);
	if (r == 0)
		r = split_and_encrypt(s, a);
	if (r == 0)
		r = write_listing(s, a);
	if (r < 0)
		return r;
	ceremony_test_hold("wrap-key create");
	r = wrap_key_token_import(ctx, s->hsm, s->secret, SHARE_SECRET_LEN, s->id, SHARE_ID_LEN);
	imported = r == 0;
	if (r == 0)
		r = outdir_finish(&s->scratch, a->out);
	if (r < 0 && imported) {
		struct rombsr_error_saved saved;

		rombsr_error_save(&saved);
		if (wrap_key_token_remove(s->hsm) < 0)
			cli_info("the wrap key was imported but its shares were not written: destroy it by hand");
		rombsr_error_restore(&saved);
		return r;
	}
	if (r < 0)
		return r;
	rombsr_hex_encode(s->id, SHARE_ID_LEN, id);
	cli_info("wrap key %s imported into the release token; %lu shares (any %lu rebuild it) in %s", id, a->count,
		 a->threshold, a->out);
	return 0;
}

int cmd_wrap_key_create(struct cli_context *ctx, int argc, char **argv)
{
	struct create_state s = {0};
	struct create_args a;
	mode_t old_mask;
	int r;

	r = parse_args(ctx, argc, argv, &a);
	if (r < 0)
		return r;
	/* What age writes is for one custodian only. */
	old_mask = umask(077);
	r = create(ctx, &a, &s);
	umask(old_mask);
	outdir_discard(&s.scratch);
	ceremony_vault_free(&s.vault);
	wrap_key_token_close(s.hsm);
	return r;
}
