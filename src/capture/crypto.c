/* Public-key operations of the module (verification only: there is no
 * private key here), placeholders, and the journal writer. */
#define _GNU_SOURCE
#include "capture.h"

#include "../common/ecdsa_sig.h"
#include "../common/error.h"
#include "../common/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static size_t md_size(const char *name)
{
	const EVP_MD *md = EVP_get_digestbyname(name);

	return md != NULL ? (size_t)EVP_MD_get_size(md) : 0;
}

int cap_check_raw_input(const struct rombsr_cap_op *op, size_t sig_len)
{
	static const char *const hashes[] = {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
	unsigned char expect[19 + 64];
	size_t expect_len = 0;

	switch (op->mech->type) {
	case CKM_RSA_PKCS:
		/* Only a DigestInfo: the sign side signs digests, never
		 * arbitrary bytes it cannot interpret. */
		for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
			size_t dlen = md_size(hashes[i]);

			if (op->tbs_len > dlen &&
			    rombsr_cap_digest_info(hashes[i], op->tbs + op->tbs_len - dlen, dlen, expect, &expect_len) == 0 &&
			    expect_len == op->tbs_len && memcmp(expect, op->tbs, expect_len) == 0)
				return 0;
		}
		rombsr_error_clear();
		return rombsr_error(ROMBSR_EINVAL, "CKM_RSA_PKCS input of %zu bytes is not a DigestInfo (SHA-1 or SHA-2)",
				    op->tbs_len);
	case CKM_RSA_PKCS_PSS: {
		size_t want = md_size(rombsr_cap_hash_name(op->pss.hash));

		if (op->tbs_len != want)
			return rombsr_error(ROMBSR_EINVAL, "CKM_RSA_PKCS_PSS with %s needs a %zu-byte digest, got %zu bytes",
					    rombsr_cap_hash_name(op->pss.hash), want, op->tbs_len);
		return 0;
	}
	case CKM_RSA_X_509:
		/* One whole block, as avbtool's signing helper sends (already
		 * padded): shorter input would be zero-extended by the token,
		 * so the block the sign side sees would differ. */
		if (op->tbs_len != sig_len)
			return rombsr_error(ROMBSR_EINVAL, "CKM_RSA_X_509 needs one %zu-byte block, got %zu bytes", sig_len,
					    op->tbs_len);
		return 0;
	case CKM_ECDSA:
		if (op->tbs_len != 20 && op->tbs_len != 28 && op->tbs_len != 32 && op->tbs_len != 48 &&
		    op->tbs_len != 64)
			return rombsr_error(ROMBSR_EINVAL, "CKM_ECDSA needs a digest (20 to 64 bytes), got %zu bytes",
					    op->tbs_len);
		return 0;
	default:
		return 0;
	}
}

int cap_verify_real(EVP_PKEY *key, const struct rombsr_cap_op *op, const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	unsigned char block[19 + 64], recovered[ROMBSR_CAP_SIG_MAX], *der = NULL;
	const unsigned char *msg = op->tbs;
	size_t msg_len = op->tbs_len, der_len = 0, rec_len = sizeof(recovered);
	int r = ROMBSR_ECRYPTO, set = 0, ok = 0;

	if (ctx == NULL)
		return rombsr_error_openssl(ROMBSR_ENOMEM, "cannot verify");
	switch (op->mech->sign_type) {
	case CKM_RSA_PKCS:
		if (op->mech->hash != NULL) {
			if ((r = rombsr_cap_digest_info(op->mech->hash, op->tbs, op->tbs_len, block, &msg_len)) < 0)
				goto out;
			msg = block;
		}
		/* No signature digest set: OpenSSL compares the recovered
		 * DigestInfo with msg byte for byte. */
		set = EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
		ok = set && EVP_PKEY_verify(ctx, sig, sig_len, msg, msg_len) == 1;
		break;
	case CKM_RSA_PKCS_PSS:
		set = EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		      EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(rombsr_cap_hash_name(op->pss.hash))) == 1 &&
		      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_get_digestbyname(rombsr_cap_mgf_hash_name(op->pss.mgf))) == 1 &&
		      EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)op->pss.salt_len) == 1;
		ok = set && EVP_PKEY_verify(ctx, sig, sig_len, msg, msg_len) == 1;
		break;
	case CKM_RSA_X_509:
		set = EVP_PKEY_verify_recover_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) == 1;
		ok = set && EVP_PKEY_verify_recover(ctx, recovered, &rec_len, sig, sig_len) == 1 && rec_len == msg_len &&
		     CRYPTO_memcmp(recovered, msg, msg_len) == 0;
		break;
	case CKM_ECDSA:
		if ((r = rombsr_ecdsa_raw_to_der(sig, sig_len, &der, &der_len)) < 0)
			goto out;
		set = EVP_PKEY_verify_init(ctx) == 1;
		ok = set && EVP_PKEY_verify(ctx, der, der_len, msg, msg_len) == 1;
		break;
	default:
		r = rombsr_error(ROMBSR_EINTERNAL, "no verifier for %s", op->mech->name);
		goto out;
	}
	/* OpenSSL failing to set up is no verdict; once set up, any refusal
	 * of the signature (an error included: a value out of range) is. */
	if (!set) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot set up a %s verification", op->mech->name);
		goto out;
	}
	ERR_clear_error();
	r = ok ? 0 : rombsr_error(ROMBSR_ESECURITY, "signature does not verify");
