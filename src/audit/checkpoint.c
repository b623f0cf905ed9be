#include "checkpoint.h"

#include "audit_internal.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/err.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_DASH "\xe2\x80\x94"
#define SIG_PREFIX EM_DASH " "
#define SIG_PREFIX_LEN 4
#define SPKI_MAX 512
#define SIG_BYTES_MAX 8192 /* room for post-quantum signatures of other keys */
#define ROOT_B64_LEN 44

int rombsr_note_check_name(const char *name, const char *what)
{
	size_t n = strlen(name);

	if (n == 0 || n > ROMBSR_NOTE_NAME_MAX)
		return rombsr_error(ROMBSR_EINVAL, "%s: must be 1 to %d characters", what, ROMBSR_NOTE_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || c == '+')
			return rombsr_error(ROMBSR_EINVAL,
					    "%s: character %zu is not allowed (printable ASCII without space or '+')",
					    what, i + 1);
	}
	return 0;
}

int rombsr_note_key_id(const unsigned char *spki, size_t spki_len, uint32_t *id)
{
	unsigned char h[SHA256_DIGEST_LENGTH];

	if (SHA256(spki, spki_len, h) == NULL)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of a public key");
	*id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | (uint32_t)h[3];
	return 0;
}

/* Parses a DER SubjectPublicKeyInfo that must be an EC P-256 key and nothing
 * else (no trailing bytes). */
static int load_p256(const unsigned char *spki, size_t spki_len, EVP_PKEY **out)
{
	const unsigned char *p = spki;
	char group[64] = "";
	EVP_PKEY *key;

	*out = NULL;
	if (spki_len == 0 || spki_len > SPKI_MAX)
		return rombsr_error(ROMBSR_EINVAL, "public key: %zu bytes is not a P-256 key", spki_len);
	key = d2i_PUBKEY(NULL, &p, (long)spki_len);
	if (key == NULL)
		return rombsr_error_openssl(ROMBSR_EINVAL, "public key: not a DER SubjectPublicKeyInfo");
	if ((size_t)(p - spki) != spki_len || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		EVP_PKEY_free(key);
		return rombsr_error(ROMBSR_EINVAL, "public key: not an ECDSA P-256 key%s",
				    (size_t)(p - spki) != spki_len ? " (trailing bytes)" : "");
	}
	*out = key;
	return 0;
}

int rombsr_note_vkey_format(const char *name, const unsigned char *spki, size_t spki_len,
			    struct rombsr_buf *out)
{
	unsigned char typed[1 + SPKI_MAX];
	EVP_PKEY *key = NULL;
	uint32_t id;
	int r;

	rombsr_buf_init(out, 4096);
	r = rombsr_note_check_name(name, "key name");
	if (r == 0)
		r = load_p256(spki, spki_len, &key);
	if (r == 0)
		r = rombsr_note_key_id(spki, spki_len, &id);
	EVP_PKEY_free(key);
	if (r < 0)
		return r;
	typed[0] = ROMBSR_NOTE_SIG_ECDSA;
	memcpy(typed + 1, spki, spki_len);
	rombsr_buf_printf(out, "%s+%08x+", name, (unsigned)id);
	rombsr_base64_encode(out, typed, spki_len + 1);
	r = rombsr_buf_check(out, "verifier key");
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

int rombsr_note_verifier_from_spki(const char *name, const unsigned char *spki, size_t spki_len,
				   struct rombsr_note_verifier **out)
{
	struct rombsr_note_verifier *v;
	int r;

