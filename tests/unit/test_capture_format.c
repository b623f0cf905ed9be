/* The capture journal and signature set formats (src/common/capture_format):
 * round trips, and every kind of damage a reader must notice. */
#include "tap.h"

#include "../../src/common/buf.h"
#include "../../src/common/capture_format.h"
#include "../../src/common/error.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void sample(struct rombsr_cap_entry *e, const char *mech)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->op.label, sizeof(e->op.label), "platform");
	memset(e->op.spki_sha256, 'a', 64);
	e->op.mech = rombsr_cap_mech_by_name(mech);
	e->op.tbs_len = 32;
	for (size_t i = 0; i < 32; i++)
		e->op.tbs[i] = (unsigned char)i;
	if (e->op.mech->pss)
		e->op.pss = (struct rombsr_cap_pss){CKM_SHA256, CKG_MGF1_SHA256, 32};
	snprintf(e->id, sizeof(e->id), "00112233445566778899aabbccddeeff");
	snprintf(e->time, sizeof(e->time), "2026-11-22T06:00:00.000Z");
	snprintf(e->program, sizeof(e->program), "/usr/bin/a \"quoted\"\nname");
	e->pid = 42;
	e->sig_len = 512;
}

/* Recomputes a line's check value after an edit, so that the test reaches
 * the field checks behind it. */
static void reseal(char *line)
{
	size_t len = strlen(line), body = len - (11 + 64 + 2);
	unsigned char md[32];

	EVP_Digest(line, body, md, NULL, EVP_sha256(), NULL);
	for (size_t i = 0; i < 32; i++)
		snprintf(line + body + 11 + 2 * i, 3, "%02x", md[i]);
	line[len - 2] = '"';
}

static int decode_str(const char *s, struct rombsr_cap_entry *out)
{
	return rombsr_cap_entry_decode(s, strlen(s), out);
}

static void test_journal(void)
{
	struct rombsr_cap_entry e, back;
	struct rombsr_buf line = {0};
	char *copy;
	int r;

	sample(&e, "CKM_SHA256_RSA_PKCS_PSS");
	CHECK(rombsr_cap_entry_encode(&e, &line) == 0, "encode");
	CHECK(line.len > 0 && line.data[line.len - 1] == '\n' && memchr(line.data, '\n', line.len - 1) == NULL,
	      "one line, newline-terminated, even with a newline in a field");
	r = rombsr_cap_entry_decode((const char *)line.data, line.len - 1, &back);
	CHECK(r == 0, "decode: %s", r ? rombsr_error_message(r) : "ok");
	CHECK(rombsr_cap_op_same(&e.op, &back.op) && strcmp(back.program, e.program) == 0 && back.pid == 42 &&
	      back.sig_len == 512 && strcmp(back.id, e.id) == 0, "round trip");

	copy = strndup((const char *)line.data, line.len - 1);
	copy[40] ^= 1;
	CHECK(decode_str(copy, &back) == ROMBSR_EINVAL &&
	      strstr(rombsr_error_message(ROMBSR_EINVAL), "check value") != NULL, "one flipped bit is noticed");
	copy[40] ^= 1;
	CHECK(rombsr_cap_entry_decode(copy, strlen(copy) - 5, &back) < 0, "a torn line is refused");

	/* Edits with a valid check value: the field checks must hold. */
	{
		char buf[8192];
		const char *cases[][2] = {
			{"\"v\":1", "\"v\":2"},
			{"\"sig_len\":512", "\"sig_len\":0"},
			{"\"mechanism\":\"CKM_SHA256_RSA_PKCS_PSS\"", "\"mechanism\":\"CKM_MD5_RSA_PKCS\""},
			{"\"hash\":\"CKM_SHA256\"", "\"hash\":\"CKM_SHA_1\""},
			{"\"tbs\":\"00", "\"tbs\":\"0"},
			{"\"label\":\"platform\"", "\"label\":\"platform\",\"extra\":1"},
			{"\"spki_sha256\":\"aaaa", "\"spki_sha256\":\"AAAA"},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *at = strstr(copy, cases[i][0]);

			if (at == NULL) {
				CHECK(false, "case %zu: pattern missing", i);
				continue;
			}
			snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - copy), copy, cases[i][1],
				 at + strlen(cases[i][0]));
			reseal(buf);
			r = decode_str(buf, &back);
			CHECK(r < 0, "resealed edit %s -> %s refused (%s)", cases[i][0], cases[i][1],
			      r < 0 ? rombsr_error_message(r) : "accepted");
		}
	}
	free(copy);
	rombsr_buf_free(&line);

	/* A hash mechanism's tbs is that hash's length. */
	sample(&e, "CKM_SHA512_RSA_PKCS");
	CHECK(rombsr_cap_entry_encode(&e, &line) == 0, "encode SHA-512 entry with 32 bytes");
	CHECK(rombsr_cap_entry_decode((const char *)line.data, line.len - 1, &back) < 0,
	      "a 32-byte digest for CKM_SHA512_RSA_PKCS is refused");
	rombsr_buf_free(&line);
}

