/* Sessions and login. */
#include "capture_internal.h"

#include <stdlib.h>
#include <string.h>

CK_RV cap_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
			       CK_SESSION_HANDLE_PTR phSession)
{
	struct cap_session *s, **grown;

	(void)pApplication;
	(void)Notify;
	CAP_LOCKED_BEGIN();
	if (slotID != CAP_SLOT_ID) {
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
	if (cap_state.nsessions >= CAP_MAX_SESSIONS) {
		rv = CKR_SESSION_COUNT;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	grown = s != NULL ? realloc(cap_state.sessions, (cap_state.nsessions + 1) * sizeof(*cap_state.sessions)) : NULL;
	if (grown == NULL) {
		free(s);
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	cap_state.sessions = grown;
	s->handle = cap_state.next_session++;
	s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
	cap_state.sessions[cap_state.nsessions++] = s;
	*phSession = s->handle;
	CAP_LOCKED_END();
}

CK_RV cap_C_CloseSession(CK_SESSION_HANDLE hSession)
{
	CAP_LOCKED_BEGIN();
	rv = CKR_SESSION_HANDLE_INVALID;
	for (size_t i = 0; i < cap_state.nsessions; i++) {
		if (cap_state.sessions[i]->handle == hSession) {
			cap_session_close_at(i);
			rv = CKR_OK;
			break;
		}
	}
	CAP_LOCKED_END();
}

CK_RV cap_C_CloseAllSessions(CK_SLOT_ID slotID)
{
	CAP_LOCKED_BEGIN();
	if (slotID != CAP_SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
		goto out;
	}
	while (cap_state.nsessions > 0)
		cap_session_close_at(cap_state.nsessions - 1);
	CAP_LOCKED_END();
}

CK_RV cap_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->slotID = CAP_SLOT_ID;
	pInfo->flags = s->flags;
	if (s->flags & CKF_RW_SESSION)
		pInfo->state = cap_state.logged_in ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
	else
		pInfo->state = cap_state.logged_in ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
	CAP_LOCKED_END();
}

/* Any PIN is accepted: the module holds no secret for a PIN to protect,
 * and the tools insist on logging in before they look for private keys.
 * What protects the keys is that they are not here. */
CK_RV cap_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	if (pPin == NULL && ulPinLen > 0) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (userType == CKU_USER) {
		if (cap_state.logged_in)
			rv = CKR_USER_ALREADY_LOGGED_IN;
		else
			cap_state.logged_in = true;
	} else if (userType == CKU_CONTEXT_SPECIFIC) {
		rv = cap_state.logged_in ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
	} else {
		/* No security officer: nothing on this token can be changed. */
		rv = CKR_USER_TYPE_INVALID;
	}
	CAP_LOCKED_END();
}

CK_RV cap_C_Logout(CK_SESSION_HANDLE hSession)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	if (!cap_state.logged_in) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	cap_state.logged_in = false;
	/* Signing operations used private objects that are now invisible. */
	for (size_t i = 0; i < cap_state.nsessions; i++)
		if (cap_state.sessions[i]->sign.active)
			cap_opctx_end(&cap_state.sessions[i]->sign);
	CAP_LOCKED_END();
}