	*out = NULL;
	r = rombsr_note_check_name(name, "key name");
	if (r < 0)
		return r;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	memcpy(v->name, name, strlen(name) + 1);
	r = load_p256(spki, spki_len, &v->key);
	if (r == 0)
		r = rombsr_note_key_id(spki, spki_len, &v->key_id);
	if (r < 0) {
		rombsr_note_verifier_free(v);
		return r;
	}
	*out = v;
	return 0;
}

int rombsr_note_verifier_parse(const char *vkey, struct rombsr_note_verifier **out)
{
	unsigned char typed[1 + SPKI_MAX], id_bytes[4];
	const char *plus1, *plus2;
	char name[ROMBSR_NOTE_NAME_MAX + 1], id_hex[9];
	size_t typed_len;
	uint32_t id;
	int r;

	/* The key part is base64 and may itself hold '+'. */
	*out = NULL;
	plus1 = strchr(vkey, '+');
	plus2 = plus1 != NULL ? strchr(plus1 + 1, '+') : NULL;
	if (plus1 == NULL || plus2 == NULL)
		return rombsr_error(ROMBSR_EINVAL, "verifier key: expected <name>+<key ID>+<key>");
	if ((size_t)(plus1 - vkey) > ROMBSR_NOTE_NAME_MAX || plus2 - plus1 - 1 != 8)
		return rombsr_error(ROMBSR_EINVAL, "verifier key: bad name or key ID length");
	memcpy(name, vkey, (size_t)(plus1 - vkey));
	name[plus1 - vkey] = '\0';
	memcpy(id_hex, plus1 + 1, 8);
	id_hex[8] = '\0';
	r = rombsr_note_check_name(name, "verifier key name");
	if (r == 0)
		r = rombsr_hex_decode(id_hex, id_bytes, 4, "verifier key ID");
	if (r == 0)
		r = rombsr_base64_decode(plus2 + 1, strlen(plus2 + 1), typed, sizeof(typed), &typed_len,
					 "verifier key");
	if (r < 0)
		return r;
	if (typed_len < 2 || typed[0] != ROMBSR_NOTE_SIG_ECDSA)
		return rombsr_error(ROMBSR_EUNSUPPORTED, "verifier key %s: signature type %d is not ECDSA (0x02)",
				    name, typed_len > 0 ? typed[0] : -1);
	r = rombsr_note_verifier_from_spki(name, typed + 1, typed_len - 1, out);
	if (r < 0)
		return rombsr_error_wrap(r, "verifier key %s", name);
	id = (uint32_t)id_bytes[0] << 24 | (uint32_t)id_bytes[1] << 16 | (uint32_t)id_bytes[2] << 8 | id_bytes[3];
	if (id != (*out)->key_id) {
		r = rombsr_error(ROMBSR_EINVAL, "verifier key %s: key ID %s does not match the key (%08x)", name,
				 id_hex, (unsigned)(*out)->key_id);
		rombsr_note_verifier_free(*out);
		*out = NULL;
	}
	return r;
}

void rombsr_note_verifier_free(struct rombsr_note_verifier *v)
{
	if (v == NULL)
		return;
	EVP_PKEY_free(v->key);
	free(v);
}

int rombsr_checkpoint_body(const struct rombsr_checkpoint *cp, struct rombsr_buf *out)
{
	int r;

	rombsr_buf_init(out, ROMBSR_NOTE_MAX);
	r = rombsr_note_check_name(cp->origin, "checkpoint origin");
	if (r < 0)
		return r;
	if (cp->size > (uint64_t)INT64_MAX)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint: tree size too large");
	rombsr_buf_printf(out, "%s\n%llu\n", cp->origin, (unsigned long long)cp->size);
	rombsr_base64_encode(out, cp->root, sizeof(cp->root));
	rombsr_buf_append(out, "\n", 1);
	r = rombsr_buf_check(out, "checkpoint");
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

/* 0 if sig verifies; a bare ROMBSR_ESECURITY (the caller names what did not
 * verify) if it does not; ROMBSR_ENOMEM or ROMBSR_ECRYPTO, with a message, if
 * OpenSSL could not check it. A malformed signature is a verdict: OpenSSL
 * reports it as an error of EVP_DigestVerify, not as a 0. */
static int ecdsa_verify(EVP_PKEY *key, const unsigned char *msg, size_t msg_len, const unsigned char *sig,
			size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (ctx == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot start an ECDSA verification");
	} else {
		r = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1 ? 0 : ROMBSR_ESECURITY;
		ERR_clear_error();
	}
	EVP_MD_CTX_free(ctx);
	return r;
}

int rombsr_checkpoint_sign(const struct rombsr_checkpoint *cp, const struct rombsr_note_signer *signer,
			   struct rombsr_buf *out)
{
	unsigned char digest[SHA256_DIGEST_LENGTH], blob[4 + ROMBSR_NOTE_ECDSA_SIG_MAX];
	size_t sig_len = ROMBSR_NOTE_ECDSA_SIG_MAX;
	struct rombsr_buf body;
	EVP_PKEY *key = NULL;
	uint32_t id;
	int r;

	rombsr_buf_init(out, ROMBSR_NOTE_MAX);
	r = rombsr_note_check_name(signer->name, "signing key name");
	if (r == 0)
		r = load_p256(signer->spki, signer->spki_len, &key);
	if (r == 0)
		r = rombsr_note_key_id(signer->spki, signer->spki_len, &id);
	if (r < 0) {
		EVP_PKEY_free(key);
		return r;
	}
	r = rombsr_checkpoint_body(cp, &body);
	if (r < 0)
		goto out;
	if (SHA256(body.data, body.len, digest) == NULL) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of the checkpoint");
		goto out;
	}
	r = signer->sign(signer->ctx, digest, blob + 4, &sig_len);
	if (r < 0) {
		r = rombsr_error_wrap(r, "signing the checkpoint with %s", signer->name);
		goto out;
	}
	if (sig_len == 0 || sig_len > ROMBSR_NOTE_ECDSA_SIG_MAX) {
		r = rombsr_error(ROMBSR_ECRYPTO, "signing the checkpoint: signature of %zu bytes", sig_len);
		goto out;
	}
	/* A signature that does not verify (wrong key behind the callback,
	 * raw r||s instead of DER) must never reach the log. */
	r = ecdsa_verify(key, body.data, body.len, blob + 4, sig_len);
	if (r == ROMBSR_ESECURITY) {
		r = rombsr_error(ROMBSR_ESECURITY,
				 "the signature returned for %s does not verify with its public key", signer->name);
		goto out;
	}
	if (r < 0) {
		r = rombsr_error_wrap(r, "checking the signature returned for %s", signer->name);
		goto out;
	}
	blob[0] = (unsigned char)(id >> 24);
	blob[1] = (unsigned char)(id >> 16);
	blob[2] = (unsigned char)(id >> 8);
	blob[3] = (unsigned char)id;
	rombsr_buf_append(out, body.data, body.len);
	rombsr_buf_append_str(out, "\n" SIG_PREFIX);
	rombsr_buf_append_str(out, signer->name);
	rombsr_buf_append(out, " ", 1);
	rombsr_base64_encode(out, blob, 4 + sig_len);
	rombsr_buf_append(out, "\n", 1);
	r = rombsr_buf_check(out, "checkpoint");
out:
	EVP_PKEY_free(key);
	rombsr_buf_free(&body);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

/* Decodes one UTF-8 code point; 0 bytes consumed means invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t need;
	uint32_t c, min;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		need = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		need = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		need = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return need;
}

static bool unicode_space_or_control(uint32_t c)
{
	return c <= 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* A key name on a signature line may be any UTF-8 without spaces, control
 * characters or '+' (signed-note); lines of other keys must still parse. */
static int check_line_name(const char *s, size_t n, size_t line)
{
	size_t i = 0;

	if (n == 0 || n > ROMBSR_NOTE_NAME_MAX)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: key name of %zu bytes", line, n);
	while (i < n) {
		uint32_t c;
		size_t used = utf8_next((const unsigned char *)s + i, n - i, &c);

		if (used == 0 || unicode_space_or_control(c) || c == '+')
			return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: bad character in key name", line);
		i += used;
	}
	return 0;
}

struct sig_line {
	const char *name;
	size_t name_len;
	uint32_t key_id;
	unsigned char *sig; /* points into a shared buffer */
	size_t sig_len;
};

struct parsed_note {
	size_t body_len;
	size_t n_sigs;
	struct sig_line sigs[ROMBSR_NOTE_MAX_SIGNATURES];
	unsigned char sig_bytes[ROMBSR_NOTE_MAX];
};

/* Next line [*pos, eol) with eol at a '\n'; the note must end in '\n'. */
static int next_line(const char *note, size_t len, const size_t *pos, size_t *line_len, size_t line_no)
{
	const char *nl = memchr(note + *pos, '\n', len - *pos);

	if (nl == NULL)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: missing final newline", line_no);
	*line_len = (size_t)(nl - (note + *pos));
	return 0;
}

static int parse_note(const char *note, size_t len, struct rombsr_checkpoint *cp, struct parsed_note *pn)
{
	unsigned char root[64];
	size_t pos = 0, n = 0, used_bytes = 0, root_len, line_no = 1;
	int r;

	memset(cp, 0, sizeof(*cp));
	pn->n_sigs = 0;
	if (len > ROMBSR_NOTE_MAX)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint: larger than %d bytes", ROMBSR_NOTE_MAX);
	if (memchr(note, '\0', len) != NULL)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint: contains a NUL byte");

	/* Line 1: origin. */
	if ((r = next_line(note, len, &pos, &n, line_no)) < 0)
		return r;
	if (n == 0 || n > ROMBSR_NOTE_NAME_MAX)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint line 1: origin of %zu bytes", n);
	memcpy(cp->origin, note, n);
	cp->origin[n] = '\0';
	if ((r = rombsr_note_check_name(cp->origin, "checkpoint line 1 (origin)")) < 0)
		return r;
	pos += n + 1, line_no++;

	/* Line 2: tree size. */
	if ((r = next_line(note, len, &pos, &n, line_no)) < 0)
		return r;
	if ((r = audit_parse_u64(note + pos, n, (uint64_t)INT64_MAX, &cp->size, "checkpoint line 2 (tree size)")) < 0)
		return r;
	pos += n + 1, line_no++;

	/* Line 3: root hash. */
	if ((r = next_line(note, len, &pos, &n, line_no)) < 0)
		return r;
	if (n != ROOT_B64_LEN)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint line 3: root hash must be 44 base64 characters");
	if ((r = rombsr_base64_decode(note + pos, n, root, sizeof(root), &root_len, "checkpoint line 3 (root hash)")) < 0)
		return r;
	if (root_len != ROMBSR_MERKLE_HASH_LEN)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint line 3: root hash is not 32 bytes");
	memcpy(cp->root, root, ROMBSR_MERKLE_HASH_LEN);
	pos += n + 1, line_no++;
	pn->body_len = pos;

	/* The blank line: no extension lines are accepted. */
	if ((r = next_line(note, len, &pos, &n, line_no)) < 0)
		return r;
	if (n != 0)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: expected the blank line before signatures "
				    "(extension lines are not accepted)", line_no);
	pos += 1, line_no++;

	while (pos < len) {
		struct sig_line *s;
		const char *line, *space;
		size_t b64_len, blob_len;

		if ((r = next_line(note, len, &pos, &n, line_no)) < 0)
			return r;
		line = note + pos;
		if (n < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
			return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: a signature line starts with an em dash "
					    "(U+2014) and a space", line_no);
		if (pn->n_sigs == ROMBSR_NOTE_MAX_SIGNATURES)
			return rombsr_error(ROMBSR_EINVAL, "checkpoint: more than %d signatures",
					    ROMBSR_NOTE_MAX_SIGNATURES);
		s = &pn->sigs[pn->n_sigs];
		s->name = line + SIG_PREFIX_LEN;
		space = memchr(s->name, ' ', n - SIG_PREFIX_LEN);
		if (space == NULL)
			return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: expected a key name and a signature",
					    line_no);
		s->name_len = (size_t)(space - s->name);
		if ((r = check_line_name(s->name, s->name_len, line_no)) < 0)
			return r;
		b64_len = n - SIG_PREFIX_LEN - s->name_len - 1;
		if (memchr(space + 1, ' ', b64_len) != NULL)
			return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: extra space", line_no);
		if (b64_len > 4 * ((4 + SIG_BYTES_MAX + 2) / 3))
			return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: signature too long", line_no);
		s->sig = pn->sig_bytes + used_bytes;
		r = rombsr_base64_decode(space + 1, b64_len, s->sig, sizeof(pn->sig_bytes) - used_bytes, &blob_len,
					 "checkpoint signature");
		if (r < 0)
			return rombsr_error_wrap(r, "checkpoint line %zu", line_no);
		if (blob_len < 5)
			return rombsr_error(ROMBSR_EINVAL, "checkpoint line %zu: signature too short", line_no);
		s->key_id = (uint32_t)s->sig[0] << 24 | (uint32_t)s->sig[1] << 16 | (uint32_t)s->sig[2] << 8 | s->sig[3];
		s->sig += 4;
		s->sig_len = blob_len - 4;
		used_bytes += blob_len;
		pn->n_sigs++;
		pos += n + 1, line_no++;
	}
	if (pn->n_sigs == 0)
		return rombsr_error(ROMBSR_EINVAL, "checkpoint: no signature lines");
	return 0;
}

