/* Checkpoints as C2SP signed notes: signing through the digest callback,
 * verifier keys, and strict parsing. */
#include "tap.h"
#include "test_audit_key.h"

#include "../../src/audit/checkpoint.h"
#include "../../src/common/error.h"

#include <stdio.h>
#include <string.h>

#define ORIGIN "rombsr.example/audit"

static struct test_key key, other;
static struct rombsr_note_verifier *ver, *other_ver;

static int bad_sign(void *ctx, const unsigned char digest[32], unsigned char *sig, size_t *sig_len)
{
	(void)ctx;
	(void)digest;
	memset(sig, 0x30, 8);
	*sig_len = 8;
	return 0;
}

static int failing_sign(void *ctx, const unsigned char digest[32], unsigned char *sig, size_t *sig_len)
{
	(void)ctx;
	(void)digest;
	(void)sig;
	(void)sig_len;
	return rombsr_error(ROMBSR_EHSM, "C_Sign: CKR_DEVICE_ERROR");
}

static void make_cp(struct rombsr_checkpoint *cp, uint64_t size)
{
	memset(cp, 0, sizeof(*cp));
	strcpy(cp->origin, ORIGIN);
	cp->size = size;
	for (int i = 0; i < 32; i++)
		cp->root[i] = (unsigned char)(i * 7 + size);
}

static int sign_with(struct test_key *k, const char *name, uint64_t size, struct rombsr_buf *note)
{
	struct rombsr_note_signer s = {name, k->spki, k->spki_len, test_key_sign, k};
	struct rombsr_checkpoint cp;

	make_cp(&cp, size);
	return rombsr_checkpoint_sign(&cp, &s, note);
}

static int open_note(const char *text, struct rombsr_checkpoint *cp)
{
	const struct rombsr_note_verifier *trusted[] = {ver};

	return rombsr_checkpoint_open(text, strlen(text), trusted, 1, ORIGIN, cp);
}

static void test_vkey(void)
{
	struct rombsr_note_verifier *v = NULL;
	struct rombsr_buf vk;
	char bad[1024];

	CHECK(rombsr_note_vkey_format(ORIGIN, key.spki, key.spki_len, &vk) == 0, "vkey formatted");
	CHECK(rombsr_note_verifier_parse(rombsr_buf_cstr(&vk), &v) == 0 && v->key_id == ver->key_id &&
		      strcmp(v->name, ORIGIN) == 0,
	      "vkey parses back: %s", rombsr_buf_cstr(&vk));
	rombsr_note_verifier_free(v);
	v = NULL;
	/* A wrong key ID, a wrong type byte, garbage. */
	snprintf(bad, sizeof(bad), "%s", rombsr_buf_cstr(&vk));
	bad[strlen(ORIGIN) + 1] = bad[strlen(ORIGIN) + 1] == '0' ? '1' : '0';
	CHECK(rombsr_note_verifier_parse(bad, &v) == ROMBSR_EINVAL && v == NULL &&
		      strstr(rombsr_error_message(ROMBSR_EINVAL), "does not match the key") != NULL,
	      "vkey with a wrong key ID refused: %s", rombsr_error_message(ROMBSR_EINVAL));
	CHECK(rombsr_note_verifier_parse("name+0000000+AgA=", &v) == ROMBSR_EINVAL, "short key ID refused");
	CHECK(rombsr_note_verifier_parse("name+00000000+AQAAAA==", &v) == ROMBSR_EUNSUPPORTED,
	      "Ed25519 (type 0x01) key refused as unsupported");
	CHECK(rombsr_note_verifier_parse("na me+00000000+AgAA", &v) == ROMBSR_EINVAL, "space in name refused");
	CHECK(rombsr_note_verifier_parse("a+b+c+d", &v) == ROMBSR_EINVAL, "four parts refused");
	CHECK(rombsr_note_verifier_parse("name+0000000A+AgAA", &v) == ROMBSR_EINVAL, "upper-case key ID refused");
	rombsr_buf_free(&vk);

	/* The base64 key part may contain '+', the field separator. */
	{
		int found = 0, parsed = 0;

		for (int i = 0; i < 200 && !found; i++) {
			struct test_key k;

			if (test_key_new(&k) != 0)
				break;
			if (rombsr_note_vkey_format("n", k.spki, k.spki_len, &vk) == 0 &&
			    strchr(strchr(strchr(rombsr_buf_cstr(&vk), '+') + 1, '+') + 1, '+') != NULL) {
				found = 1;
				parsed = rombsr_note_verifier_parse(rombsr_buf_cstr(&vk), &v) == 0;
				rombsr_note_verifier_free(v);
				v = NULL;
			}
			rombsr_buf_free(&vk);
			test_key_free(&k);
		}
		CHECK(found && parsed, "a vkey whose base64 holds '+' parses");
	}
}

