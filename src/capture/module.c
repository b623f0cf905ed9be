/* The PKCS#11 entry points of the capture module (Cryptoki 2.40).
 *
 * One slot, one token: the public bundle. Every entry point takes one
 * process-wide mutex, which is what CKF_OS_LOCKING_OK promises and is
 * cheap next to what clients do between calls. Entry points return CK_RV;
 * the ROMBSR_E* detail of a failure goes to stderr as one line, because a
 * client shows nothing but the CKR code. */
#define _GNU_SOURCE
#include "capture.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define SLOT_ID 0
#define MAX_SESSIONS 1024
#define FIRST_SESSION_OBJECT 0x100000UL
/* Placeholders remembered for verification: apksig verifies each one
 * right after making it, so the most recent few thousand are plenty, and
 * a long-lived client cannot grow the table without bound. */
#define MAX_ISSUED 4096

struct cap_opctx {
	bool active;
	bool multipart;              /* C_*Update was called: C_Sign/C_Verify no longer allowed */
	const struct rombsr_cap_mech *mech;
	struct rombsr_cap_pss pss;
	CK_OBJECT_HANDLE key;
	EVP_MD_CTX *md;              /* hash mechanisms */
	unsigned char raw[ROMBSR_CAP_TBS_MAX];
	size_t raw_len;
};

struct cap_session {
	CK_SESSION_HANDLE handle;
	CK_FLAGS flags;
	struct cap_opctx sign, verify;
	bool finding;
	CK_OBJECT_HANDLE *found;
	size_t nfound, pos;
};

static struct {
	bool initialized;
	struct cap_config cfg;
	struct rombsr_bundle bundle;
	struct rombsr_cap_signature *sigs;
	size_t nsigs;
	struct cap_object **objects;
	size_t nobjects;
	struct cap_session **sessions;
	size_t nsessions;
	bool logged_in;
	CK_SESSION_HANDLE next_session;
	CK_OBJECT_HANDLE next_object;
	struct cap_placeholder *issued;   /* ring of placeholders this process handed out */
	size_t nissued, next_issued;
	CK_ULONG rsa_min_bits, rsa_max_bits;
} g;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void cap_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf: lines of concurrent threads do not interleave. */
	fprintf(stderr, "rombsr-capture: %s\n", line);
}

static void pad(unsigned char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	memset(dst, ' ', size);
	memcpy(dst, s, n < size ? n : size);
}

/* ---- state ---- */

static void opctx_end(struct cap_opctx *c)
{
	EVP_MD_CTX_free(c->md);
	OPENSSL_cleanse(c, sizeof(*c));
}

static void session_free(struct cap_session *s)
{
	if (s == NULL)
		return;
	opctx_end(&s->sign);
	opctx_end(&s->verify);
	free(s->found);
	free(s);
}

static struct cap_session *find_session(CK_SESSION_HANDLE h)
{
	for (size_t i = 0; i < g.nsessions; i++)
		if (g.sessions[i]->handle == h)
			return g.sessions[i];
	return NULL;
}

/* An object the caller may see: private ones only after login. */
static struct cap_object *find_object(CK_OBJECT_HANDLE h)
{
	for (size_t i = 0; i < g.nobjects; i++)
		if (g.objects[i]->handle == h)
			return g.objects[i]->is_private && !g.logged_in ? NULL : g.objects[i];
	return NULL;
}

static int add_object(struct cap_object *o)
{
	struct cap_object **grown = realloc(g.objects, (g.nobjects + 1) * sizeof(*g.objects));

	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	g.objects = grown;
	g.objects[g.nobjects++] = o;
	return 0;
}

static void remove_object_at(size_t i)
{
	CK_OBJECT_HANDLE h = g.objects[i]->handle;

	/* Operations that use the key end with it. */
	for (size_t s = 0; s < g.nsessions; s++) {
		if (g.sessions[s]->sign.active && g.sessions[s]->sign.key == h)
			opctx_end(&g.sessions[s]->sign);
		if (g.sessions[s]->verify.active && g.sessions[s]->verify.key == h)
			opctx_end(&g.sessions[s]->verify);
	}
	cap_object_free(g.objects[i]);
	g.objects[i] = g.objects[--g.nobjects];
}

static void close_session_at(size_t i)
{
	CK_SESSION_HANDLE h = g.sessions[i]->handle;

	for (size_t o = 0; o < g.nobjects;) {
		if (g.objects[o]->owner == h)
			remove_object_at(o);
		else
			o++;
	}
	session_free(g.sessions[i]);
	g.sessions[i] = g.sessions[--g.nsessions];
	/* Login state belongs to the application's sessions: it ends with
	 * the last one (PKCS#11 2.40 section 5.6). */
	if (g.nsessions == 0)
		g.logged_in = false;
}

static void state_free(void)
{
	while (g.nsessions > 0)
		close_session_at(g.nsessions - 1);
	free(g.sessions);
	for (size_t i = 0; i < g.nobjects; i++)
		cap_object_free(g.objects[i]);
	free(g.objects);
	if (g.sigs != NULL)
		OPENSSL_cleanse(g.sigs, g.nsigs * sizeof(*g.sigs));
	free(g.sigs);
	if (g.issued != NULL)
		OPENSSL_cleanse(g.issued, g.nissued * sizeof(*g.issued));
	free(g.issued);
	rombsr_bundle_free(&g.bundle);
	cap_config_free(&g.cfg);
	memset(&g, 0, sizeof(g));
}

