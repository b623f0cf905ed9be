/* respond: the sign node's stand-in for the apply tests. Reads a request
 * (version 1) from a file, signs each operation's recorded bytes through
 * the HSM layer with the sign-side mechanism of docs/capture.md, and writes
 * a version 1 response with rombsr_response_encode; or writes a rejection.
 * It enforces no policy: the tests use it to make good and bad answers.
 *
 * Usage: respond --request FILE --request-commit HEX --sign-node FPR --out FILE
 *                [--reject CODE MESSAGE] [--sign-with LABEL] [--module PATH]
 *                --token URI PIN_FILE [--token URI PIN_FILE ...]
 * --sign-with signs every operation with that key instead of the one the
 * operation names (a sign node using the wrong key). PINs come from files. */
#include "../../src/common/bundle.h"
#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/hsm/hsm.h"
#include "../../src/hsm/hsm_x509.h"
#include "../../src/queue/request.h"
#include "../../src/queue/response.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOKENS 8

struct signer {
	const char *module;
	const char *uris[MAX_TOKENS], *pins[MAX_TOKENS];
	struct rombsr_hsm *hsm[MAX_TOKENS];
	size_t n;
};

static int login_all(struct signer *s)
{
	for (size_t i = 0; i < s->n; i++) {
		int r = rombsr_hsm_open_login(s->module, s->uris[i], s->pins[i], &s->hsm[i]);

		if (r < 0)
			return rombsr_error_wrap(r, "token %s", s->uris[i]);
	}
	return 0;
}

/* Signs op with the key labelled label; strict: that key's SPKI must be the
 * one op names. */
static int sign_one(struct signer *s, const struct rombsr_cap_op *op, const char *label, bool strict,
		    struct rombsr_response_sig *out)
{
	CK_RSA_PKCS_PSS_PARAMS pss = {op->pss.hash, op->pss.mgf, op->pss.salt_len};
	CK_MECHANISM mech = {op->mech->sign_type, NULL, 0};
	unsigned char data[19 + ROMBSR_CAP_TBS_MAX];
	size_t data_len = op->tbs_len;
	struct rombsr_hsm_key key;
	int r = ROMBSR_ENOTFOUND;

	for (size_t i = 0; i < s->n && r == ROMBSR_ENOTFOUND; i++) {
		EVP_PKEY *pub = NULL;
		char spki[65];

		r = rombsr_hsm_find_key(s->hsm[i], label, &key);
		if (r < 0)
			continue;
		r = rombsr_hsm_public_key(s->hsm[i], &key, &pub);
		if (r == 0)
			r = rombsr_pubkey_spki_sha256(pub, spki);
		EVP_PKEY_free(pub);
		if (r == 0 && strict && strcmp(spki, op->spki_sha256) != 0)
			r = rombsr_error(ROMBSR_EINVAL, "key '%s' is not the key the request names", label);
		memcpy(data, op->tbs, op->tbs_len);
		if (r == 0 && op->mech->sign_type == CKM_RSA_PKCS && op->mech->hash != NULL)
			r = rombsr_cap_digest_info(op->mech->hash, op->tbs, op->tbs_len, data, &data_len);
		if (op->mech->sign_type == CKM_RSA_PKCS_PSS) {
			mech.pParameter = &pss;
			mech.ulParameterLen = sizeof(pss);
		}
		out->sig_len = sizeof(out->sig);
		if (r == 0)
			r = rombsr_hsm_sign_raw(s->hsm[i], &key, &mech, data, data_len, out->sig, &out->sig_len);
	}
	if (r == ROMBSR_ENOTFOUND)
		return rombsr_error(r, "no token holds key '%s'", label);
	out->op = *op;
	return r;
}

static int run(int argc, char **argv)
{
	const char *request = NULL, *commit = NULL, *node = NULL, *out = NULL, *code = NULL, *message = NULL,
		   *sign_with = NULL;
	struct signer s = {.module = "/usr/lib/softhsm/libsofthsm2.so"};
	struct rombsr_request req = {0};
	struct rombsr_response resp = {0};
	struct rombsr_buf text = {0}, encoded = {0};
	int r = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--request") == 0 && i + 1 < argc)
			request = argv[++i];
		else if (strcmp(argv[i], "--request-commit") == 0 && i + 1 < argc)
			commit = argv[++i];
		else if (strcmp(argv[i], "--sign-node") == 0 && i + 1 < argc)
			node = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--reject") == 0 && i + 2 < argc) {
			code = argv[++i];
			message = argv[++i];
		} else if (strcmp(argv[i], "--sign-with") == 0 && i + 1 < argc)
			sign_with = argv[++i];
		else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc)
			s.module = argv[++i];
		else if (strcmp(argv[i], "--token") == 0 && i + 2 < argc && s.n < MAX_TOKENS) {
			s.uris[s.n] = argv[++i];
			s.pins[s.n++] = argv[++i];
		} else
			return rombsr_error(ROMBSR_EINVAL, "usage: respond --request FILE --request-commit HEX --sign-node FPR "
							  "--out FILE [--reject CODE MESSAGE] [--sign-with LABEL] --token URI PIN_FILE...");
	}
	if (request == NULL || commit == NULL || node == NULL || out == NULL || (code == NULL && s.n == 0))
		return rombsr_error(ROMBSR_EINVAL, "--request, --request-commit, --sign-node, --out and --token are required");
	if (strlen(commit) >= sizeof(resp.request_commit) || strlen(node) >= sizeof(resp.sign_node))
		return rombsr_error(ROMBSR_EINVAL, "--request-commit or --sign-node too long");
	r = rombsr_file_read(request, ROMBSR_REQUEST_MAX_BYTES, &text);
	if (r == 0)
		r = rombsr_request_parse((const char *)text.data, text.len, &req);
	if (r < 0)
		goto out;
	memcpy(resp.request_id, req.id, sizeof(resp.request_id));
	snprintf(resp.request_commit, sizeof(resp.request_commit), "%s", commit);
	snprintf(resp.sign_node, sizeof(resp.sign_node), "%s", node);
	resp.time = time(NULL);
	if (code != NULL) {
		snprintf(resp.reason_code, sizeof(resp.reason_code), "%s", code);
		snprintf(resp.reason_message, sizeof(resp.reason_message), "%s", message);
	} else {
		resp.signed_ok = true;
		resp.sigs = calloc(req.nops, sizeof(*resp.sigs));
		r = resp.sigs == NULL ? rombsr_error(ROMBSR_ENOMEM, "out of memory") : login_all(&s);
		for (size_t i = 0; i < req.nops && r == 0; i++, resp.nsigs++) {
			const struct rombsr_cap_op *op = &req.ops[i].op;

			r = sign_one(&s, op, sign_with ? sign_with : op->label, sign_with == NULL, &resp.sigs[i]);
			if (r < 0)
				rombsr_error_wrap(r, "operation %zu", i);
		}
	}
	if (r == 0)
		r = rombsr_response_encode(&resp, &encoded);
	if (r == 0)
		r = rombsr_file_write_atomic(out, encoded.data, encoded.len, 0644, false);
out:
	for (size_t i = 0; i < s.n; i++)
		rombsr_hsm_close(s.hsm[i]);
	rombsr_request_free(&req);
	rombsr_response_free(&resp);
	rombsr_buf_free(&text);
	rombsr_buf_free(&encoded);
	return r;
}

int main(int argc, char **argv)
{
	int r = run(argc, argv);

	if (r < 0) {
		fprintf(stderr, "respond: %s\n", rombsr_error_message(r));
		return 1;
	}
	return 0;
}
