#define _GNU_SOURCE
#include "checkpoint_signer.h"

#include "../audit/checkpoint.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../hsm/hsm_x509.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAX 256

/* "<size> <root hex>\n" */
static int load_state(struct rombsr_checkpoint_signer *cs)
{
	struct rombsr_buf text;
	char hex[65], *end;
	const char *s;
	int r = rombsr_file_read(cs->state_path, STATE_MAX, &text);

	if (r == ROMBSR_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	s = rombsr_buf_cstr(&text);
	if (s == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0) {
		cs->size = strtoull(s, &end, 10);
		if (end == s || *end != ' ' || strlen(end + 1) != 65 || end[65] != '\n')
			r = rombsr_error(ROMBSR_EINVAL, "%s: damaged", cs->state_path);
	}
	if (r == 0) {
		memcpy(hex, end + 1, 64);
		hex[64] = '\0';
		r = rombsr_hex_decode(hex, cs->root, sizeof(cs->root), cs->state_path);
	}
	rombsr_buf_free(&text);
	return r;
}

static int save_state(const struct rombsr_checkpoint_signer *cs, uint64_t size, const unsigned char *root)
{
	char line[STATE_MAX], hex[65];

	rombsr_hex_encode(root, ROMBSR_MERKLE_HASH_LEN, hex);
	snprintf(line, sizeof(line), "%llu %s\n", (unsigned long long)size, hex);
	return rombsr_file_write_atomic(cs->state_path, line, strlen(line), 0600, false);
}

int rombsr_checkpoint_signer_open(struct rombsr_checkpoint_signer *cs, struct rombsr_hsm *hsm,
				  const struct rombsr_hsm_key *key, const char *state_path)
{
	EVP_PKEY *pub = NULL;
	int len, r;

	memset(cs, 0, sizeof(*cs));
	cs->hsm = hsm;
	cs->key = key;
	if (key->kind != ROMBSR_KEY_EC_P256)
		return rombsr_error(ROMBSR_EINVAL, "the audit key must be an ECDSA P-256 key");
	cs->state_path = strdup(state_path);
	if (cs->state_path == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_hsm_public_key(hsm, key, &pub);
	if (r == 0) {
		len = i2d_PUBKEY(pub, &cs->spki);
		if (len <= 0)
			r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot encode the audit key");
		else
			cs->spki_len = (size_t)len;
	}
	EVP_PKEY_free(pub);
	if (r == 0)
		r = load_state(cs);
	if (r < 0)
		rombsr_checkpoint_signer_close(cs);
	return r;
}

void rombsr_checkpoint_signer_close(struct rombsr_checkpoint_signer *cs)
{
	OPENSSL_free(cs->spki);
	free(cs->state_path);
	memset(cs, 0, sizeof(*cs));
}

/* The DER signature the HSM made is kept here on its way into the note:
 * that, not the note, goes back to the worker, which builds the same note
 * and checks it against the audit key. */
struct hsm_ctx {
	struct rombsr_checkpoint_signer *cs;
	unsigned char sig[ROMBSR_NOTE_ECDSA_SIG_MAX];
	size_t sig_len;
};

static int sign_with_hsm(void *ctx, const unsigned char digest[32], unsigned char *sig, size_t *sig_len)
{
	struct hsm_ctx *h = ctx;
	int r = rombsr_hsm_sign_digest(h->cs->hsm, h->cs->key, ROMBSR_SIG_ECDSA_SHA256, digest, 32, sig, sig_len);

	if (r == 0 && *sig_len <= sizeof(h->sig)) {
		memcpy(h->sig, sig, *sig_len);
		h->sig_len = *sig_len;
	}
	return r;
}

static int checkpoint(struct rombsr_checkpoint_signer *cs, const struct rombsr_channel_request *m,
		      struct rombsr_channel_reply *reply)
{
	struct rombsr_checkpoint cp = {0};
	struct hsm_ctx h = {.cs = cs};
	struct rombsr_note_signer signer;
	struct rombsr_buf note;
	int r;

	if (memchr(m->origin, '\0', sizeof(m->origin)) == NULL || m->proof_len > ROMBSR_CHANNEL_PROOF_MAX)
		return rombsr_error(ROMBSR_EINVAL, "malformed message");
	r = rombsr_note_check_name(m->origin, "origin");
	if (r < 0)
		return r;
	/* Only a tree that extends the one signed last: never a fork, never a
	 * shorter log. */
	if (m->old_size != cs->size)
		return rombsr_error(ROMBSR_ESECURITY, "the proof starts at %llu entries, the last checkpoint signed has %llu",
				    (unsigned long long)m->old_size, (unsigned long long)cs->size);
	if (m->tree_size < cs->size)
		return rombsr_error(ROMBSR_ESECURITY, "refusing a log of %llu entries after signing one of %llu",
				    (unsigned long long)m->tree_size, (unsigned long long)cs->size);
	r = rombsr_merkle_verify_consistency(cs->size, m->tree_size, cs->root, m->root,
					     (const unsigned char(*)[ROMBSR_MERKLE_HASH_LEN])m->proof, m->proof_len);
	if (r < 0)
		return rombsr_error_wrap(r, "the new tree does not extend the last one signed");
	memcpy(cp.origin, m->origin, strlen(m->origin) + 1);
	cp.size = m->tree_size;
	memcpy(cp.root, m->root, sizeof(cp.root));
	signer = (struct rombsr_note_signer){cp.origin, cs->spki, cs->spki_len, sign_with_hsm, &h};
	/* Durable first: after a crash the state still covers every checkpoint
	 * that may have left this process. */
	r = save_state(cs, cp.size, cp.root);
	if (r == 0) {
		cs->size = cp.size;
		memcpy(cs->root, cp.root, sizeof(cs->root));
		r = rombsr_checkpoint_sign(&cp, &signer, &note);
	}
	if (r == 0) {
		rombsr_buf_free(&note);
		if (h.sig_len == 0 || h.sig_len > sizeof(reply->sig))
			return rombsr_error(ROMBSR_EHSM, "the HSM returned no usable signature");
		memcpy(reply->sig, h.sig, h.sig_len);
		reply->sig_len = (uint32_t)h.sig_len;
	}
	return r;
}

void rombsr_checkpoint_signer_handle(struct rombsr_checkpoint_signer *cs, const struct rombsr_channel_request *m,
				     struct rombsr_channel_reply *reply)
{
	int r = 0;

	if (m->op == ROMBSR_CH_AUDIT_STATE) {
		reply->tree_size = cs->size;
		memcpy(reply->root, cs->root, sizeof(reply->root));
		if (cs->spki_len > sizeof(reply->spki)) {
			r = rombsr_error(ROMBSR_EINTERNAL, "audit key too large");
		} else {
			memcpy(reply->spki, cs->spki, cs->spki_len);
			reply->spki_len = (uint32_t)cs->spki_len;
		}
	} else {
		r = checkpoint(cs, m, reply);
	}
	reply->status = r;
	if (r < 0)
		snprintf(reply->message, sizeof(reply->message), "%s", rombsr_error_message(r));
}
