/* A fault-injecting PKCS#11 module, for tests only (never installed): it
 * forwards every call to a real module (SoftHSM2 by default) and, as its
 * configuration file says, answers chosen calls with an error instead of
 * forwarding them, or delays them. It counts what a test cannot see from
 * outside: sessions open in the real module, C_Sign calls that reached it,
 * faults injected. See docs/sign-node.md, "HSM faults".
 *
 * The configuration file is named by $ROMBSR_P11_FAULT_CONFIG and read again
 * whenever it changes (a test replaces it to start or clear a fault while
 * the sign node runs). One directive per line, '#' starts a comment:
 *
 *   module PATH                      the real module (read once, at load)
 *   counters PATH                    where the counters are written
 *   fail FUNCTION CKR_NAME [after=N] [times=M] [len=L]
 *                                    calls N+1 .. N+M of FUNCTION (counted
 *                                    from when the file was read) answer
 *                                    CKR_NAME; times=0: every call after N;
 *                                    default after=0 times=1; len=L (C_Sign
 *                                    only): only calls signing L bytes
 *                                    match and are counted, so that one
 *                                    operation fails whichever session
 *                                    runs it first
 *   delay FUNCTION MS                every call of FUNCTION waits MS ms
 *
 * FUNCTION is a PKCS#11 name (C_Sign) or '*' for every function but
 * C_GetFunctionList, C_Initialize, C_Finalize and C_GetInfo.
 *
 * sign_concurrent_max counts the C_Sign calls in progress at once (delays
 * included): a signer with several sessions shows more than one. */
#define _GNU_SOURCE
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_RULES 32
#define MAX_SESSIONS 256
#define DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

static const struct {
	CK_RV rv;
	const char *name;
} ckr_names[] = {
#include "p11_names.inc"
};

struct rule {
	char function[40];
	bool delay;
	CK_RV rv;
	unsigned long after, times, ms, seen, len;
	bool has_len;
};

struct session {
	CK_SESSION_HANDLE handle;
	CK_SLOT_ID slot;
};

/* Everything below is guarded by lock; the real module is called without it
 * so that a delayed call does not hold up the counters. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static CK_FUNCTION_LIST *real;
static struct rule rules[MAX_RULES];
static size_t nrules;
static char counters_path[4096];
static struct stat config_seen;
static bool have_config;
static struct session sessions[MAX_SESSIONS];
static size_t nsessions;
static struct {
	unsigned long max_open, opened, closed, leaked_at_finalize, initialize, finalize, login, sign_forwarded,
		sign_ok, faults, delays, sign_active, sign_concurrent_max;
} counts;

static bool parse_ckr(const char *s, CK_RV *rv)
{
	char *end;

	for (size_t i = 0; i < sizeof(ckr_names) / sizeof(ckr_names[0]); i++) {
		if (strcmp(ckr_names[i].name, s) == 0) {
			*rv = ckr_names[i].rv;
			return true;
		}
	}
	errno = 0;
	*rv = strtoul(s, &end, 0);
	return errno == 0 && end != s && *end == '\0';
}

static bool parse_number(const char *s, const char *key, unsigned long *out)
{
	size_t n = strlen(key);
	char *end;

	if (strncmp(s, key, n) != 0)
		return false;
	errno = 0;
	*out = strtoul(s + n, &end, 10);
	return errno == 0 && end != s + n && *end == '\0';
}

/* A line the shim does not understand is reported on stderr and skipped:
 * a test that mistypes a rule sees it in the sign node's log. */
static void parse_line(char *line, char *module, size_t module_size)
{
	char *word[6] = {0};
	size_t n = 0;
	struct rule *r = &rules[nrules];

	line[strcspn(line, "#\n")] = '\0';
	for (char *save = NULL, *w = strtok_r(line, " \t", &save); w != NULL && n < 6; w = strtok_r(NULL, " \t", &save))
		word[n++] = w;
	if (n == 0)
		return;
	if (strcmp(word[0], "module") == 0 && n == 2 && module != NULL) {
		snprintf(module, module_size, "%s", word[1]);
		return;
	}
	if (strcmp(word[0], "module") == 0 && n == 2)
		return;
	if (strcmp(word[0], "counters") == 0 && n == 2) {
		snprintf(counters_path, sizeof(counters_path), "%s", word[1]);
		return;
	}
	if (nrules == MAX_RULES || n < 3)
		goto bad;
	memset(r, 0, sizeof(*r));
	snprintf(r->function, sizeof(r->function), "%s", word[1]);
	r->after = 0;
	r->seen = 0;
	if (strcmp(word[0], "delay") == 0 && n == 3 && parse_number(word[2], "", &r->ms)) {
		r->delay = true;
		nrules++;
		return;
	}
	if (strcmp(word[0], "fail") != 0 || !parse_ckr(word[2], &r->rv))
		goto bad;
	r->times = 1;
	r->has_len = false;
	for (size_t i = 3; i < n; i++) {
		if (parse_number(word[i], "len=", &r->len)) {
			r->has_len = true;
			continue;
		}
		if (!parse_number(word[i], "after=", &r->after) && !parse_number(word[i], "times=", &r->times))
			goto bad;
	}
	nrules++;
	return;
bad:
	fprintf(stderr, "p11-fault: ignored configuration line starting '%s'\n", word[0]);
}

