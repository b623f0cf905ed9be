/* capture-p11-check: drives the capture module directly through its
 * function list and checks the PKCS#11 rules clients rely on (length
 * queries, CKR_BUFFER_TOO_SMALL keeping the operation, operation and login
 * states, sensitive attributes, placeholder verification bound to key and
 * data, refusals of bad input) and signing from many threads at once.
 * Built with the rest of the tools, so under `make SANITIZE=1` the module's
 * code runs under ASan and UBSan here without any preloading.
 *
 * Usage: capture-p11-check MODULE THREADS SIGNS_PER_THREAD
 * Prints one line per check and, last, "placeholders N": the number of
 * journal entries the run must have added. */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CK_FUNCTION_LIST *f;
static int failures;
static unsigned long placeholders;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failures++;
}

#define RV(call, want)                                                                        \
	do {                                                                                  \
		rv = (call);                                                                  \
		check(rv == (want), "%s -> 0x%lx (want 0x%lx)", #call, rv, (CK_RV)(want));    \
	} while (0)

static CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS klass, const char *label, CK_ULONG *count)
{
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &klass, sizeof(klass)}, {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h[4] = {0};
	CK_ULONG n = 0;

	f->C_FindObjectsInit(s, t, 2);
	f->C_FindObjects(s, h, 4, &n);
	f->C_FindObjectsFinal(s);
	*count = n;
	return n > 0 ? h[0] : CK_INVALID_HANDLE;
}

static CK_RV sign_once(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE key, const void *data, size_t len,
		       unsigned char *sig, CK_ULONG *sig_len)
{
	CK_RV rv = f->C_SignInit(s, m, key);

	if (rv == CKR_OK)
		rv = f->C_Sign(s, (CK_BYTE_PTR)data, len, sig, sig_len);
	if (rv == CKR_OK) {
		pthread_mutex_lock(&count_lock);
		placeholders++;
		pthread_mutex_unlock(&count_lock);
	}
	return rv;
}

struct worker {
	CK_OBJECT_HANDLE key, pub;
	int n, index;
	int failures;
};

/* Each thread its own session, signing and verifying its own data. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
	CK_SESSION_HANDLE s;
	unsigned char sig[64];
	char data[64];

	if (f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK) {
		w->failures++;
		return NULL;
	}
	for (int i = 0; i < w->n; i++) {
		CK_ULONG len = sizeof(sig);
		int dlen = snprintf(data, sizeof(data), "thread %d operation %d", w->index, i);

		if (sign_once(s, &m, w->key, data, (size_t)dlen, sig, &len) != CKR_OK || len != 64 ||
		    f->C_VerifyInit(s, &m, w->pub) != CKR_OK ||
		    f->C_Verify(s, (CK_BYTE_PTR)data, (CK_ULONG)dlen, sig, len) != CKR_OK)
			w->failures++;
	}
	f->C_CloseSession(s);
	return NULL;
}

static CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32}, pss_bad = {CKM_SHA512, CKG_MGF1_SHA512, 64};
static CK_MECHANISM sha256 = {CKM_SHA256_RSA_PKCS, NULL, 0};
static CK_MECHANISM pss_m = {CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
static CK_MECHANISM pss_bad_m = {CKM_SHA256_RSA_PKCS_PSS, &pss_bad, sizeof(pss_bad)};
static CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0}, sha1 = {CKM_SHA1_RSA_PKCS, NULL, 0};
static CK_MECHANISM ecdsa_sha256 = {CKM_ECDSA_SHA256, NULL, 0};

/* What one step of the run leaves for the next: sessions, key handles,
 * the public key's values, the placeholders made. */
struct run {
	CK_SESSION_HANDLE s, s2;
	CK_OBJECT_HANDLE priv, pub, media_pub, ec_priv, ec_pub;
	unsigned char sig[512], sig2[512], modulus[600], exponent[16], buf[64];
	CK_ULONG modulus_len, exponent_len;
};