int rombsr_checkpoint_parse_unverified(const char *note, size_t len, struct rombsr_checkpoint *out)
{
	struct parsed_note *pn = malloc(sizeof(*pn));
	int r;

	if (pn == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = parse_note(note, len, out, pn);
	free(pn);
	return r;
}

int rombsr_checkpoint_open(const char *note, size_t len, const struct rombsr_note_verifier *const *trusted,
			   size_t n_trusted, const char *expected_origin, struct rombsr_checkpoint *out)
{
	struct parsed_note *pn = malloc(sizeof(*pn));
	size_t verified = 0;
	char seen[256] = "";
	int r;

	if (pn == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = parse_note(note, len, out, pn);
	if (r < 0)
		goto out;
	if (expected_origin != NULL && strcmp(out->origin, expected_origin) != 0) {
		r = rombsr_error(ROMBSR_ESECURITY, "checkpoint is for log '%s', expected '%s'", out->origin,
				 expected_origin);
		goto out;
	}
	for (size_t i = 0; i < pn->n_sigs; i++) {
		const struct sig_line *s = &pn->sigs[i];
		size_t used = strlen(seen);

		if (used + 2 < sizeof(seen))
			snprintf(seen + used, sizeof(seen) - used, "%s%.*s/%08x", used ? ", " : "",
				 (int)(s->name_len > 64 ? 64 : s->name_len), s->name, (unsigned)s->key_id);
		for (size_t k = 0; k < n_trusted; k++) {
			const struct rombsr_note_verifier *v = trusted[k];

			if (v->key_id != s->key_id || strlen(v->name) != s->name_len ||
			    memcmp(v->name, s->name, s->name_len) != 0)
				continue;
			r = ecdsa_verify(v->key, (const unsigned char *)note, pn->body_len, s->sig, s->sig_len);
			if (r == ROMBSR_ESECURITY) {
				r = rombsr_error(ROMBSR_ESECURITY, "checkpoint %s@%llu: signature by %s/%08x does not verify",
						 out->origin, (unsigned long long)out->size, v->name,
						 (unsigned)v->key_id);
				goto out;
			}
			if (r < 0) {
				r = rombsr_error_wrap(r, "checkpoint %s@%llu: signature by %s/%08x", out->origin,
						      (unsigned long long)out->size, v->name, (unsigned)v->key_id);
				goto out;
			}
			verified++;
		}
	}
	if (verified == 0) {
		r = rombsr_error(ROMBSR_ESECURITY, "checkpoint %s@%llu: no signature from a trusted key (signed by %s)",
				 out->origin, (unsigned long long)out->size, seen);
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(pn, sizeof(*pn));
	free(pn);
	return r;
}
