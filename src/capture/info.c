/* What the module tells about itself: library, slot, token and
 * mechanisms. One slot, one token: the public bundle. */
#include "capture_internal.h"

#include <string.h>

static void pad(unsigned char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	memset(dst, ' ', size);
	memcpy(dst, s, n < size ? n : size);
}

CK_RV cap_C_GetInfo(CK_INFO_PTR pInfo)
{
	CK_RV rv = CKR_OK;

	if (pInfo == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&cap_lock);
	if (!cap_state.initialized) {
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
	pthread_mutex_unlock(&cap_lock);
	return rv;
}

CK_RV cap_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	(void)tokenPresent;
	CAP_LOCKED_BEGIN();
	if (pulCount == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (pSlotList == NULL) {
		*pulCount = 1;
	} else if (*pulCount < 1) {
		*pulCount = 1;
		rv = CKR_BUFFER_TOO_SMALL;
	} else {
		pSlotList[0] = CAP_SLOT_ID;
		*pulCount = 1;
	}
	CAP_LOCKED_END();
}

CK_RV cap_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	CAP_LOCKED_BEGIN();
	if (slotID != CAP_SLOT_ID) {
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
	CAP_LOCKED_END();
}

CK_RV cap_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	CAP_LOCKED_BEGIN();
	if (slotID != CAP_SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		CK_ULONG rw = 0;

		for (size_t i = 0; i < cap_state.nsessions; i++)
			rw += (cap_state.sessions[i]->flags & CKF_RW_SESSION) != 0;
		memset(pInfo, 0, sizeof(*pInfo));
		pad(pInfo->label, sizeof(pInfo->label), "rombsr-capture");
		pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "ROMbsr");
		pad(pInfo->model, sizeof(pInfo->model), cap_state.cfg.mode == CAP_MODE_CAPTURE ? "capture" : "replay");
		/* The serial names the bundle, so a client that caches by serial
		 * notices a new bundle. */
		pad(pInfo->serialNumber, sizeof(pInfo->serialNumber), "");
		memcpy(pInfo->serialNumber, cap_state.bundle.manifest_sha256, sizeof(pInfo->serialNumber));
		/* Login is required because clients only look for private keys
		 * after logging in; any PIN is accepted (docs/capture.md). */
		pInfo->flags = CKF_RNG | CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
		pInfo->ulMaxSessionCount = CAP_MAX_SESSIONS;
		pInfo->ulSessionCount = cap_state.nsessions;
		pInfo->ulMaxRwSessionCount = CAP_MAX_SESSIONS;
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
	CAP_LOCKED_END();
}

CK_RV cap_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pList, CK_ULONG_PTR pulCount)
{
	CAP_LOCKED_BEGIN();
	if (slotID != CAP_SLOT_ID) {
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
	CAP_LOCKED_END();
}

CK_RV cap_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	const struct rombsr_cap_mech *m = rombsr_cap_mech_by_type(type);

	CAP_LOCKED_BEGIN();
	if (slotID != CAP_SLOT_ID) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (pInfo == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (m == NULL) {
		rv = CKR_MECHANISM_INVALID;
	} else if (!m->ec) {
		pInfo->ulMinKeySize = cap_state.rsa_min_bits;
		pInfo->ulMaxKeySize = cap_state.rsa_max_bits;
		pInfo->flags = CKF_SIGN | CKF_VERIFY;
	} else {
		/* The curves of the bundle's EC keys: P-256 and P-384. */
		pInfo->ulMinKeySize = 256;
		pInfo->ulMaxKeySize = 384;
		pInfo->flags = CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	}
	CAP_LOCKED_END();
}