static void test_sign_and_open(void)
{
	struct rombsr_checkpoint cp, want;
	struct rombsr_buf note, note2;
	const char *text;
	char buf[4096];

	make_cp(&want, 1234);
	CHECK(sign_with(&key, ORIGIN, 1234, &note) == 0 && key.calls == 1, "signed through the digest callback");
	text = rombsr_buf_cstr(&note);
	CHECK(strncmp(text, ORIGIN "\n1234\n", strlen(ORIGIN) + 6) == 0 &&
		      strstr(text, "=\n\n\xe2\x80\x94 " ORIGIN " ") != NULL && text[note.len - 1] == '\n',
	      "body, blank line and em-dash signature line:\n%s", text);
	CHECK(open_note(text, &cp) == 0 && cp.size == 1234 && memcmp(cp.root, want.root, 32) == 0 &&
		      strcmp(cp.origin, ORIGIN) == 0,
	      "opens with the trusted key");
	{
		const struct rombsr_note_verifier *trusted[] = {ver};

		CHECK(rombsr_checkpoint_open(text, note.len, trusted, 1, "other.example/log", &cp) == ROMBSR_ESECURITY,
		      "wrong origin refused");
		CHECK(rombsr_checkpoint_open(text, note.len, trusted, 0, NULL, &cp) == ROMBSR_ESECURITY,
		      "no trusted keys: refused");
	}

	/* Another signature line from an unknown key is ignored. */
	CHECK(sign_with(&other, "witness.example/w1", 1234, &note2) == 0, "second key signs the same body");
	{
		const char *sig2 = strstr(rombsr_buf_cstr(&note2), "\xe2\x80\x94");

		snprintf(buf, sizeof(buf), "%s%s", text, sig2);
		CHECK(open_note(buf, &cp) == 0, "an extra signature from an unknown key is ignored");
		snprintf(buf, sizeof(buf), "%.*s%s", (int)(strstr(text, "\xe2\x80\x94") - text), text, sig2);
		CHECK(open_note(buf, &cp) == ROMBSR_ESECURITY &&
			      strstr(rombsr_error_message(ROMBSR_ESECURITY), "no signature from a trusted key") != NULL &&
			      strstr(rombsr_error_message(ROMBSR_ESECURITY), "witness.example/w1/") != NULL,
		      "signed only by an unknown key: refused naming the signer: %s",
		      rombsr_error_message(ROMBSR_ESECURITY));
	}
	rombsr_buf_free(&note2);

	/* Same name, another key (re-signed by an attacker). */
	CHECK(sign_with(&other, ORIGIN, 1234, &note2) == 0, "other key signs under the log's name");
	CHECK(open_note(rombsr_buf_cstr(&note2), &cp) == ROMBSR_ESECURITY, "same name but other key ID: refused");
	rombsr_buf_free(&note2);

	/* Body changed under a valid signature. */
	snprintf(buf, sizeof(buf), "%s", text);
	buf[strlen(ORIGIN) + 1] = '2';
	CHECK(open_note(buf, &cp) == ROMBSR_ESECURITY &&
		      strstr(rombsr_error_message(ROMBSR_ESECURITY), "does not verify") != NULL,
	      "edited tree size: the known key's signature fails, note rejected: %s",
	      rombsr_error_message(ROMBSR_ESECURITY));
	/* A known key with a bad signature rejects the note even if another line verifies. */
	{
		char *line = strstr(text, "\xe2\x80\x94");
		char tampered[1024];
		size_t b64 = strlen(ORIGIN) + 5;

		snprintf(tampered, sizeof(tampered), "%s", line);
		tampered[b64 + 12] = tampered[b64 + 12] == 'A' ? 'B' : 'A';
		snprintf(buf, sizeof(buf), "%s%s", text, tampered);
		CHECK(open_note(buf, &cp) == ROMBSR_ESECURITY || open_note(buf, &cp) == ROMBSR_EINVAL,
		      "a failing signature by the trusted key rejects the whole note");
	}
	rombsr_buf_free(&note);
}

