#include "ckr_name.h"

#include <p11-kit/pkcs11.h>

static const struct {
	CK_RV rv;
	const char *name;
} ckr_names[] = {
#include "p11_names.inc"
};

const char *rombsr_ckr_name(unsigned long rv)
{
	for (size_t i = 0; i < sizeof(ckr_names) / sizeof(ckr_names[0]); i++)
		if (ckr_names[i].rv == rv)
			return ckr_names[i].name;
	return rv >= CKR_VENDOR_DEFINED ? "CKR_VENDOR_DEFINED" : "unknown CKR value";
}