/* Called with lock held. Reads the file again when it is not the one read
 * last (tests replace it with rename, which changes the inode). */
static void load_config(char *module, size_t module_size)
{
	const char *path = getenv("ROMBSR_P11_FAULT_CONFIG");
	struct stat st;
	char line[4608];
	FILE *f;

	if (path == NULL || stat(path, &st) != 0) {
		nrules = 0;
		have_config = false;
		return;
	}
	if (have_config && st.st_ino == config_seen.st_ino && st.st_size == config_seen.st_size &&
	    st.st_mtim.tv_sec == config_seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == config_seen.st_mtim.tv_nsec)
		return;
	f = fopen(path, "re");
	if (f == NULL)
		return;
	nrules = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		parse_line(line, module, module_size);
	fclose(f);
	config_seen = st;
	have_config = true;
}

/* Called with lock held; written whole and renamed, so a test never reads
 * half a file. */
static void write_counters(void)
{
	char tmp[4200];
	FILE *f;

	if (counters_path[0] == '\0')
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", counters_path, (int)getpid());
	f = fopen(tmp, "we");
	if (f == NULL)
		return;
	fprintf(f,
		"sessions_open %zu\nsessions_max %lu\nsessions_opened %lu\nsessions_closed %lu\n"
		"sessions_leaked_at_finalize %lu\ninitialize %lu\nfinalize %lu\nlogin %lu\n"
		"sign_forwarded %lu\nsign_ok %lu\nfaults %lu\ndelays %lu\nsign_concurrent_max %lu\n",
		nsessions, counts.max_open, counts.opened, counts.closed, counts.leaked_at_finalize, counts.initialize,
		counts.finalize, counts.login, counts.sign_forwarded, counts.sign_ok, counts.faults, counts.delays,
		counts.sign_concurrent_max);
	if (fclose(f) == 0)
		rename(tmp, counters_path);
	else
		unlink(tmp);
}

static bool exempt_from_star(const char *function)
{
	return strcmp(function, "C_GetFunctionList") == 0 || strcmp(function, "C_Initialize") == 0 ||
	       strcmp(function, "C_Finalize") == 0 || strcmp(function, "C_GetInfo") == 0;
}

/* The rules' verdict on one call of function (len: the bytes it signs, -1
 * for a call that signs nothing): a CKR to answer instead of forwarding
 * (CKR_OK: forward), after waiting the delays it asks for. */
static CK_RV before_len(const char *function, long len)
{
	unsigned long ms = 0;
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&lock);
	load_config(NULL, 0);
	for (size_t i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];

		if (strcmp(r->function, function) != 0 && (strcmp(r->function, "*") != 0 || exempt_from_star(function)))
			continue;
		if (r->delay) {
			ms += r->ms;
			continue;
		}
		if (r->has_len && (len < 0 || (unsigned long)len != r->len))
			continue;
		r->seen++;
		if (rv == CKR_OK && r->seen > r->after && (r->times == 0 || r->seen - r->after <= r->times))
			rv = r->rv;
	}
	if (ms > 0)
		counts.delays++;
	if (rv != CKR_OK)
		counts.faults++;
	if (ms > 0 || rv != CKR_OK)
		write_counters();
	pthread_mutex_unlock(&lock);
	if (ms > 0) {
		struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return rv;
}

static CK_RV before(const char *function)
{
	return before_len(function, -1);
}

static void session_opened(CK_SLOT_ID slot, CK_SESSION_HANDLE handle)
{
	pthread_mutex_lock(&lock);
	if (nsessions < MAX_SESSIONS)
		sessions[nsessions++] = (struct session){handle, slot};
	counts.opened++;
	if (nsessions > counts.max_open)
		counts.max_open = nsessions;
	write_counters();
	pthread_mutex_unlock(&lock);
}

