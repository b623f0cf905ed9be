/* RSA-4096 signing rate of the HSM layer against a bare C_Sign loop on the
 * same token, same key, same run. The two are interleaved in rounds so that
 * drift on a shared machine hits both alike. With SESSIONS (default 1) the
 * raw loop runs on that many sessions at once, one thread each: the rate a
 * signer with sign.signer-sessions = SESSIONS is measured against.
 * Usage: hsm_sign_rate MODULE TOKEN_URI PIN_FILE KEY_LABEL ROUNDS PER_ROUND [SESSIONS] */
#include "../src/common/error.h"
#include "../src/hsm/hsm.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The raw loop signs the same DigestInfo the layer builds, with one
 * session held for the whole loop: the cheapest way PKCS#11 allows. */
static int raw_loop(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, const unsigned char *info,
		    size_t info_len, int n)
{
	CK_FUNCTION_LIST *f = rombsr_hsm_functions(hsm);
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	CK_SESSION_HANDLE s;
	unsigned char sig[1024];
	int r = rombsr_hsm_session_get(hsm, &s);

	for (int i = 0; i < n && r == 0; i++) {
		CK_ULONG len = sizeof(sig);

		if (f->C_SignInit(s, &mech, key->private_key) != CKR_OK ||
		    f->C_Sign(s, (CK_BYTE_PTR)info, info_len, sig, &len) != CKR_OK)
			r = rombsr_error(ROMBSR_EHSM, "raw C_Sign failed");
	}
	rombsr_hsm_session_put(hsm, s);
	return r;
}

struct raw_thread {
	struct rombsr_hsm *hsm;
	const struct rombsr_hsm_key *key;
	const unsigned char *info;
	size_t info_len;
	int n, r;
};

static void *raw_thread_run(void *arg)
{
	struct raw_thread *t = arg;

	t->r = raw_loop(t->hsm, t->key, t->info, t->info_len, t->n);
	return NULL;
}

/* n signatures in all, split over `sessions` threads each holding a
 * session of its own for its whole loop. */
static int raw_parallel(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, const unsigned char *info,
			size_t info_len, int n, int sessions)
{
	struct raw_thread t[16];
	pthread_t th[16];
	int r = 0, started = 0;

	for (int i = 0; i < sessions; i++) {
		t[i] = (struct raw_thread){hsm, key, info, info_len, n / sessions + (i < n % sessions), 0};
		if (pthread_create(&th[i], NULL, raw_thread_run, &t[i]) != 0) {
			r = rombsr_error(ROMBSR_EINTERNAL, "pthread_create");
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (r == 0)
			r = t[i].r;
	}
	return r;
}

static int layer_loop(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, const unsigned char *digest, int n)
{
	unsigned char sig[1024];
	int r = 0;

	for (int i = 0; i < n && r == 0; i++) {
		size_t len = sizeof(sig);

		r = rombsr_hsm_sign_digest(hsm, key, ROMBSR_SIG_RSA_PKCS1_SHA256, digest, 32, sig, &len);
	}
	return r;
}

int main(int argc, char **argv)
{
	struct rombsr_hsm *hsm = NULL;
	struct rombsr_hsm_key key;
	unsigned char digest[32], *info = NULL;
	double t_layer = 0, t_raw = 0, t;
	X509_SIG *di = NULL;
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *value;
	int rounds, per, sessions, info_len = 0, r;

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: hsm_sign_rate MODULE TOKEN_URI PIN_FILE KEY_LABEL ROUNDS PER_ROUND [SESSIONS]\n");
		return 2;
	}
	rounds = atoi(argv[5]);
	per = atoi(argv[6]);
	sessions = argc == 8 ? atoi(argv[7]) : 1;
	if (rounds <= 0 || per <= 0 || sessions <= 0 || sessions > 16) {
		fprintf(stderr, "hsm_sign_rate: ROUNDS and PER_ROUND must be positive, SESSIONS 1 to 16\n");
		return 2;
	}
	EVP_Digest("rombsr bench", 12, digest, NULL, EVP_sha256(), NULL);
	di = X509_SIG_new();
	X509_SIG_getm(di, &alg, &value);
	X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL);
	ASN1_OCTET_STRING_set(value, digest, 32);
	info_len = i2d_X509_SIG(di, &info);
	r = info_len > 0 ? 0 : rombsr_error(ROMBSR_ECRYPTO, "DigestInfo");
	if (r == 0)
		r = rombsr_hsm_open_login(argv[1], argv[2], argv[3], &hsm);
	if (r == 0)
		rombsr_hsm_set_max_sessions(hsm, (size_t)sessions);
	if (r == 0)
		r = rombsr_hsm_find_key(hsm, argv[4], &key);
	/* warm-up: first use of a key loads it in SoftHSM */
	if (r == 0)
		r = layer_loop(hsm, &key, digest, 2);
	for (int i = 0; i < rounds && r == 0; i++) {
		t = now();
		r = raw_parallel(hsm, &key, info, (size_t)info_len, per, sessions);
		t_raw += now() - t;
		if (r < 0)
			break;
		t = now();
		r = layer_loop(hsm, &key, digest, per);
		t_layer += now() - t;
	}
	if (r < 0) {
		fprintf(stderr, "hsm_sign_rate: %s\n", rombsr_error_message(r));
	} else {
		double n = (double)rounds * per;

		printf("RSA-%u signatures per second, %d each: HSM layer %.1f, raw C_Sign loop %.1f over %d session%s\n",
		       key.bits, rounds * per, n / t_layer, n / t_raw, sessions, sessions == 1 ? "" : "s");
		/* The layer loop runs on one session: a ratio only against one. */
		if (sessions == 1)
			printf("hsm-layer/raw-C_Sign rate ratio: %.3f (goal >= 0.95)\n", t_raw / t_layer);
	}
	rombsr_hsm_close(hsm);
	OPENSSL_free(info);
	X509_SIG_free(di);
	return r < 0 ? 1 : 0;
}
