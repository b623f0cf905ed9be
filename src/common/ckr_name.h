/* PKCS#11 return values by name, for messages on both sides of the trust
 * boundary (the table is generated from p11-kit's pkcs11.h at build time). */
#ifndef ROMBSR_CKR_NAME_H
#define ROMBSR_CKR_NAME_H

/* "CKR_PIN_INCORRECT"; never NULL. rv is a CK_RV. */
const char *rombsr_ckr_name(unsigned long rv);

#endif
