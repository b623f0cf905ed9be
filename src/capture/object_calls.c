/* The object entry points: creating session keys, reading attributes,
 * finding objects. The objects themselves are built in objects.c. */
#include "capture_internal.h"

#include <stdlib.h>
#include <string.h>

CK_RV cap_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
				CK_OBJECT_HANDLE_PTR phObject)
{
	struct cap_object *o = NULL;

	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if ((pTemplate == NULL && ulCount > 0) || phObject == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	rv = cap_object_from_template(pTemplate, ulCount, cap_state.next_object, s->handle, &o);
	if (rv != CKR_OK)
		goto out;
	if (cap_object_add(o) < 0) {
		cap_object_free(o);
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	*phObject = cap_state.next_object++;
	CAP_LOCKED_END();
}

CK_RV cap_C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	rv = CKR_OBJECT_HANDLE_INVALID;
	for (size_t i = 0; i < cap_state.nobjects; i++) {
		if (cap_state.objects[i]->handle != hObject || (cap_state.objects[i]->is_private && !cap_state.logged_in))
			continue;
		if (cap_state.objects[i]->owner == 0) {
			rv = CKR_ACTION_PROHIBITED;
		} else {
			cap_object_remove_at(i);
			rv = CKR_OK;
		}
		break;
	}
	CAP_LOCKED_END();
}

CK_RV cap_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
	struct cap_object *o;

	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	o = cap_object_find(hObject);
	if (o == NULL) {
		rv = CKR_OBJECT_HANDLE_INVALID;
	} else if (pulSize == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		*pulSize = 0;
		for (size_t i = 0; i < o->nattrs; i++)
			*pulSize += o->attrs[i].len;
	}
	CAP_LOCKED_END();
}

CK_RV cap_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
				     CK_ULONG ulCount)
{
	struct cap_object *o;

	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	(void)s;
	o = cap_object_find(hObject);
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
	CAP_LOCKED_END();
}

CK_RV cap_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (s->finding) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if (pTemplate == NULL && ulCount > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	free(s->found);
	s->found = calloc(cap_state.nobjects + 1, sizeof(*s->found));
	s->nfound = s->pos = 0;
	if (s->found == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < cap_state.nobjects; i++) {
		const struct cap_object *o = cap_state.objects[i];

		if ((o->is_private && !cap_state.logged_in) || !cap_object_matches(o, pTemplate, ulCount))
			continue;
		s->found[s->nfound++] = o->handle;
	}
	s->finding = true;
	CAP_LOCKED_END();
}

CK_RV cap_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
			       CK_ULONG_PTR pulObjectCount)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
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
	CAP_LOCKED_END();
}

CK_RV cap_C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	CAP_LOCKED_BEGIN();
	CAP_SESSION(s, hSession);
	if (!s->finding) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	free(s->found);
	s->found = NULL;
	s->nfound = s->pos = 0;
	s->finding = false;
	CAP_LOCKED_END();
}