static int state_load(void)
{
	int r;

	r = cap_config_load(&g.cfg);
	/* Bundle errors name the file already. */
	if (r == 0)
		r = rombsr_bundle_load(g.cfg.bundle, &g.bundle);
	if (r == 0 && g.cfg.signatures != NULL)
		r = rombsr_cap_sigset_read(g.cfg.signatures, &g.sigs, &g.nsigs);
	for (size_t i = 0; r == 0 && i < g.nsigs; i++) {
		const struct rombsr_bundle_key *k = rombsr_bundle_find_spki(&g.bundle, g.sigs[i].op.spki_sha256);

		if (k == NULL)
			r = rombsr_error(ROMBSR_EINVAL, "%s: signatures[%zu] is for key '%s' (%.16s...), not in the bundle",
					 g.cfg.signatures, i, g.sigs[i].op.label, g.sigs[i].op.spki_sha256);
	}
	g.rsa_min_bits = 0;
	for (size_t i = 0; r == 0 && i < g.bundle.len; i++) {
		const struct rombsr_bundle_key *k = &g.bundle.keys[i];
		struct cap_object *objs[3];

		if (k->kind == ROMBSR_KEY_RSA) {
			if (g.rsa_min_bits == 0 || k->bits < g.rsa_min_bits)
				g.rsa_min_bits = k->bits;
			if (k->bits > g.rsa_max_bits)
				g.rsa_max_bits = k->bits;
		}
		r = cap_objects_for_key(k, 3 * i + 1, objs);
		for (int j = 0; j < 3 && r == 0; j++) {
			r = add_object(objs[j]);
			if (r < 0)
				for (int m = j; m < 3; m++)
					cap_object_free(objs[m]);
		}
	}
	if (g.rsa_min_bits == 0) {
		g.rsa_min_bits = 2048;
		g.rsa_max_bits = 4096;
	}
	g.next_session = 1;
	g.next_object = FIRST_SESSION_OBJECT;
	return r;
}

/* ---- general ---- */

static CK_FUNCTION_LIST function_list;

static CK_RV cap_C_Initialize(CK_VOID_PTR pInitArgs)
{
	CK_C_INITIALIZE_ARGS *args = pInitArgs;
	CK_RV rv = CKR_OK;
	int r;

	if (args != NULL) {
		bool some = args->CreateMutex || args->DestroyMutex || args->LockMutex || args->UnlockMutex;
		bool all = args->CreateMutex && args->DestroyMutex && args->LockMutex && args->UnlockMutex;

		if (args->pReserved != NULL || (some && !all))
			return CKR_ARGUMENTS_BAD;
		/* We lock with pthreads; an application that insists on its
		 * own primitives only cannot have us. */
		if (all && !(args->flags & CKF_OS_LOCKING_OK))
			return CKR_CANT_LOCK;
	}
	pthread_mutex_lock(&lock);
	if (g.initialized) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	rombsr_error_clear();
	r = state_load();
	if (r < 0) {
		cap_log("%s", rombsr_error_message(r));
		state_free();
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	g.initialized = true;
out:
	pthread_mutex_unlock(&lock);
	return rv;
}

static CK_RV cap_C_Finalize(CK_VOID_PTR pReserved)
{
	CK_RV rv = CKR_OK;

	if (pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&lock);
	if (!g.initialized)
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;
	else
		state_free();
	pthread_mutex_unlock(&lock);
	return rv;
}

static CK_RV cap_C_GetInfo(CK_INFO_PTR pInfo)
{
	CK_RV rv = CKR_OK;

	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&lock);
	if (!g.initialized) {
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;
	} else {
		memset(pInfo, 0, sizeof(*pInfo));
		pInfo->cryptokiVersion.major = 2;
		pInfo->cryptokiVersion.minor = 40;
		pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "ROMbsr");
		pad(pInfo->libraryDescription, sizeof(pInfo->libraryDescription), "ROMbsr capture module");
		pInfo->libraryVersion.major = 1;
		pInfo->libraryVersion.minor = 0;
	}
	pthread_mutex_unlock(&lock);
	return rv;
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (ppFunctionList == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &function_list;
	return CKR_OK;
}

/* ---- slot and token ---- */

#define LOCKED_BEGIN()                                  \
	CK_RV rv = CKR_OK;                              \
	pthread_mutex_lock(&lock);                      \
	if (!g.initialized) {                           \
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;      \
		goto out;                               \
	}

#define LOCKED_END()                                    \
	out:                                            \
	pthread_mutex_unlock(&lock);                    \
	return rv;

#define SESSION(s, h)                                   \
	struct cap_session *s = find_session(h);       \
	if (s == NULL) {                                \
		rv = CKR_SESSION_HANDLE_INVALID;        \
		goto out;                               \
	}

static CK_RV cap_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	(void)tokenPresent;
	LOCKED_BEGIN();
	if (pulCount == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (pSlotList == NULL) {
		*pulCount = 1;
	} else if (*pulCount < 1) {
		*pulCount = 1;
		rv = CKR_BUFFER_TOO_SMALL;
	} else {
		pSlotList[0] = SLOT_ID;
		*pulCount = 1;
	}
	LOCKED_END();
}

static CK_RV cap_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	LOCKED_BEGIN();
	if (slotID != SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		memset(pInfo, 0, sizeof(*pInfo));
		pad(pInfo->slotDescription, sizeof(pInfo->slotDescription), "ROMbsr capture (public bundle)");
		pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "ROMbsr");
		pInfo->flags = CKF_TOKEN_PRESENT;
		pInfo->hardwareVersion.major = 1;
		pInfo->firmwareVersion.major = 1;
	}
	LOCKED_END();
}

