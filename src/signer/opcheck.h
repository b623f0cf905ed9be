/* What the sign node agrees to sign, checked by the worker before it asks
 * and again by the signer before it touches the HSM. Every input is the
 * exact bytes a PKCS#11 client gave the capture module; the sign node only
 * signs a digest, or a block that provably wraps one, never arbitrary data
 * (a raw RSA operation on arbitrary input would be a decryption oracle). */
#ifndef ROMBSR_SIGN_OPCHECK_H
#define ROMBSR_SIGN_OPCHECK_H

#include "../common/capture_format.h"
#include "../common/sigalg.h"

/* 0, or ROMBSR_EPERM with a message saying what is wrong with op for a key
 * of this kind and modulus size (bytes; 0 for EC). */
int rombsr_opcheck(const struct rombsr_cap_op *op, enum rombsr_key_kind kind, size_t modulus_bytes);

#endif