static void test_strict(void)
{
	struct rombsr_checkpoint cp;
	struct rombsr_buf note;
	const char *text;
	char buf[4096];
	size_t body;
	static const struct {
		const char *from, *to, *what;
	} edits[] = {
		{"\n1234\n", "\n01234\n", "leading zero in the size"},
		{"\n1234\n", "\n+1234\n", "sign on the size"},
		{"\n1234\n", "\n1234 \n", "trailing space on the size"},
		{"=\n\n", "=\nextension\n\n", "an extension line"},
		{"=\n\n", "=\n\n\n", "two blank lines"},
		{"=\n\n", "=\r\n\n", "CRLF"},
		{"\xe2\x80\x94 ", "- ", "ASCII dash instead of the em dash"},
		{"\xe2\x80\x94 ", "\xe2\x80\x94  ", "two spaces after the dash"},
		{ORIGIN "\n", ORIGIN " \n", "space in the origin"},
		{"=\n\n", "\n\n", "root hash without padding"},
	};

	CHECK(sign_with(&key, ORIGIN, 1234, &note) == 0, "note to mangle");
	text = rombsr_buf_cstr(&note);
	body = (size_t)(strstr(text, "\n\n") - text) + 1;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char *at = strstr(text, edits[i].from);
		int r;

		if (at == NULL) {
			CHECK(0, "edit %zu applies", i);
			continue;
		}
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - text), text, edits[i].to, at + strlen(edits[i].from));
		r = open_note(buf, &cp);
		CHECK(r == ROMBSR_EINVAL || r == ROMBSR_ESECURITY, "refused: %s (%s)", edits[i].what,
		      rombsr_error_message(r));
	}
	snprintf(buf, sizeof(buf), "%s", text);
	buf[note.len - 1] = '\0';
	CHECK(open_note(buf, &cp) == ROMBSR_EINVAL, "missing final newline refused");
	snprintf(buf, sizeof(buf), "%s\n", text);
	CHECK(open_note(buf, &cp) == ROMBSR_EINVAL, "trailing blank line refused");
	snprintf(buf, sizeof(buf), "%.*s\n", (int)body, text);
	CHECK(open_note(buf, &cp) == ROMBSR_EINVAL, "no signature lines refused");
	snprintf(buf, sizeof(buf), "%s", text);
	{
		char *sig = strrchr(buf, ' ') + 1;

		sig[strlen(sig) - 2] = '!';
		CHECK(open_note(buf, &cp) == ROMBSR_EINVAL, "non-base64 signature refused");
	}
	{
		char big[ROMBSR_NOTE_MAX + 100];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK(rombsr_checkpoint_parse_unverified(big, sizeof(big) - 1, &cp) == ROMBSR_EINVAL,
		      "oversized note refused");
	}
	{
		/* 33 signature lines: over the cap. */
		const char *line = strstr(text, "\xe2\x80\x94");
		struct rombsr_buf many;

		rombsr_buf_init(&many, 1 << 20);
		rombsr_buf_append(&many, text, (size_t)(line - text));
		for (int i = 0; i < 33; i++)
			rombsr_buf_append_str(&many, line);
		CHECK(open_note(rombsr_buf_cstr(&many), &cp) == ROMBSR_EINVAL, "more than 32 signatures refused");
		rombsr_buf_free(&many);
	}
	{
		/* A foreign key name in UTF-8 (no spaces) is well-formed and ignored. */
		const char *line = strstr(text, "\xe2\x80\x94");

		snprintf(buf, sizeof(buf), "%s\xe2\x80\x94 t\xc3\xa9moin.example AAAAAAB=\n", text);
		CHECK(open_note(buf, &cp) == ROMBSR_EINVAL, "non-canonical base64 in a foreign line refused");
		snprintf(buf, sizeof(buf), "%s\xe2\x80\x94 t\xc3\xa9moin.example AAAAAAA=\n", text);
		CHECK(open_note(buf, &cp) == 0, "UTF-8 key name of an unknown signer is ignored");
		snprintf(buf, sizeof(buf), "%s\xe2\x80\x94 t\xc3moin.example AAAAAAA=\n", text);
		CHECK(open_note(buf, &cp) == ROMBSR_EINVAL, "invalid UTF-8 in a key name refused");
		snprintf(buf, sizeof(buf), "%s\xe2\x80\x94 a\xc2\xa0" "b AAAAAAA=\n", text);
		CHECK(open_note(buf, &cp) == ROMBSR_EINVAL, "no-break space in a key name refused");
		(void)line;
	}
	rombsr_buf_free(&note);
}