static void test_journal_file(void)
{
	char dir[] = "/tmp/rombsr-unit.XXXXXX", path[256];
	struct rombsr_cap_entry e, *list = NULL;
	struct rombsr_buf line = {0};
	size_t n = 0;
	FILE *f;
	int r;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/j.jsonl", dir);
	sample(&e, "CKM_ECDSA_SHA256");
	rombsr_cap_entry_encode(&e, &line);
	f = fopen(path, "w");
	fwrite(line.data, 1, line.len, f);
	fwrite(line.data, 1, line.len, f);
	fwrite(line.data, 1, line.len - 1, f); /* the last one without its newline */
	fclose(f);
	CHECK((r = rombsr_cap_journal_read(path, &list, &n)) < 0 &&
	      strstr(rombsr_error_message(r), "line 3: truncated") != NULL, "truncated last line named");
	CHECK(list == NULL && n == 0, "nothing returned on error");
	CHECK(truncate(path, (off_t)(2 * line.len)) == 0, "cut the torn entry off");
	CHECK(rombsr_cap_journal_read(path, &list, &n) == 0 && n == 2, "two whole entries read");
	rombsr_cap_journal_free(list, n);
	unlink(path);
	rmdir(dir);
	rombsr_buf_free(&line);
}

static void test_sigset(void)
{
	char dir[] = "/tmp/rombsr-unit.XXXXXX", path[256];
	struct rombsr_cap_signature sigs[2], *back = NULL;
	struct rombsr_cap_entry e;
	size_t n = 0;
	FILE *f;
	int r;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/s.json", dir);
	memset(sigs, 0, sizeof(sigs));
	sample(&e, "CKM_SHA256_RSA_PKCS");
	sigs[0].op = e.op;
	sigs[0].sig_len = 512;
	memset(sigs[0].sig, 0x5a, 512);
	sample(&e, "CKM_RSA_PKCS_PSS");
	sigs[1].op = e.op;
	sigs[1].sig_len = 512;
	CHECK(rombsr_cap_sigset_write(path, sigs, 2) == 0, "write a set");
	CHECK(rombsr_cap_sigset_read(path, &back, &n) == 0 && n == 2, "read it back");
	CHECK(back != NULL && rombsr_cap_op_same(&back[0].op, &sigs[0].op) && rombsr_cap_op_same(&back[1].op, &sigs[1].op) &&
	      back[0].sig_len == 512 && memcmp(back[0].sig, sigs[0].sig, 512) == 0, "same operations and signatures");
	CHECK(!rombsr_cap_op_same(&back[0].op, &back[1].op), "different mechanisms are different operations");
	free(back);
	back = NULL;
	f = fopen(path, "w");
	fputs("{\"format\": \"rombsr.capture-signatures\", \"version\": 1, \"signatures\": [", f);
	fclose(f);
	CHECK(rombsr_cap_sigset_read(path, &back, &n) < 0 && back == NULL, "truncated set refused");
	f = fopen(path, "w");
	fputs("{\"format\": \"rombsr.capture-signatures\", \"version\": 1, \"signatures\": [{\"label\": \"x\"}]}", f);
	fclose(f);
	CHECK((r = rombsr_cap_sigset_read(path, &back, &n)) < 0 &&
	      strstr(rombsr_error_message(r), "signatures[0]") != NULL, "incomplete item named");
	unlink(path);
	rmdir(dir);
}

static void test_digest_info(void)
{
	unsigned char d[64] = {0}, out[19 + 64];
	size_t len = 0;

	CHECK(rombsr_cap_digest_info("SHA256", d, 32, out, &len) == 0 && len == 51 && out[0] == 0x30 &&
	      out[1] == 0x31 && out[18] == 0x20, "SHA-256 DigestInfo");
	CHECK(rombsr_cap_digest_info("SHA1", d, 20, out, &len) == 0 && len == 35, "SHA-1 DigestInfo");
	CHECK(rombsr_cap_digest_info("SHA512", d, 32, out, &len) < 0, "wrong digest length refused");
	CHECK(rombsr_cap_digest_info("MD5", d, 16, out, &len) < 0, "unknown hash refused");
}

int main(void)
{
	test_journal();
	test_journal_file();
	test_sigset();
	test_digest_info();
	return tap_done();
}
