/* The PKCS#11 entry points of the capture module (Cryptoki 2.40): the
 * function list, C_Initialize and C_Finalize, and what the module does not
 * offer. The other entry points live in info.c, session.c, object_calls.c,
 * sign.c and verify.c (capture_internal.h).
 *
 * Every entry point takes one process-wide mutex, which is what
 * CKF_OS_LOCKING_OK promises and is cheap next to what clients do between
 * calls. Entry points return CK_RV; the ROMBSR_E* detail of a failure goes
 * to stderr as one line, because a client shows nothing but the CKR code. */
#include "capture_internal.h"

#include "../common/error.h"

#include <limits.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>

#define EXPORT __attribute__((visibility("default")))

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
	pthread_mutex_lock(&cap_lock);
	if (cap_state.initialized) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	rombsr_error_clear();
	r = cap_state_load();
	if (r < 0) {
		cap_log("%s", rombsr_error_message(r));
		cap_state_free();
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	cap_state.initialized = true;
out:
	pthread_mutex_unlock(&cap_lock);
	return rv;
}

static CK_RV cap_C_Finalize(CK_VOID_PTR pReserved)
{
	CK_RV rv = CKR_OK;

	if (pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&cap_lock);
	if (!cap_state.initialized)
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;
	else
		cap_state_free();
	pthread_mutex_unlock(&cap_lock);
	return rv;
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (ppFunctionList == NULL)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &function_list;
	return CKR_OK;
}

/* ---- not offered ---- */

/* Digests are not advertised (clients hash themselves, which is faster
 * than a round trip per chunk), so no digest operation can be started. */
static CK_RV cap_C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	(void)pMechanism;
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	rv = CKR_MECHANISM_INVALID;
	CAP_LOCKED_END();
}

static CK_RV not_initialized_op(CK_SESSION_HANDLE hSession)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	rv = CKR_OPERATION_NOT_INITIALIZED;
	CAP_LOCKED_END();
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
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	rv = CKR_RANDOM_SEED_NOT_SUPPORTED;
	CAP_LOCKED_END();
}

static CK_RV cap_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData, CK_ULONG ulRandomLen)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	if (pRandomData == NULL && ulRandomLen > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if (ulRandomLen > 0 && (ulRandomLen > INT_MAX || RAND_bytes(pRandomData, (int)ulRandomLen) != 1))
		rv = CKR_FUNCTION_FAILED;
	CAP_LOCKED_END();
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