static void test_signer_failures(void)
{
	struct rombsr_note_signer s = {ORIGIN, key.spki, key.spki_len, bad_sign, NULL};
	struct rombsr_checkpoint cp;
	struct rombsr_buf note;

	make_cp(&cp, 5);
	CHECK(rombsr_checkpoint_sign(&cp, &s, &note) == ROMBSR_ESECURITY && note.data == NULL,
	      "a signature that does not verify with the public key never makes a note: %s",
	      rombsr_error_message(ROMBSR_ESECURITY));
	s.sign = failing_sign;
	CHECK(rombsr_checkpoint_sign(&cp, &s, &note) == ROMBSR_EHSM &&
		      strstr(rombsr_error_message(ROMBSR_EHSM), "CKR_DEVICE_ERROR") != NULL,
	      "callback errors propagate: %s", rombsr_error_message(ROMBSR_EHSM));
	s.sign = test_key_sign;
	s.ctx = &other; /* public key of `key`, signature by `other` */
	CHECK(rombsr_checkpoint_sign(&cp, &s, &note) == ROMBSR_ESECURITY, "callback signing with the wrong key refused");
	s.ctx = &key;
	s.name = "bad name";
	CHECK(rombsr_checkpoint_sign(&cp, &s, &note) == ROMBSR_EINVAL, "key name with a space refused");
	s.name = ORIGIN;
	strcpy(cp.origin, "a+b");
	CHECK(rombsr_checkpoint_sign(&cp, &s, &note) == ROMBSR_EINVAL, "origin with '+' refused");
}

int main(void)
{
	if (test_key_new(&key) != 0 || test_key_new(&other) != 0 ||
	    rombsr_note_verifier_from_spki(ORIGIN, key.spki, key.spki_len, &ver) != 0 ||
	    rombsr_note_verifier_from_spki(ORIGIN, other.spki, other.spki_len, &other_ver) != 0) {
		CHECK(0, "test keys");
		return tap_done();
	}
	test_vkey();
	test_sign_and_open();
	test_strict();
	test_signer_failures();
	rombsr_note_verifier_free(ver);
	rombsr_note_verifier_free(other_ver);
	test_key_free(&key);
	test_key_free(&other);
	return tap_done();
}