static void check_slots_and_sessions(struct run *t)
{
	CK_ULONG n, slots[2];
	CK_RV rv;

	RV(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	check(n == 1, "one slot");
	n = 0;
	RV(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
	check(n == 1, "slot count reported on CKR_BUFFER_TOO_SMALL");
	RV(f->C_OpenSession(0, 0, NULL, NULL, &t->s), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	RV(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &t->s), CKR_OK);
	RV(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &t->s2), CKR_OK);
}

/* Login states: private objects only after login, any PIN, no SO. */
static void check_login(struct run *t)
{
	CK_ULONG n;
	CK_RV rv;

	find_one(t->s, CKO_PRIVATE_KEY, "platform", &n);
	check(n == 0, "private key invisible before login");
	t->pub = find_one(t->s, CKO_PUBLIC_KEY, "platform", &n);
	check(n == 1, "public key visible before login");
	RV(f->C_SignInit(t->s, &sha256, t->pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
	RV(f->C_Login(t->s, CKU_SO, (CK_UTF8CHAR_PTR) "x", 1), CKR_USER_TYPE_INVALID);
	RV(f->C_Login(t->s, CKU_USER, (CK_UTF8CHAR_PTR) "whatever", 8), CKR_OK);
	RV(f->C_Login(t->s2, CKU_USER, (CK_UTF8CHAR_PTR) "x", 1), CKR_USER_ALREADY_LOGGED_IN);
	t->priv = find_one(t->s2, CKO_PRIVATE_KEY, "platform", &n);
	check(n == 1, "private key visible after login (in every session)");
	t->media_pub = find_one(t->s, CKO_PUBLIC_KEY, "media", &n);
	t->ec_priv = find_one(t->s, CKO_PRIVATE_KEY, "manifest", &n);
	t->ec_pub = find_one(t->s, CKO_PUBLIC_KEY, "manifest", &n);
	check(n == 1 && t->ec_priv != CK_INVALID_HANDLE, "EC key found");
}

/* Attributes: private values sensitive, public ones readable. */
static void check_attributes(struct run *t)
{
	CK_BBOOL bval = CK_TRUE;
	CK_ATTRIBUTE a[2];
	CK_RV rv;

	a[0] = (CK_ATTRIBUTE){CKA_PRIVATE_EXPONENT, t->buf, sizeof(t->buf)};
	a[1] = (CK_ATTRIBUTE){CKA_MODULUS, NULL, 0};
	RV(f->C_GetAttributeValue(t->s, t->priv, a, 2), CKR_ATTRIBUTE_SENSITIVE);
	check(a[0].ulValueLen == CK_UNAVAILABLE_INFORMATION && a[1].ulValueLen == 512,
	      "sensitive value unavailable, modulus length 512 in the same call");
	a[0] = (CK_ATTRIBUTE){CKA_VALUE, t->buf, sizeof(t->buf)};
	RV(f->C_GetAttributeValue(t->s, t->ec_priv, a, 1), CKR_ATTRIBUTE_SENSITIVE);
	a[0] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &bval, 1};
	RV(f->C_GetAttributeValue(t->s, t->priv, a, 1), CKR_OK);
	check(bval == CK_FALSE, "CKA_EXTRACTABLE false");
	a[0] = (CK_ATTRIBUTE){CKA_MODULUS, t->buf, 8};
	RV(f->C_GetAttributeValue(t->s, t->pub, a, 1), CKR_BUFFER_TOO_SMALL);
	a[0] = (CK_ATTRIBUTE){CKA_MODULUS, t->modulus, sizeof(t->modulus)};
	a[1] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, t->exponent, sizeof(t->exponent)};
	RV(f->C_GetAttributeValue(t->s, t->pub, a, 2), CKR_OK);
	t->modulus_len = a[0].ulValueLen;
	t->exponent_len = a[1].ulValueLen;
	RV(f->C_DestroyObject(t->s, t->pub), CKR_ACTION_PROHIBITED);
}

static void check_sign(struct run *t)
{
	CK_ULONG len;
	CK_RV rv;

	/* Single-part signing: length query, too small, then the signature. */
	len = sizeof(t->sig);
	RV(f->C_Sign(t->s, (CK_BYTE_PTR) "x", 1, t->sig, &len), CKR_OPERATION_NOT_INITIALIZED);
	RV(f->C_SignInit(t->s, &sha256, t->priv), CKR_OK);
	RV(f->C_SignInit(t->s, &sha256, t->priv), CKR_OPERATION_ACTIVE);
	RV(f->C_Sign(t->s, (CK_BYTE_PTR) "hello world", 11, NULL, &len), CKR_OK);
	check(len == 512, "length query gives 512");
	len = 10;
	RV(f->C_Sign(t->s, (CK_BYTE_PTR) "hello world", 11, t->sig, &len), CKR_BUFFER_TOO_SMALL);
	check(len == 512, "CKR_BUFFER_TOO_SMALL reports 512");
	len = sizeof(t->sig);
	RV(f->C_Sign(t->s, (CK_BYTE_PTR) "hello world", 11, t->sig, &len), CKR_OK);
	placeholders++;
	RV(f->C_Sign(t->s, (CK_BYTE_PTR) "hello world", 11, t->sig, &len), CKR_OPERATION_NOT_INITIALIZED);

	/* Multi-part over the same data: another placeholder, same rules. */
	RV(f->C_SignInit(t->s, &sha256, t->priv), CKR_OK);
	RV(f->C_SignUpdate(t->s, (CK_BYTE_PTR) "hello ", 6), CKR_OK);
	RV(f->C_SignUpdate(t->s, (CK_BYTE_PTR) "world", 5), CKR_OK);
	len = 0;
	RV(f->C_SignFinal(t->s, NULL, &len), CKR_OK);
	len = 100;
	RV(f->C_SignFinal(t->s, t->sig2, &len), CKR_BUFFER_TOO_SMALL);
	len = sizeof(t->sig2);
	RV(f->C_SignFinal(t->s, t->sig2, &len), CKR_OK);
	placeholders++;
	check(memcmp(t->sig, t->sig2, 512) != 0, "placeholders differ per operation");
}

/* Placeholders verify for exactly their key and data. */
static void check_verify(struct run *t)
{
	CK_RV rv;

	RV(f->C_VerifyInit(t->s, &sha256, t->pub), CKR_OK);
	RV(f->C_Verify(t->s, (CK_BYTE_PTR) "hello world", 11, t->sig, 512), CKR_OK);
	RV(f->C_VerifyInit(t->s, &sha256, t->pub), CKR_OK);
	RV(f->C_VerifyUpdate(t->s, (CK_BYTE_PTR) "hello", 5), CKR_OK);
	RV(f->C_VerifyUpdate(t->s, (CK_BYTE_PTR) " world", 6), CKR_OK);
	RV(f->C_VerifyFinal(t->s, t->sig2, 512), CKR_OK);
	RV(f->C_VerifyInit(t->s, &sha256, t->pub), CKR_OK);
	RV(f->C_Verify(t->s, (CK_BYTE_PTR) "hello worle", 11, t->sig, 512), CKR_SIGNATURE_INVALID);
	RV(f->C_VerifyInit(t->s, &sha256, t->media_pub), CKR_OK);
	RV(f->C_Verify(t->s, (CK_BYTE_PTR) "hello world", 11, t->sig, 512), CKR_SIGNATURE_INVALID);
	RV(f->C_VerifyInit(t->s, &sha256, t->pub), CKR_OK);
	RV(f->C_Verify(t->s, (CK_BYTE_PTR) "hello world", 11, t->sig, 511), CKR_SIGNATURE_LEN_RANGE);
	RV(f->C_VerifyFinal(t->s, t->sig, 512), CKR_OPERATION_NOT_INITIALIZED);
}

/* What apksig does: a session public key from the certificate. */
static void check_session_key(struct run *t)
{
	CK_OBJECT_CLASS klass = CKO_PUBLIC_KEY;
	CK_KEY_TYPE type = CKK_RSA;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ATTRIBUTE a[] = {{CKA_CLASS, &klass, sizeof(klass)},	       {CKA_KEY_TYPE, &type, sizeof(type)},
			    {CKA_TOKEN, &no, sizeof(no)},		       {CKA_VERIFY, &yes, sizeof(yes)},
			    {CKA_MODULUS, t->modulus, t->modulus_len}, {CKA_PUBLIC_EXPONENT, t->exponent, t->exponent_len}};
	CK_OBJECT_HANDLE created = 0, other;
	CK_RV rv;

	RV(f->C_CreateObject(t->s, a, 6, &created), CKR_OK);
	RV(f->C_VerifyInit(t->s, &sha256, created), CKR_OK);
	RV(f->C_Verify(t->s, (CK_BYTE_PTR) "hello world", 11, t->sig, 512), CKR_OK);
	a[2].pValue = &yes;
	RV(f->C_CreateObject(t->s, a, 6, &other), CKR_ATTRIBUTE_VALUE_INVALID);
	RV(f->C_DestroyObject(t->s, created), CKR_OK);
	RV(f->C_VerifyInit(t->s, &sha256, created), CKR_KEY_HANDLE_INVALID);
	{
		/* An EC key on a curve the module does not support (P-521). */
		static const unsigned char p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
		unsigned char point[2 + 133] = {0x04, 0x81};
		CK_KEY_TYPE ec = CKK_EC;
		CK_ATTRIBUTE e[] = {{CKA_CLASS, &klass, sizeof(klass)}, {CKA_KEY_TYPE, &ec, sizeof(ec)},
				    {CKA_TOKEN, &no, sizeof(no)},	     {CKA_VERIFY, &yes, sizeof(yes)},
				    {CKA_EC_PARAMS, (void *)p521, sizeof(p521)}, {CKA_EC_POINT, point, sizeof(point)}};

		RV(f->C_CreateObject(t->s, e, 6, &other), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

/* Bad input: unsupported mechanism, key type, PSS parameters, digest
 * lengths, raw input that is no DigestInfo. None is journaled. */
static void check_bad_input(struct run *t)
{
	CK_MECHANISM raw = {CKM_RSA_PKCS, NULL, 0};
	CK_ULONG len;
	CK_RV rv;

	RV(f->C_SignInit(t->s, &sha1, t->priv), CKR_MECHANISM_INVALID);
	RV(f->C_SignInit(t->s, &ecdsa, t->priv), CKR_KEY_TYPE_INCONSISTENT);
	RV(f->C_SignInit(t->s, &pss_bad_m, t->priv), CKR_MECHANISM_PARAM_INVALID);
	RV(f->C_SignInit(t->s, &pss_m, t->priv), CKR_OK);
	len = sizeof(t->sig);
	RV(f->C_Sign(t->s, t->buf, 31, t->sig, &len), CKR_DATA_LEN_RANGE);
	RV(f->C_SignInit(t->s, &ecdsa, t->ec_priv), CKR_OK);
	len = sizeof(t->sig);
	RV(f->C_Sign(t->s, t->buf, 33, t->sig, &len), CKR_DATA_LEN_RANGE);
	memset(t->buf, 0x41, sizeof(t->buf));
	RV(f->C_SignInit(t->s, &raw, t->priv), CKR_OK);
	len = sizeof(t->sig);
	RV(f->C_Sign(t->s, t->buf, 51, t->sig, &len), CKR_DATA_LEN_RANGE);
}

/* ECDSA placeholders are 64 bytes, r||s. */
static void check_ecdsa(struct run *t)
{
	CK_ULONG len;
	CK_RV rv;

	RV(f->C_SignInit(t->s, &ecdsa_sha256, t->ec_priv), CKR_OK);
	len = 0;
	RV(f->C_Sign(t->s, (CK_BYTE_PTR) "ec data", 7, NULL, &len), CKR_OK);
	check(len == 64, "ECDSA length 64");
	RV(f->C_Sign(t->s, (CK_BYTE_PTR) "ec data", 7, t->sig, &len), CKR_OK);
	placeholders++;
	RV(f->C_VerifyInit(t->s, &ecdsa_sha256, t->ec_pub), CKR_OK);
	RV(f->C_Verify(t->s, (CK_BYTE_PTR) "ec data", 7, t->sig, 64), CKR_OK);
}

/* Many threads at once, each with its own session. */
static void check_threads(const struct run *t, int threads, int per_thread)
{
	pthread_t tid[64];
	struct worker w[64];
	int bad = 0;

	if (threads > 64)
		threads = 64;
	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){t->ec_priv, t->ec_pub, per_thread, i, 0};
		pthread_create(&tid[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		bad += w[i].failures;
	}
	check(bad == 0, "%d threads x %d signatures, each verified (%d failures)", threads, per_thread, bad);
}

static void check_logout_and_finalize(struct run *t)
{
	CK_RV rv;

	RV(f->C_Logout(t->s), CKR_OK);
	RV(f->C_SignInit(t->s, &sha256, t->priv), CKR_USER_NOT_LOGGED_IN);
	RV(f->C_CloseSession(t->s2), CKR_OK);
	RV(f->C_CloseSession(t->s2), CKR_SESSION_HANDLE_INVALID);
	RV(f->C_Finalize(NULL), CKR_OK);
	RV(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &t->s), CKR_CRYPTOKI_NOT_INITIALIZED);
}

int main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS init = {.flags = CKF_OS_LOCKING_OK};
	CK_C_GetFunctionList get;
	struct run t = {0};
	CK_ULONG n;
	CK_RV rv;
	void *dl;
	int threads, per_thread;

	if (argc != 4)
		return fprintf(stderr, "usage: capture-p11-check MODULE THREADS SIGNS_PER_THREAD\n"), 2;
	threads = atoi(argv[2]);
	per_thread = atoi(argv[3]);
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL)
		return fprintf(stderr, "capture-p11-check: %s\n", dlerror()), 1;
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	check(get != NULL && get(&f) == CKR_OK, "C_GetFunctionList");
	if (f == NULL)
		return 1;
	check(dlsym(dl, "rombsr_bundle_load") == NULL && dlsym(dl, "cap_log") == NULL, "only C_GetFunctionList exported");
	RV(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	RV(f->C_Initialize(&init), CKR_OK);
	RV(f->C_Initialize(&init), CKR_CRYPTOKI_ALREADY_INITIALIZED);

	check_slots_and_sessions(&t);
	check_login(&t);
	check_attributes(&t);
	check_sign(&t);
	check_verify(&t);
	check_session_key(&t);
	check_bad_input(&t);
	check_ecdsa(&t);
	check_threads(&t, threads, per_thread);
	check_logout_and_finalize(&t);
	dlclose(dl);
	printf("placeholders %lu\n", placeholders);
	return failures == 0 ? 0 : 1;
}
