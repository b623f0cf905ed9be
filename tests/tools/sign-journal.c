/* sign-journal: signs every operation of a capture journal through the HSM
 * layer and writes a signature set (docs/capture.md). The sign side's
 * stand-in for the tests until the signing queue exists: it checks that
 * each journal key is the token's key (same SPKI fingerprint) and signs
 * only the recorded digest or block, with the mechanism the journal
 * entry's mechanism maps to.
 *
 * Usage: sign-journal --journal FILE --out FILE [--merge FILE] [--module PATH]
 *                     --token URI PIN_FILE [--token URI PIN_FILE ...]
 * PINs come from files only. */
#include "../../src/common/capture_format.h"
#include "../../src/common/bundle.h"
#include "../../src/common/error.h"
#include "../../src/hsm/hsm.h"
#include "../../src/hsm/hsm_x509.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 8

struct token {
	const char *uri, *pin_file;
	struct rombsr_hsm *hsm;
};

static int open_tokens(const char *module, struct token *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = rombsr_hsm_open_login(module, t[i].uri, t[i].pin_file, &t[i].hsm);

		if (r < 0)
			return rombsr_error_wrap(r, "token %s", t[i].uri);
	}
	return 0;
}

/* The token key named by the entry's label, checked to be the key the
 * entry's fingerprint names. */
static int find_key(struct token *t, size_t n, const struct rombsr_cap_op *op, struct rombsr_hsm **hsm,
		    struct rombsr_hsm_key *key)
{
	for (size_t i = 0; i < n; i++) {
		EVP_PKEY *pub = NULL;
		char spki[65];
		int r = rombsr_hsm_find_key(t[i].hsm, op->label, key);

		if (r == ROMBSR_ENOTFOUND)
			continue;
		if (r == 0)
			r = rombsr_hsm_public_key(t[i].hsm, key, &pub);
		if (r == 0)
			r = rombsr_pubkey_spki_sha256(pub, spki);
		EVP_PKEY_free(pub);
		if (r < 0)
			return r;
		if (strcmp(spki, op->spki_sha256) != 0)
			return rombsr_error(ROMBSR_EINVAL, "key '%s': journal fingerprint %.16s... is not the token's %.16s...",
					    op->label, op->spki_sha256, spki);
		*hsm = t[i].hsm;
		return 0;
	}
	return rombsr_error(ROMBSR_ENOTFOUND, "no token holds key '%s'", op->label);
}

static int sign_op(struct token *t, size_t n, const struct rombsr_cap_entry *e, struct rombsr_cap_signature *out)
{
	const struct rombsr_cap_op *op = &e->op;
	CK_RSA_PKCS_PSS_PARAMS pss = {op->pss.hash, op->pss.mgf, op->pss.salt_len};
	CK_MECHANISM mech = {op->mech->sign_type, NULL, 0};
	unsigned char input[19 + ROMBSR_CAP_TBS_MAX];
	size_t input_len = op->tbs_len, sig_len = sizeof(out->sig);
	struct rombsr_hsm_key key;
	struct rombsr_hsm *hsm = NULL;
	int r;

	r = find_key(t, n, op, &hsm, &key);
	if (r < 0)
		return r;
	memcpy(input, op->tbs, op->tbs_len);
	if (op->mech->sign_type == CKM_RSA_PKCS && op->mech->hash != NULL) {
		r = rombsr_cap_digest_info(op->mech->hash, op->tbs, op->tbs_len, input, &input_len);
		if (r < 0)
			return r;
	} else if (op->mech->sign_type == CKM_RSA_PKCS_PSS) {
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
	}
	r = rombsr_hsm_sign_raw(hsm, &key, &mech, input, input_len, out->sig, &sig_len);
	if (r < 0)
		return r;
	if (sig_len != e->sig_len)
		return rombsr_error(ROMBSR_EHSM, "key '%s': token made a %zu-byte signature, the journal expects %zu",
				    op->label, sig_len, e->sig_len);
	out->op = *op;
	out->sig_len = sig_len;
	return 0;
}

static int run(int argc, char **argv)
{
	const char *journal = NULL, *out = NULL, *merge = NULL, *module = "/usr/lib/softhsm/libsofthsm2.so";
	struct token tokens[MAX_TOKENS];
	struct rombsr_cap_entry *entries = NULL;
	struct rombsr_cap_signature *sigs = NULL, *old = NULL;
	size_t ntokens = 0, nentries = 0, nsigs = 0, nold = 0, signed_now = 0;
	int r = 0;

	memset(tokens, 0, sizeof(tokens));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--journal") == 0 && i + 1 < argc)
			journal = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--merge") == 0 && i + 1 < argc)
			merge = argv[++i];
		else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc)
			module = argv[++i];
		else if (strcmp(argv[i], "--token") == 0 && i + 2 < argc && ntokens < MAX_TOKENS) {
			tokens[ntokens].uri = argv[++i];
			tokens[ntokens++].pin_file = argv[++i];
		} else
			return rombsr_error(ROMBSR_EINVAL,
					    "usage: sign-journal --journal FILE --out FILE [--merge FILE] [--module PATH] "
					    "--token URI PIN_FILE...");
	}
	if (journal == NULL || out == NULL || ntokens == 0)
		return rombsr_error(ROMBSR_EINVAL, "--journal, --out and at least one --token are required");
	r = rombsr_cap_journal_read(journal, &entries, &nentries);
	if (r == 0 && merge != NULL)
		r = rombsr_cap_sigset_read(merge, &old, &nold);
	if (r < 0)
		goto out;
	sigs = calloc(nentries + nold + 1, sizeof(*sigs));
	if (sigs == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nold; i++)
		sigs[nsigs++] = old[i];
	r = open_tokens(module, tokens, ntokens);
	for (size_t i = 0; i < nentries && r == 0; i++) {
		bool have = false;

		/* One signature per distinct operation: several processes may
		 * have captured the same digest. */
		for (size_t j = 0; j < nsigs && !have; j++)
			have = rombsr_cap_op_same(&sigs[j].op, &entries[i].op);
		if (have)
			continue;
		r = sign_op(tokens, ntokens, &entries[i], &sigs[nsigs]);
		if (r < 0)
			rombsr_error_wrap(r, "%s entry %zu (%s)", journal, i + 1, entries[i].id);
		else
			nsigs++, signed_now++;
	}
	if (r == 0)
		r = rombsr_cap_sigset_write(out, sigs, nsigs);
	if (r == 0)
		fprintf(stderr, "sign-journal: %zu entries, %zu signed now, %zu signatures in %s\n", nentries, signed_now,
			nsigs, out);
out:
	for (size_t i = 0; i < ntokens; i++)
		rombsr_hsm_close(tokens[i].hsm);
	rombsr_cap_journal_free(entries, nentries);
	free(sigs);
	free(old);
	return r;
}

int main(int argc, char **argv)
{
	int r = run(argc, argv);

	if (r < 0) {
		fprintf(stderr, "sign-journal: %s\n", rombsr_error_message(r));
		return 1;
	}
	return 0;
}