static CK_RV cap_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	LOCKED_BEGIN();
	if (slotID != SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		CK_ULONG rw = 0;

		for (size_t i = 0; i < g.nsessions; i++)
			rw += (g.sessions[i]->flags & CKF_RW_SESSION) != 0;
		memset(pInfo, 0, sizeof(*pInfo));
		pad(pInfo->label, sizeof(pInfo->label), "rombsr-capture");
		pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "ROMbsr");
		pad(pInfo->model, sizeof(pInfo->model), g.cfg.mode == CAP_MODE_CAPTURE ? "capture" : "replay");
		/* The serial names the bundle, so a client that caches by serial
		 * notices a new bundle. */
		pad(pInfo->serialNumber, sizeof(pInfo->serialNumber), "");
		memcpy(pInfo->serialNumber, g.bundle.manifest_sha256, sizeof(pInfo->serialNumber));
		/* Login is required because clients only look for private keys
		 * after logging in; any PIN is accepted (docs/capture.md). */
		pInfo->flags = CKF_RNG | CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
		pInfo->ulMaxSessionCount = MAX_SESSIONS;
		pInfo->ulSessionCount = g.nsessions;
		pInfo->ulMaxRwSessionCount = MAX_SESSIONS;
		pInfo->ulRwSessionCount = rw;
		pInfo->ulMaxPinLen = 255;
		pInfo->ulMinPinLen = 0;
		pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
		pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
		pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
		pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
		pInfo->hardwareVersion.major = 1;
		pInfo->firmwareVersion.major = 1;
		pad(pInfo->utcTime, sizeof(pInfo->utcTime), "");
	}
	LOCKED_END();
}

static CK_RV cap_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pList, CK_ULONG_PTR pulCount)
{
	LOCKED_BEGIN();
	if (slotID != SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (pulCount == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (pList == NULL) {
		*pulCount = rombsr_cap_mechs_len;
	} else if (*pulCount < rombsr_cap_mechs_len) {
		*pulCount = rombsr_cap_mechs_len;
		rv = CKR_BUFFER_TOO_SMALL;
	} else {
		for (size_t i = 0; i < rombsr_cap_mechs_len; i++)
			pList[i] = rombsr_cap_mechs[i].type;
		*pulCount = rombsr_cap_mechs_len;
	}
	LOCKED_END();
}

static CK_RV cap_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	const struct rombsr_cap_mech *m = rombsr_cap_mech_by_type(type);

	LOCKED_BEGIN();
	if (slotID != SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (m == NULL) {
		rv = CKR_MECHANISM_INVALID;
	} else if (m->kind == ROMBSR_KEY_RSA) {
		pInfo->ulMinKeySize = g.rsa_min_bits;
		pInfo->ulMaxKeySize = g.rsa_max_bits;
		pInfo->flags = CKF_SIGN | CKF_VERIFY;
	} else {
		pInfo->ulMinKeySize = 256;
		pInfo->ulMaxKeySize = 256;
		pInfo->flags = CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	}
	LOCKED_END();
}

/* ---- sessions and login ---- */

static CK_RV cap_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
			       CK_SESSION_HANDLE_PTR phSession)
{
	struct cap_session *s, **grown;

	(void)pApplication;
	(void)Notify;
	LOCKED_BEGIN();
	if (slotID != SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
		goto out;
	}
	if (phSession == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (!(flags & CKF_SERIAL_SESSION)) {
		rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
		goto out;
	}
	if (g.nsessions >= MAX_SESSIONS) {
		rv = CKR_SESSION_COUNT;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	grown = s != NULL ? realloc(g.sessions, (g.nsessions + 1) * sizeof(*g.sessions)) : NULL;
	if (grown == NULL) {
		free(s);
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	g.sessions = grown;
	s->handle = g.next_session++;
	s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
	g.sessions[g.nsessions++] = s;
	*phSession = s->handle;
	LOCKED_END();
}

static CK_RV cap_C_CloseSession(CK_SESSION_HANDLE hSession)
{
	LOCKED_BEGIN();
	rv = CKR_SESSION_HANDLE_INVALID;
	for (size_t i = 0; i < g.nsessions; i++) {
		if (g.sessions[i]->handle == hSession) {
			close_session_at(i);
			rv = CKR_OK;
			break;
		}
	}
	LOCKED_END();
}

static CK_RV cap_C_CloseAllSessions(CK_SLOT_ID slotID)
{
	LOCKED_BEGIN();
	if (slotID != SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
		goto out;
	}
	while (g.nsessions > 0)
		close_session_at(g.nsessions - 1);
	LOCKED_END();
}

static CK_RV cap_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->slotID = SLOT_ID;
	pInfo->flags = s->flags;
	if (s->flags & CKF_RW_SESSION)
		pInfo->state = g.logged_in ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
	else
		pInfo->state = g.logged_in ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
	LOCKED_END();
}

/* Any PIN is accepted: the module holds no secret for a PIN to protect,
 * and the tools insist on logging in before they look for private keys.
 * What protects the keys is that they are not here. */
static CK_RV cap_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	if (pPin == NULL && ulPinLen > 0) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (userType == CKU_USER) {
		if (g.logged_in)
			rv = CKR_USER_ALREADY_LOGGED_IN;
		else
			g.logged_in = true;
	} else if (userType == CKU_CONTEXT_SPECIFIC) {
		rv = g.logged_in ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
	} else {
		/* No security officer: nothing on this token can be changed. */
		rv = CKR_USER_TYPE_INVALID;
	}
	LOCKED_END();
}

static CK_RV cap_C_Logout(CK_SESSION_HANDLE hSession)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	if (!g.logged_in) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	g.logged_in = false;
	/* Signing operations used private objects that are now invisible. */
	for (size_t i = 0; i < g.nsessions; i++)
		if (g.sessions[i]->sign.active)
			opctx_end(&g.sessions[i]->sign);
	LOCKED_END();
}

/* ---- objects ---- */

static CK_RV cap_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
				CK_OBJECT_HANDLE_PTR phObject)
{
	struct cap_object *o = NULL;

	LOCKED_BEGIN();
	SESSION(s, hSession);
	if ((pTemplate == NULL && ulCount > 0) || phObject == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	rv = cap_object_from_template(pTemplate, ulCount, g.next_object, s->handle, &o);
	if (rv != CKR_OK)
		goto out;
	if (add_object(o) < 0) {
		cap_object_free(o);
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	*phObject = g.next_object++;
	LOCKED_END();
}

static CK_RV cap_C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	rv = CKR_OBJECT_HANDLE_INVALID;
	for (size_t i = 0; i < g.nobjects; i++) {
		if (g.objects[i]->handle != hObject || (g.objects[i]->is_private && !g.logged_in))
			continue;
		if (g.objects[i]->owner == 0) {
			rv = CKR_ACTION_PROHIBITED;
		} else {
			remove_object_at(i);
			rv = CKR_OK;
		}
		break;
	}
	LOCKED_END();
}

static CK_RV cap_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
	struct cap_object *o;

	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	o = find_object(hObject);
	if (o == NULL) {
		rv = CKR_OBJECT_HANDLE_INVALID;
	} else if (pulSize == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		*pulSize = 0;
		for (size_t i = 0; i < o->nattrs; i++)
			*pulSize += o->attrs[i].len;
	}
	LOCKED_END();
}