/* all: every session of slot (C_CloseAllSessions); finalize: every session
 * (C_Finalize), counted as leaked: the application lost track of them. */
static void sessions_closed(CK_SESSION_HANDLE handle, CK_SLOT_ID slot, bool all, bool finalize)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nsessions;) {
		if (finalize || (all && sessions[i].slot == slot) || (!all && sessions[i].handle == handle)) {
			if (finalize)
				counts.leaked_at_finalize++;
			else
				counts.closed++;
			sessions[i] = sessions[--nsessions];
			continue;
		}
		i++;
	}
	if (finalize)
		counts.finalize++;
	write_counters();
	pthread_mutex_unlock(&lock);
}

static void counted(unsigned long *counter)
{
	pthread_mutex_lock(&lock);
	(*counter)++;
	write_counters();
	pthread_mutex_unlock(&lock);
}

/* Teardown calls are forwarded even when a fault is injected, and the fault
 * answered afterwards: a device that fails while closing still loses the
 * session, and a session the shim kept open behind the application's back
 * would be counted as the application's leak. */
static CK_RV teardown_result(CK_RV injected, CK_RV forwarded)
{
	return injected != CKR_OK ? injected : forwarded;
}

static CK_RV shim_C_Initialize(void *args)
{
	CK_RV rv = before("C_Initialize");

	if (rv != CKR_OK)
		return rv;
	rv = real->C_Initialize(args);
	counted(&counts.initialize);
	return rv;
}

static CK_RV shim_C_Finalize(void *reserved)
{
	CK_RV injected = before("C_Finalize"), rv = real->C_Finalize(reserved);

	if (rv == CKR_OK)
		sessions_closed(0, 0, true, true);
	return teardown_result(injected, rv);
}

static CK_RV shim_C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *app, CK_NOTIFY notify, CK_SESSION_HANDLE *s)
{
	CK_RV rv = before("C_OpenSession");

	if (rv != CKR_OK)
		return rv;
	rv = real->C_OpenSession(slot, flags, app, notify, s);
	if (rv == CKR_OK)
		session_opened(slot, *s);
	return rv;
}

static CK_RV shim_C_CloseSession(CK_SESSION_HANDLE s)
{
	CK_RV injected = before("C_CloseSession"), rv = real->C_CloseSession(s);

	if (rv == CKR_OK)
		sessions_closed(s, 0, false, false);
	return teardown_result(injected, rv);
}

static CK_RV shim_C_CloseAllSessions(CK_SLOT_ID slot)
{
	CK_RV injected = before("C_CloseAllSessions"), rv = real->C_CloseAllSessions(slot);

	if (rv == CKR_OK)
		sessions_closed(0, slot, true, false);
	return teardown_result(injected, rv);
}

static CK_RV shim_C_Logout(CK_SESSION_HANDLE s)
{
	CK_RV injected = before("C_Logout");

	return teardown_result(injected, real->C_Logout(s));
}

static CK_RV shim_C_Login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	CK_RV rv = before("C_Login");

	if (rv != CKR_OK)
		return rv;
	rv = real->C_Login(s, user, pin, pin_len);
	if (rv == CKR_OK)
		counted(&counts.login);
	return rv;
}

/* The count the tests compare with the operations answered: a C_Sign that
 * returned a signature is one signature made inside the HSM. */
static CK_RV shim_C_Sign(CK_SESSION_HANDLE s, CK_BYTE *data, CK_ULONG len, CK_BYTE *sig, CK_ULONG *sig_len)
{
	bool forwarded;
	CK_RV rv;

	pthread_mutex_lock(&lock);
	if (++counts.sign_active > counts.sign_concurrent_max)
		counts.sign_concurrent_max = counts.sign_active;
	pthread_mutex_unlock(&lock);
	rv = before_len("C_Sign", (long)len);
	forwarded = rv == CKR_OK;
	if (forwarded)
		rv = real->C_Sign(s, data, len, sig, sig_len);
	pthread_mutex_lock(&lock);
	counts.sign_active--;
	if (!forwarded) {
		write_counters();
		pthread_mutex_unlock(&lock);
		return rv;
	}
	counts.sign_forwarded++;
	if (rv == CKR_OK && sig != NULL)
		counts.sign_ok++;
	write_counters();
	pthread_mutex_unlock(&lock);
	return rv;
}

