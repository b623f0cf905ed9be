/* What the files of the PKCS#11 module share (module.c, state.c, info.c,
 * session.c, object_calls.c, operation.c, sign.c, verify.c): the one
 * process-wide state, its lock, and the entry points module.c puts in the
 * function list. Nothing here is exported from the .so (exports.map). */
#ifndef ROMBSR_CAPTURE_INTERNAL_H
#define ROMBSR_CAPTURE_INTERNAL_H

#include "capture.h"

#include <pthread.h>

#define CAP_SLOT_ID 0
#define CAP_MAX_SESSIONS 1024

/* One sign or verify operation of a session. */
struct cap_opctx {
	bool active;
	bool multipart;              /* C_*Update was called: C_Sign/C_Verify no longer allowed */
	const struct rombsr_cap_mech *mech;
	struct rombsr_cap_pss pss;
	CK_OBJECT_HANDLE key;
	EVP_MD_CTX *md;              /* hash mechanisms */
	/* What a hash mechanism was given, kept while it might be data the
	 * sign node understands (docs/capture.md, "Data"). */
	unsigned char *data;
	size_t data_len;
	bool data_dropped;           /* too long */
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

struct cap_module_state {
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
};

/* Read and changed only with cap_lock held. */
extern struct cap_module_state cap_state;
extern pthread_mutex_t cap_lock;

/* Every entry point but C_GetFunctionList, C_Initialize and C_Finalize:
 * takes the lock and refuses to run before C_Initialize. Ends with
 * CAP_LOCKED_END(), which holds the label out:. */
#define CAP_LOCKED_BEGIN()                              \
	CK_RV rv = CKR_OK;                              \
	pthread_mutex_lock(&cap_lock);                  \
	if (!cap_state.initialized) {                   \
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;      \
		goto out;                               \
	}

#define CAP_LOCKED_END()                                \
	out:                                            \
	pthread_mutex_unlock(&cap_lock);                \
	return rv;

#define CAP_SESSION(s, h)                               \
	struct cap_session *s = cap_session_find(h);    \
	if (s == NULL) {                                \
		rv = CKR_SESSION_HANDLE_INVALID;        \
		goto out;                               \
	}

/* ---- state.c ---- */

int cap_state_load(void);
void cap_state_free(void);
struct cap_session *cap_session_find(CK_SESSION_HANDLE h);
/* Ends the session's objects and operations with it. */
void cap_session_close_at(size_t i);
/* An object the caller may see: private ones only after login. */
struct cap_object *cap_object_find(CK_OBJECT_HANDLE h);
int cap_object_add(struct cap_object *o);
void cap_object_remove_at(size_t i);
void cap_opctx_end(struct cap_opctx *c);

/* ---- operation.c ---- */

CK_RV cap_op_init(const char *fn, struct cap_opctx *c, CK_MECHANISM_PTR pMechanism, struct cap_object *key);
CK_RV cap_op_update(const char *fn, struct cap_opctx *c, const struct cap_object *key, const unsigned char *data,
		    CK_ULONG len);
/* The operation as the journal names it. */
CK_RV cap_op_describe(struct cap_opctx *c, const struct cap_object *key, struct rombsr_cap_op *op);

/* ---- entry points (PKCS#11 2.40 names) ---- */

/* info.c */
CK_RV cap_C_GetInfo(CK_INFO_PTR pInfo);
CK_RV cap_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount);
CK_RV cap_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo);
CK_RV cap_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo);
CK_RV cap_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pList, CK_ULONG_PTR pulCount);
CK_RV cap_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo);

/* session.c */
CK_RV cap_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
			CK_SESSION_HANDLE_PTR phSession);
CK_RV cap_C_CloseSession(CK_SESSION_HANDLE hSession);
CK_RV cap_C_CloseAllSessions(CK_SLOT_ID slotID);
CK_RV cap_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo);
CK_RV cap_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen);
CK_RV cap_C_Logout(CK_SESSION_HANDLE hSession);

/* object_calls.c */
CK_RV cap_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
			 CK_OBJECT_HANDLE_PTR phObject);
CK_RV cap_C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject);
CK_RV cap_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize);
CK_RV cap_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
			      CK_ULONG ulCount);
CK_RV cap_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);
CK_RV cap_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
			CK_ULONG_PTR pulObjectCount);
CK_RV cap_C_FindObjectsFinal(CK_SESSION_HANDLE hSession);

/* sign.c */
CK_RV cap_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV cap_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
		 CK_ULONG_PTR pulSignatureLen);
CK_RV cap_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen);
CK_RV cap_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);

/* verify.c */
CK_RV cap_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV cap_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
		   CK_ULONG ulSignatureLen);
CK_RV cap_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen);
CK_RV cap_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);

#endif