static CK_RV cap_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
				     CK_ULONG ulCount)
{
	struct cap_object *o;

	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	o = find_object(hObject);
	if (o == NULL) {
		rv = CKR_OBJECT_HANDLE_INVALID;
		goto out;
	}
	if (pTemplate == NULL && ulCount > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	/* Every attribute is processed; the first failure is reported
	 * (PKCS#11 2.40 section 5.7, C_GetAttributeValue). */
	for (CK_ULONG i = 0; i < ulCount; i++) {
		const struct cap_attr *a = cap_object_attr(o, pTemplate[i].type);
		CK_RV this = CKR_OK;

		if (a == NULL) {
			pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			this = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (a->sensitive) {
			pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			this = CKR_ATTRIBUTE_SENSITIVE;
		} else if (pTemplate[i].pValue == NULL) {
			pTemplate[i].ulValueLen = a->len;
		} else if (pTemplate[i].ulValueLen < a->len) {
			pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			this = CKR_BUFFER_TOO_SMALL;
		} else {
			if (a->len > 0)
				memcpy(pTemplate[i].pValue, a->value, a->len);
			pTemplate[i].ulValueLen = a->len;
		}
		if (rv == CKR_OK)
			rv = this;
	}
	LOCKED_END();
}

static CK_RV cap_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (s->finding) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if (pTemplate == NULL && ulCount > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	free(s->found);
	s->found = calloc(g.nobjects + 1, sizeof(*s->found));
	s->nfound = s->pos = 0;
	if (s->found == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < g.nobjects; i++) {
		const struct cap_object *o = g.objects[i];

		if ((o->is_private && !g.logged_in) || !cap_object_matches(o, pTemplate, ulCount))
			continue;
		s->found[s->nfound++] = o->handle;
	}
	s->finding = true;
	LOCKED_END();
}

static CK_RV cap_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
			       CK_ULONG_PTR pulObjectCount)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (!s->finding) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	if (pulObjectCount == NULL || (phObject == NULL && ulMaxObjectCount > 0)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	*pulObjectCount = 0;
	while (s->pos < s->nfound && *pulObjectCount < ulMaxObjectCount)
		phObject[(*pulObjectCount)++] = s->found[s->pos++];
	LOCKED_END();
}

static CK_RV cap_C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (!s->finding) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	free(s->found);
	s->found = NULL;
	s->nfound = s->pos = 0;
	s->finding = false;
	LOCKED_END();
}

/* ---- signing and verifying ---- */

static const char *mech_name(CK_MECHANISM_TYPE type)
{
	const struct rombsr_cap_mech *m = rombsr_cap_mech_by_type(type);
	static _Thread_local char hex[32];

	if (m != NULL)
		return m->name;
	snprintf(hex, sizeof(hex), "mechanism 0x%lx", (unsigned long)type);
	return hex;
}