/* Every other function: the rules' verdict, then the real module. */
#define FORWARD(name, params, args)                                                                                    \
	static CK_RV shim_##name params                                                                                \
	{                                                                                                              \
		CK_RV rv = before(#name);                                                                              \
		if (rv != CKR_OK)                                                                                      \
			return rv;                                                                                     \
		if (real->name == NULL)                                                                                \
			return CKR_FUNCTION_NOT_SUPPORTED;                                                             \
		return real->name args;                                                                                \
	}
#include "p11_fault_forward.inc"
#undef FORWARD

static CK_RV shim_C_GetFunctionList(CK_FUNCTION_LIST **list);

static CK_FUNCTION_LIST shim = {
	.version = {2, 40},
#define ENTRY(name) .name = shim_##name
	ENTRY(C_Initialize), ENTRY(C_Finalize), ENTRY(C_GetInfo), ENTRY(C_GetFunctionList), ENTRY(C_GetSlotList),
	ENTRY(C_GetSlotInfo), ENTRY(C_GetTokenInfo), ENTRY(C_GetMechanismList), ENTRY(C_GetMechanismInfo),
	ENTRY(C_InitToken), ENTRY(C_InitPIN), ENTRY(C_SetPIN), ENTRY(C_OpenSession), ENTRY(C_CloseSession),
	ENTRY(C_CloseAllSessions), ENTRY(C_GetSessionInfo), ENTRY(C_GetOperationState), ENTRY(C_SetOperationState),
	ENTRY(C_Login), ENTRY(C_Logout), ENTRY(C_CreateObject), ENTRY(C_CopyObject), ENTRY(C_DestroyObject),
	ENTRY(C_GetObjectSize), ENTRY(C_GetAttributeValue), ENTRY(C_SetAttributeValue), ENTRY(C_FindObjectsInit),
	ENTRY(C_FindObjects), ENTRY(C_FindObjectsFinal), ENTRY(C_EncryptInit), ENTRY(C_Encrypt),
	ENTRY(C_EncryptUpdate), ENTRY(C_EncryptFinal), ENTRY(C_DecryptInit), ENTRY(C_Decrypt),
	ENTRY(C_DecryptUpdate), ENTRY(C_DecryptFinal), ENTRY(C_DigestInit), ENTRY(C_Digest), ENTRY(C_DigestUpdate),
	ENTRY(C_DigestKey), ENTRY(C_DigestFinal), ENTRY(C_SignInit), ENTRY(C_Sign), ENTRY(C_SignUpdate),
	ENTRY(C_SignFinal), ENTRY(C_SignRecoverInit), ENTRY(C_SignRecover), ENTRY(C_VerifyInit), ENTRY(C_Verify),
	ENTRY(C_VerifyUpdate), ENTRY(C_VerifyFinal), ENTRY(C_VerifyRecoverInit), ENTRY(C_VerifyRecover),
	ENTRY(C_DigestEncryptUpdate), ENTRY(C_DecryptDigestUpdate), ENTRY(C_SignEncryptUpdate),
	ENTRY(C_DecryptVerifyUpdate), ENTRY(C_GenerateKey), ENTRY(C_GenerateKeyPair), ENTRY(C_WrapKey),
	ENTRY(C_UnwrapKey), ENTRY(C_DeriveKey), ENTRY(C_SeedRandom), ENTRY(C_GenerateRandom),
	ENTRY(C_GetFunctionStatus), ENTRY(C_CancelFunction), ENTRY(C_WaitForSlotEvent),
#undef ENTRY
};

/* Loads the real module once. The shim pins itself in memory: an
 * application that finalizes and unloads it to recover (as the sign node
 * does) gets the same counters back when it loads it again. */
static CK_RV load_real(void)
{
	char module[4096] = DEFAULT_MODULE;
	CK_C_GetFunctionList get;
	Dl_info self;
	void *dl;

	pthread_mutex_lock(&lock);
	if (real != NULL) {
		pthread_mutex_unlock(&lock);
		return CKR_OK;
	}
	load_config(module, sizeof(module));
	pthread_mutex_unlock(&lock);
	if (dladdr((void *)&load_real, &self) != 0 && self.dli_fname != NULL)
		dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
	dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "p11-fault: cannot load %s: %s\n", module, dlerror());
		return CKR_GENERAL_ERROR;
	}
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (get == NULL || get(&real) != CKR_OK || real == NULL) {
		fprintf(stderr, "p11-fault: %s is not a PKCS#11 module\n", module);
		real = NULL;
		return CKR_GENERAL_ERROR;
	}
	return CKR_OK;
}

static CK_RV shim_C_GetFunctionList(CK_FUNCTION_LIST **list)
{
	CK_RV rv;

	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = load_real();
	if (rv == CKR_OK)
		*list = &shim;
	return rv;
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list)
{
	return shim_C_GetFunctionList(list);
}
