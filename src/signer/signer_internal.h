/* The signer's parsing of a channel message, exposed for its fuzz harness
 * (fuzz/fuzz_channel.c) only: the signer is the process that holds an HSM
 * session, and this is the one function that reads bytes the worker (which
 * parses untrusted queue content) chose. */
#ifndef ROMBSR_SIGN_SIGNER_INTERNAL_H
#define ROMBSR_SIGN_SIGNER_INTERNAL_H

#include "channel.h"

#include "../common/capture_format.h"

/* Rebuilds the operation of a ROMBSR_CH_SIGN message, trusting none of its
 * fields. 0, ROMBSR_EINVAL for a malformed message, ROMBSR_EPERM for an
 * unknown mechanism. */
int rombsr_signer_op_from_message(const struct rombsr_channel_request *m, struct rombsr_cap_op *op);

#endif