static CK_RV op_init(const char *fn, struct cap_opctx *c, CK_MECHANISM_PTR pMechanism, struct cap_object *key)
{
	const struct rombsr_cap_mech *m;
	int r;

	if (pMechanism == NULL)
		return CKR_ARGUMENTS_BAD;
	if (c->active)
		return CKR_OPERATION_ACTIVE;
	m = rombsr_cap_mech_by_type(pMechanism->mechanism);
	if (m == NULL) {
		cap_log("%s: key '%s': %s is not supported", fn, key->label, mech_name(pMechanism->mechanism));
		return CKR_MECHANISM_INVALID;
	}
	if (m->kind != key->kind) {
		cap_log("%s: key '%s' is %s and cannot be used with %s", fn, key->label,
			key->kind == ROMBSR_KEY_RSA ? "RSA" : "EC P-256", m->name);
		return CKR_KEY_TYPE_INCONSISTENT;
	}
	memset(c, 0, sizeof(*c));
	if (m->pss) {
		const CK_RSA_PKCS_PSS_PARAMS *p = pMechanism->pParameter;

		if (p == NULL || pMechanism->ulParameterLen != sizeof(*p)) {
			cap_log("%s: key '%s': %s needs CK_RSA_PKCS_PSS_PARAMS", fn, key->label, m->name);
			return CKR_MECHANISM_PARAM_INVALID;
		}
		c->pss.hash = p->hashAlg;
		c->pss.mgf = p->mgf;
		c->pss.salt_len = p->sLen;
		r = rombsr_cap_pss_check(m, &c->pss, key->sig_len);
		if (r < 0) {
			cap_log("%s: key '%s': %s", fn, key->label, rombsr_error_message(r));
			memset(c, 0, sizeof(*c));
			return CKR_MECHANISM_PARAM_INVALID;
		}
	} else if (pMechanism->ulParameterLen != 0) {
		cap_log("%s: key '%s': %s takes no parameter", fn, key->label, m->name);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (m->hash != NULL) {
		c->md = EVP_MD_CTX_new();
		if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_get_digestbyname(m->hash), NULL) != 1) {
			opctx_end(c);
			return CKR_HOST_MEMORY;
		}
	}
	c->mech = m;
	c->key = key->handle;
	c->active = true;
	return CKR_OK;
}

static CK_RV op_update(const char *fn, struct cap_opctx *c, const struct cap_object *key, const unsigned char *data,
		       CK_ULONG len)
{
	if (data == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	if (c->md != NULL) {
		if (len > 0 && EVP_DigestUpdate(c->md, data, len) != 1)
			return CKR_FUNCTION_FAILED;
		return CKR_OK;
	}
	if (len > sizeof(c->raw) - c->raw_len) {
		cap_log("%s: key '%s': %s input longer than %zu bytes", fn, key->label, c->mech->name, sizeof(c->raw));
		return CKR_DATA_LEN_RANGE;
	}
	memcpy(c->raw + c->raw_len, data, len);
	c->raw_len += len;
	return CKR_OK;
}

/* The operation as the journal names it: digest computed here for hash
 * mechanisms, the client's bytes for raw ones. */
static CK_RV op_describe(struct cap_opctx *c, const struct cap_object *key, struct rombsr_cap_op *op)
{
	unsigned int n = 0;

	memset(op, 0, sizeof(*op));
	snprintf(op->label, sizeof(op->label), "%s", key->label);
	memcpy(op->spki_sha256, key->spki_sha256, sizeof(op->spki_sha256));
	op->mech = c->mech;
	op->pss = c->pss;
	if (c->md != NULL) {
		if (EVP_DigestFinal_ex(c->md, op->tbs, &n) != 1)
			return CKR_FUNCTION_FAILED;
		op->tbs_len = n;
	} else {
		memcpy(op->tbs, c->raw, c->raw_len);
		op->tbs_len = c->raw_len;
	}
	return CKR_OK;
}

static const struct rombsr_cap_signature *sigset_find(const struct rombsr_cap_op *op)
{
	for (size_t i = 0; i < g.nsigs; i++)
		if (rombsr_cap_op_same(&g.sigs[i].op, op))
			return &g.sigs[i];
	return NULL;
}

static void tbs_hex(const struct rombsr_cap_op *op, char *out)
{
	size_t n = op->tbs_len > 64 ? 64 : op->tbs_len;

	rombsr_hex_encode(op->tbs, n, out);
	if (n < op->tbs_len)
		strcpy(out + 2 * n, "...");
}

static CK_RV issue_placeholder(const struct rombsr_cap_op *op, const struct cap_object *key, unsigned char *sig)
{
	struct rombsr_cap_entry e;
	struct cap_placeholder ph;
	int r;

	memset(&e, 0, sizeof(e));
	r = cap_make_placeholder(op, key->sig_len, &ph, e.id);
	if (r < 0) {
		cap_log("C_Sign: key '%s': %s", key->label, rombsr_error_message(r));
		return CKR_FUNCTION_FAILED;
	}
	if (g.issued == NULL) {
		g.issued = calloc(MAX_ISSUED, sizeof(*g.issued));
		if (g.issued == NULL)
			return CKR_HOST_MEMORY;
	}
	e.op = *op;
	e.sig_len = key->sig_len;
	cap_entry_stamp(&e);
	/* Journal first: a placeholder nobody recorded would be a signature
	 * the sign side never hears of. */
	r = cap_journal_append(g.cfg.journal, &e);
	if (r < 0) {
		cap_log("C_Sign: key '%s', %s: %s", key->label, op->mech->name, rombsr_error_message(r));
		return CKR_DEVICE_ERROR;
	}
	g.issued[g.next_issued] = ph;
	g.next_issued = (g.next_issued + 1) % MAX_ISSUED;
	if (g.nissued < MAX_ISSUED)
		g.nissued++;
	memcpy(sig, ph.sig, ph.sig_len);
	return CKR_OK;
}

static CK_RV sign_finish(const char *fn, struct cap_opctx *c, unsigned char *sig)
{
	struct cap_object *key = find_object(c->key);
	const struct rombsr_cap_signature *known;
	struct rombsr_cap_op op;
	char tbs[2 * 64 + 4];
	CK_RV rv;
	int r;

	if (key == NULL)
		return CKR_KEY_HANDLE_INVALID;
	rv = op_describe(c, key, &op);
	if (rv != CKR_OK)
		return rv;
	tbs_hex(&op, tbs);
	r = cap_check_raw_input(&op, key->sig_len);
	if (r < 0) {
		cap_log("%s: key '%s': %s", fn, key->label, rombsr_error_message(r));
		return CKR_DATA_LEN_RANGE;
	}
	known = sigset_find(&op);
	if (known != NULL) {
		/* The set comes from elsewhere: what we hand out must verify
		 * against the bundle key, or the artifact would carry garbage. */
		if (known->sig_len != key->sig_len || cap_verify_real(key->pkey, &op, known->sig, known->sig_len) < 0) {
			cap_log("%s: key '%s', %s, digest %s: the signature in %s does not verify", fn, key->label,
				op.mech->name, tbs, g.cfg.signatures);
			return CKR_FUNCTION_FAILED;
		}
		memcpy(sig, known->sig, known->sig_len);
		return CKR_OK;
	}
	if (g.cfg.mode == CAP_MODE_REPLAY) {
		cap_log("%s: replay: no signature for key '%s' (%.16s), %s, digest %s in %s", fn, key->label,
			key->spki_sha256, op.mech->name, tbs, g.cfg.signatures);
		return CKR_FUNCTION_FAILED;
	}
	return issue_placeholder(&op, key, sig);
}

static CK_RV sign_init_common(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct cap_object *key;

	LOCKED_BEGIN();
	SESSION(s, hSession);
	key = find_object(hKey);
	if (key == NULL) {
		rv = g.logged_in ? CKR_KEY_HANDLE_INVALID : CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	if (key->klass != CKO_PRIVATE_KEY) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto out;
	}
	rv = op_init("C_SignInit", &s->sign, pMechanism, key);
	LOCKED_END();
}

static CK_RV cap_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return sign_init_common(hSession, pMechanism, hKey);
}

