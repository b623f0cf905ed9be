/* The signer's channel message (src/sign/channel.h): the worker parses
 * untrusted queue content and may be compromised, so the signer, which
 * holds the HSM session, trusts no field of what it receives. The input is
 * the message's bytes (short input is zero-filled, as a message is
 * fixed-size); what rombsr_signer_op_from_message accepts goes through the
 * same check the signer runs before it signs, for every kind of key. */
#include "util.h"

#include "../src/signer/opcheck.h"
#include "../src/signer/signer_internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_channel_request m;
	struct rombsr_cap_op op;

	memset(&m, 0, sizeof(m));
	memcpy(&m, data, size < sizeof(m) ? size : sizeof(m));
	if (rombsr_signer_op_from_message(&m, &op) < 0)
		return 0;
	fuzz_check(op.tbs_len <= sizeof(op.tbs) && memchr(op.label, '\0', sizeof(op.label)) != NULL &&
			   memchr(op.spki_sha256, '\0', sizeof(op.spki_sha256)) != NULL && op.mech != NULL,
		   "channel: an accepted message gives a malformed operation");
	rombsr_opcheck(&op, ROMBSR_KEY_RSA, 256);
	rombsr_opcheck(&op, ROMBSR_KEY_RSA, 512);
	rombsr_opcheck(&op, ROMBSR_KEY_EC_P256, 0);
	rombsr_opcheck(&op, ROMBSR_KEY_EC_P384, 0);
	return 0;
}