out:
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Placeholder layout (docs/capture.md): 0x00, "RBSRPH1", a 16-byte random
 * nonce, SHA-256 of the operation it stands for, zeros to the real length.
 * The leading zero keeps it below any RSA modulus; the nonce makes every
 * placeholder distinct; the hash lets any later reader tell which
 * operation a placeholder in an artifact stands for. */
int cap_make_placeholder(const struct rombsr_cap_op *op, size_t sig_len, struct cap_placeholder *ph, char id[33])
{
	static const char domain[] = "rombsr-capture-placeholder-v1";
	unsigned char nonce[16], binding[32], pss[24];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int r = 0;

	if (sig_len < 56 || sig_len > sizeof(ph->sig))
		r = rombsr_error(ROMBSR_EINTERNAL, "placeholder of %zu bytes", sig_len);
	else if (md == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	else if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "no randomness for a placeholder");
	if (r < 0)
		goto out;
	for (int i = 0; i < 8; i++) {
		pss[i] = (unsigned char)(op->pss.hash >> (56 - 8 * i));
		pss[8 + i] = (unsigned char)(op->pss.mgf >> (56 - 8 * i));
		pss[16 + i] = (unsigned char)(op->pss.salt_len >> (56 - 8 * i));
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, domain, sizeof(domain)) != 1 ||
	    EVP_DigestUpdate(md, nonce, sizeof(nonce)) != 1 || EVP_DigestUpdate(md, op->spki_sha256, 64) != 1 ||
	    EVP_DigestUpdate(md, op->mech->name, strlen(op->mech->name) + 1) != 1 ||
	    EVP_DigestUpdate(md, pss, sizeof(pss)) != 1 || EVP_DigestUpdate(md, op->tbs, op->tbs_len) != 1 ||
	    EVP_DigestFinal_ex(md, binding, NULL) != 1) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot make a placeholder");
		goto out;
	}
	memset(ph, 0, sizeof(*ph));
	memcpy(ph->sig, ROMBSR_CAP_PLACEHOLDER_MAGIC, ROMBSR_CAP_PLACEHOLDER_MAGIC_LEN);
	memcpy(ph->sig + 8, nonce, sizeof(nonce));
	memcpy(ph->sig + 24, binding, sizeof(binding));
	ph->sig_len = sig_len;
	ph->op = *op;
	rombsr_hex_encode(nonce, sizeof(nonce), id);
out:
	EVP_MD_CTX_free(md);
	return r;
}

int cap_entry_stamp(struct rombsr_cap_entry *e)
{
	struct timespec ts;
	struct tm tm;
	char base[24];
	ssize_t n;
	int len;

	n = readlink("/proc/self/exe", e->program, sizeof(e->program) - 1);
	e->program[n > 0 ? n : 0] = '\0';
	if (n <= 0) {
		len = snprintf(e->program, sizeof(e->program), "unknown");
		if (len < 0 || (size_t)len >= sizeof(e->program))
			return rombsr_error(ROMBSR_EINVAL, "journal entry: program name too long");
	}
	e->pid = (long)getpid();
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	len = snprintf(e->time, sizeof(e->time), "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
	if (len < 0 || (size_t)len >= sizeof(e->time))
		return rombsr_error(ROMBSR_EINVAL, "journal entry: time stamp too long");
	return 0;
}

int cap_journal_append(const char *path, const struct rombsr_cap_entry *e)
{
	struct rombsr_buf line = {0};
	struct stat st;
	ssize_t n;
	int fd = -1, r;

	r = rombsr_cap_entry_encode(e, &line);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	if (fd < 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot open journal %s: %s", path, strerror(errno));
		goto out;
	}
	/* The lock orders writers of every process; O_APPEND alone would
	 * keep a single write whole on a local file system, but not the
	 * truncate-on-failure below. */
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			r = rombsr_error(ROMBSR_EIO, "cannot lock journal %s: %s", path, strerror(errno));
			goto out;
		}
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = rombsr_error(ROMBSR_EIO, "journal %s is not a regular file", path);
		goto out;
	}
	do
		n = write(fd, line.data, line.len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)line.len || fsync(fd) != 0) {
		int saved = n < 0 ? errno : EIO;

		/* Cut a partial entry off again: the journal keeps whole
		 * entries only. */
		if (ftruncate(fd, st.st_size) != 0 || fsync(fd) != 0)
			saved = errno;
		r = rombsr_error(ROMBSR_EIO, "cannot write journal %s: %s", path, strerror(saved));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	rombsr_buf_free(&line);
	return r;
}