/* Shared by C_Sign and C_SignFinal: the length rules of PKCS#11 2.40
 * section 5.2 (NULL buffer: report the length; too small: report it and
 * keep the operation), then the signature. Any other outcome ends the
 * operation. */
static CK_RV sign_output(const char *fn, struct cap_session *s, const unsigned char *data, CK_ULONG len,
			 bool single, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	struct cap_object *key = find_object(s->sign.key);
	CK_RV rv;

	if (key == NULL) {
		opctx_end(&s->sign);
		return CKR_KEY_HANDLE_INVALID;
	}
	if (pulSignatureLen == NULL) {
		opctx_end(&s->sign);
		return CKR_ARGUMENTS_BAD;
	}
	if (pSignature == NULL) {
		*pulSignatureLen = key->sig_len;
		return CKR_OK;
	}
	if (*pulSignatureLen < key->sig_len) {
		*pulSignatureLen = key->sig_len;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (single && s->sign.multipart) {
		opctx_end(&s->sign);
		return CKR_FUNCTION_FAILED;
	}
	rv = single ? op_update(fn, &s->sign, key, data, len) : CKR_OK;
	if (rv == CKR_OK)
		rv = sign_finish(fn, &s->sign, pSignature);
	if (rv == CKR_OK)
		*pulSignatureLen = key->sig_len;
	opctx_end(&s->sign);
	return rv;
}

static CK_RV cap_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
			CK_ULONG_PTR pulSignatureLen)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (!s->sign.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	rv = sign_output("C_Sign", s, pData, ulDataLen, true, pSignature, pulSignatureLen);
	LOCKED_END();
}

static CK_RV cap_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct cap_object *key;

	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (!s->sign.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	key = find_object(s->sign.key);
	rv = key != NULL ? op_update("C_SignUpdate", &s->sign, key, pPart, ulPartLen) : CKR_KEY_HANDLE_INVALID;
	s->sign.multipart = true;
	if (rv != CKR_OK)
		opctx_end(&s->sign);
	LOCKED_END();
}

static CK_RV cap_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (!s->sign.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	rv = sign_output("C_SignFinal", s, NULL, 0, false, pSignature, pulSignatureLen);
	LOCKED_END();
}

static CK_RV cap_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct cap_object *key;

	LOCKED_BEGIN();
	SESSION(s, hSession);
	key = find_object(hKey);
	if (key == NULL) {
		rv = CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	if (key->klass != CKO_PUBLIC_KEY) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto out;
	}
	rv = op_init("C_VerifyInit", &s->verify, pMechanism, key);
	LOCKED_END();
}

/* A placeholder this process issued verifies only for the key, mechanism
 * and bytes it was issued for; everything else is verified for real. */
static CK_RV verify_finish(struct cap_opctx *c, const unsigned char *sig, CK_ULONG sig_len)
{
	struct cap_object *key = find_object(c->key);
	struct rombsr_cap_op op;
	CK_RV rv;

	if (key == NULL)
		return CKR_KEY_HANDLE_INVALID;
	if (sig == NULL)
		return CKR_ARGUMENTS_BAD;
	if (sig_len != key->sig_len)
		return CKR_SIGNATURE_LEN_RANGE;
	rv = op_describe(c, key, &op);
	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; i < g.nissued; i++) {
		const struct cap_placeholder *ph = &g.issued[i];

		if (ph->sig_len != sig_len || CRYPTO_memcmp(ph->sig, sig, sig_len) != 0)
			continue;
		if (rombsr_cap_op_same(&ph->op, &op))
			return CKR_OK;
		cap_log("C_Verify: a placeholder of key '%s' presented for other data or another key ('%s', %s)",
			ph->op.label, key->label, op.mech->name);
		return CKR_SIGNATURE_INVALID;
	}
	return cap_verify_real(key->pkey, &op, sig, sig_len) == 0 ? CKR_OK : CKR_SIGNATURE_INVALID;
}

