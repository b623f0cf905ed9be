/* rombsr-sign wrap-key restore: the combine ceremony (docs/custody.md).
 * Each share file is decrypted by age with the identity files the
 * custodians bring; the plaintext comes back through a pipe into locked
 * memory and is never written anywhere. Any threshold of the shares of one
 * split rebuild the wrap key, which is imported into a release token that
 * has none. */
#define _GNU_SOURCE
#include "age_run.h"
#include "ceremony.h"
#include "node.h"
#include "share.h"
#include "wrap_key_token.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <openssl/crypto.h>
#include <string.h>

enum { OPT_SHARE = 1, OPT_IDENTITY };

static const struct cli_option options[] = {
	{"share", "FILE", "an age-encrypted share (repeat: at least the split's threshold)", OPT_SHARE},
	{"identity", "FILE", "a custodian's age identity or ssh-ed25519 private key (repeat)", OPT_IDENTITY},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

#define USAGE "wrap-key restore --share FILE... --identity FILE..."
#define MAX_IDENTITIES 16

struct restore_args {
	const char *shares[SHARE_MAX];
	size_t nshares;
	const char *ids[MAX_IDENTITIES];
	size_t nids;
};

static int parse_args(struct cli_context *ctx, int argc, char **argv, struct restore_args *a)
{
	struct cli_parser p;
	int id, r = 0;

	memset(a, 0, sizeof(*a));
	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, USAGE)) > 0) {
		if (id == OPT_SHARE && a->nshares < SHARE_MAX)
			a->shares[a->nshares++] = p.value;
		else if (id == OPT_IDENTITY && a->nids < MAX_IDENTITIES)
			a->ids[a->nids++] = p.value;
		else if (id != OPT_SHARE && id != OPT_IDENTITY)
			r = cli_take_pin_option(ctx, id, p.value);
		else
			r = rombsr_error(ROMBSR_EINVAL, "too many --%s", id == OPT_SHARE ? "share" : "identity");
	}
	if (r < 0)
		return r;
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (a->nshares == 0 || a->nids == 0)
		return rombsr_error(ROMBSR_EINVAL, "give the shares (--share) and the identities that decrypt them "
				    "(--identity)");
	return 0;
}

static int combine(const struct restore_args *a, struct ceremony_vault *v, unsigned char *secret)
{
	struct wrap_share *shares = ceremony_vault_take(v, a->nshares * sizeof(*shares));
	char *text = ceremony_vault_take(v, SHARE_TEXT_MAX);
	size_t len;
	int r = 0;

	if (shares == NULL || text == NULL)
		return rombsr_error(ROMBSR_EINTERNAL, "ceremony memory too small");
	for (size_t i = 0; i < a->nshares && r == 0; i++) {
		r = age_decrypt(a->shares[i], a->ids, a->nids, (unsigned char *)text, SHARE_TEXT_MAX, &len);
		if (r == 0)
			r = share_parse(a->shares[i], text, len, &shares[i]);
		OPENSSL_cleanse(text, SHARE_TEXT_MAX);
	}
	if (r == 0)
		r = share_combine(shares, (const char *const *)a->shares, a->nshares, secret);
	if (r == 0)
		memcpy(secret + SHARE_SECRET_LEN, shares[0].secret_id, SHARE_ID_LEN);
	return r;
}

int cmd_wrap_key_restore(struct cli_context *ctx, int argc, char **argv)
{
	struct ceremony_vault vault = {0};
	struct rombsr_hsm *hsm = NULL;
	struct restore_args a;
	unsigned char *secret;
	char id[2 * SHARE_ID_LEN + 1];
	int r;

	r = parse_args(ctx, argc, argv, &a);
	if (r < 0)
		return r;
	/* The token first: custodians should not decrypt for a token that
	 * cannot take the key. */
	r = wrap_key_token_open(ctx, &hsm);
	if (r == 0)
		r = ceremony_harden();
	if (r == 0)
		r = ceremony_vault_init(&vault, 64 * 1024);
	if (r < 0)
		goto out;
	/* The secret, then its ID. */
	secret = ceremony_vault_take(&vault, SHARE_SECRET_LEN + SHARE_ID_LEN);
	r = secret != NULL ? combine(&a, &vault, secret) : rombsr_error(ROMBSR_EINTERNAL, "ceremony memory too small");
	if (r < 0)
		goto out;
	ceremony_test_hold("wrap-key restore");
	r = wrap_key_token_import(ctx, hsm, secret, SHARE_SECRET_LEN, secret + SHARE_SECRET_LEN, SHARE_ID_LEN);
	if (r == 0) {
		rombsr_hex_encode(secret + SHARE_SECRET_LEN, SHARE_ID_LEN, id);
		cli_info("wrap key %s rebuilt from %zu shares and imported into the release token", id, a.nshares);
	}
out:
	ceremony_vault_free(&vault);
	wrap_key_token_close(hsm);
	return r;
}