static CK_RV cap_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
			  CK_ULONG ulSignatureLen)
{
	struct cap_object *key;

	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (!s->verify.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	key = find_object(s->verify.key);
	if (key == NULL)
		rv = CKR_KEY_HANDLE_INVALID;
	else if (s->verify.multipart)
		rv = CKR_FUNCTION_FAILED;
	else
		rv = op_update("C_Verify", &s->verify, key, pData, ulDataLen);
	if (rv == CKR_OK)
		rv = verify_finish(&s->verify, pSignature, ulSignatureLen);
	opctx_end(&s->verify);
	LOCKED_END();
}

static CK_RV cap_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct cap_object *key;

	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (!s->verify.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	key = find_object(s->verify.key);
	rv = key != NULL ? op_update("C_VerifyUpdate", &s->verify, key, pPart, ulPartLen) : CKR_KEY_HANDLE_INVALID;
	s->verify.multipart = true;
	if (rv != CKR_OK)
		opctx_end(&s->verify);
	LOCKED_END();
}

static CK_RV cap_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	if (!s->verify.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	rv = verify_finish(&s->verify, pSignature, ulSignatureLen);
	opctx_end(&s->verify);
	LOCKED_END();
}

/* ---- not offered ---- */

/* Digests are not advertised (clients hash themselves, which is faster
 * than a round trip per chunk), so no digest operation can be started. */
static CK_RV cap_C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	(void)pMechanism;
	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	rv = CKR_MECHANISM_INVALID;
	LOCKED_END();
}

static CK_RV not_initialized_op(CK_SESSION_HANDLE hSession)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	rv = CKR_OPERATION_NOT_INITIALIZED;
	LOCKED_END();
}

static CK_RV cap_C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b, CK_BYTE_PTR c, CK_ULONG_PTR d)
{
	(void)a, (void)b, (void)c, (void)d;
	return not_initialized_op(h);
}

static CK_RV cap_C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG b)
{
	(void)a, (void)b;
	return not_initialized_op(h);
}

static CK_RV cap_C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE a)
{
	(void)a;
	return not_initialized_op(h);
}

static CK_RV cap_C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR a, CK_ULONG_PTR b)
{
	(void)a, (void)b;
	return not_initialized_op(h);
}

static CK_RV unsupported(void)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

/* Each unsupported entry point is its own function with the right
 * signature: calling through a mismatched pointer type is undefined. */
#define UNSUPPORTED(name, params, uses)      \
	static CK_RV cap_##name params        \
	{                                     \
		uses;                         \
		return unsupported();         \
	}

UNSUPPORTED(C_InitToken, (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d), ((void)a, (void)b, (void)c, (void)d))
UNSUPPORTED(C_InitPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c), ((void)a, (void)b, (void)c))
UNSUPPORTED(C_SetPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d, CK_ULONG e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_GetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), ((void)a, (void)b, (void)c))
UNSUPPORTED(C_SetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE d, CK_OBJECT_HANDLE e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_CopyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_OBJECT_HANDLE_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_SetAttributeValue, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d),
	    ((void)a, (void)b, (void)c, (void)d))
UNSUPPORTED(C_EncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), ((void)a, (void)b, (void)c))
UNSUPPORTED(C_Encrypt, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_EncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_EncryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), ((void)a, (void)b, (void)c))
UNSUPPORTED(C_DecryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), ((void)a, (void)b, (void)c))
UNSUPPORTED(C_Decrypt, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_DecryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_DecryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), ((void)a, (void)b, (void)c))
UNSUPPORTED(C_SignRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), ((void)a, (void)b, (void)c))
UNSUPPORTED(C_SignRecover, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_VerifyRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), ((void)a, (void)b, (void)c))
UNSUPPORTED(C_VerifyRecover, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_DigestEncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_DecryptDigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_SignEncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_DecryptVerifyUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_GenerateKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_OBJECT_HANDLE_PTR e),
	    ((void)a, (void)b, (void)c, (void)d, (void)e))
UNSUPPORTED(C_GenerateKeyPair,
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_ATTRIBUTE_PTR e, CK_ULONG f,
	     CK_OBJECT_HANDLE_PTR g_, CK_OBJECT_HANDLE_PTR h),
	    ((void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g_, (void)h))
UNSUPPORTED(C_WrapKey,
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_OBJECT_HANDLE d, CK_BYTE_PTR e, CK_ULONG_PTR f),
	    ((void)a, (void)b, (void)c, (void)d, (void)e, (void)f))
UNSUPPORTED(C_UnwrapKey,
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_BYTE_PTR d, CK_ULONG e, CK_ATTRIBUTE_PTR f,
	     CK_ULONG g_, CK_OBJECT_HANDLE_PTR h),
	    ((void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g_, (void)h))
UNSUPPORTED(C_DeriveKey,
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_ATTRIBUTE_PTR d, CK_ULONG e,
	     CK_OBJECT_HANDLE_PTR f),
	    ((void)a, (void)b, (void)c, (void)d, (void)e, (void)f))
UNSUPPORTED(C_WaitForSlotEvent, (CK_FLAGS a, CK_SLOT_ID_PTR b, CK_VOID_PTR c), ((void)a, (void)b, (void)c))

/* Random bytes come from OpenSSL's generator (seeded by the OS), which is
 * what a client would use without a token; the module adds no entropy of
 * its own and takes none. */
static CK_RV cap_C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
	(void)pSeed, (void)ulSeedLen;
	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	rv = CKR_RANDOM_SEED_NOT_SUPPORTED;
	LOCKED_END();
}

static CK_RV cap_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData, CK_ULONG ulRandomLen)
{
	LOCKED_BEGIN();
	SESSION(s, hSession);
	(void)s;
	if (pRandomData == NULL && ulRandomLen > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if (ulRandomLen > 0 && (ulRandomLen > INT_MAX || RAND_bytes(pRandomData, (int)ulRandomLen) != 1))
		rv = CKR_FUNCTION_FAILED;
	LOCKED_END();
}

static CK_RV cap_C_GetFunctionStatus(CK_SESSION_HANDLE a)
{
	(void)a;
	return CKR_FUNCTION_NOT_PARALLEL;
}

static CK_RV cap_C_CancelFunction(CK_SESSION_HANDLE a)
{
	(void)a;
	return CKR_FUNCTION_NOT_PARALLEL;
}

static CK_FUNCTION_LIST function_list = {
	.version = {2, 40},
	.C_Initialize = cap_C_Initialize,
	.C_Finalize = cap_C_Finalize,
	.C_GetInfo = cap_C_GetInfo,
	.C_GetFunctionList = C_GetFunctionList,
	.C_GetSlotList = cap_C_GetSlotList,
	.C_GetSlotInfo = cap_C_GetSlotInfo,
	.C_GetTokenInfo = cap_C_GetTokenInfo,
	.C_GetMechanismList = cap_C_GetMechanismList,
	.C_GetMechanismInfo = cap_C_GetMechanismInfo,
	.C_InitToken = cap_C_InitToken,
	.C_InitPIN = cap_C_InitPIN,
	.C_SetPIN = cap_C_SetPIN,
	.C_OpenSession = cap_C_OpenSession,
	.C_CloseSession = cap_C_CloseSession,
	.C_CloseAllSessions = cap_C_CloseAllSessions,
	.C_GetSessionInfo = cap_C_GetSessionInfo,
	.C_GetOperationState = cap_C_GetOperationState,
	.C_SetOperationState = cap_C_SetOperationState,
	.C_Login = cap_C_Login,
	.C_Logout = cap_C_Logout,
	.C_CreateObject = cap_C_CreateObject,
	.C_CopyObject = cap_C_CopyObject,
	.C_DestroyObject = cap_C_DestroyObject,
	.C_GetObjectSize = cap_C_GetObjectSize,
	.C_GetAttributeValue = cap_C_GetAttributeValue,
	.C_SetAttributeValue = cap_C_SetAttributeValue,
	.C_FindObjectsInit = cap_C_FindObjectsInit,
	.C_FindObjects = cap_C_FindObjects,
	.C_FindObjectsFinal = cap_C_FindObjectsFinal,
	.C_EncryptInit = cap_C_EncryptInit,
	.C_Encrypt = cap_C_Encrypt,
	.C_EncryptUpdate = cap_C_EncryptUpdate,
	.C_EncryptFinal = cap_C_EncryptFinal,
	.C_DecryptInit = cap_C_DecryptInit,
	.C_Decrypt = cap_C_Decrypt,
	.C_DecryptUpdate = cap_C_DecryptUpdate,
	.C_DecryptFinal = cap_C_DecryptFinal,
	.C_DigestInit = cap_C_DigestInit,
	.C_Digest = cap_C_Digest,
	.C_DigestUpdate = cap_C_DigestUpdate,
	.C_DigestKey = cap_C_DigestKey,
	.C_DigestFinal = cap_C_DigestFinal,
	.C_SignInit = cap_C_SignInit,
	.C_Sign = cap_C_Sign,
	.C_SignUpdate = cap_C_SignUpdate,
	.C_SignFinal = cap_C_SignFinal,
	.C_SignRecoverInit = cap_C_SignRecoverInit,
	.C_SignRecover = cap_C_SignRecover,
	.C_VerifyInit = cap_C_VerifyInit,
	.C_Verify = cap_C_Verify,
	.C_VerifyUpdate = cap_C_VerifyUpdate,
	.C_VerifyFinal = cap_C_VerifyFinal,
	.C_VerifyRecoverInit = cap_C_VerifyRecoverInit,
	.C_VerifyRecover = cap_C_VerifyRecover,
	.C_DigestEncryptUpdate = cap_C_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = cap_C_DecryptDigestUpdate,
	.C_SignEncryptUpdate = cap_C_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = cap_C_DecryptVerifyUpdate,
	.C_GenerateKey = cap_C_GenerateKey,
	.C_GenerateKeyPair = cap_C_GenerateKeyPair,
	.C_WrapKey = cap_C_WrapKey,
	.C_UnwrapKey = cap_C_UnwrapKey,
	.C_DeriveKey = cap_C_DeriveKey,
	.C_SeedRandom = cap_C_SeedRandom,
	.C_GenerateRandom = cap_C_GenerateRandom,
	.C_GetFunctionStatus = cap_C_GetFunctionStatus,
	.C_CancelFunction = cap_C_CancelFunction,
	.C_WaitForSlotEvent = cap_C_WaitForSlotEvent,
};
