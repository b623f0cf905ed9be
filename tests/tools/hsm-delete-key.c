/* Deletes a key (private key, public key, certificate) from a token, as an
 * HSM administrator would with the vendor's tool, so integration tests can
 * show what the sign node logs when a key disappears.
 * Usage: hsm-delete-key MODULE TOKEN_URI PIN_FILE KEY_LABEL */
#include "../../src/common/error.h"
#include "../../src/hsm/hsm.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct rombsr_hsm *hsm = NULL;
	struct rombsr_hsm_key key;
	CK_SESSION_HANDLE session;
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: hsm-delete-key MODULE TOKEN_URI PIN_FILE KEY_LABEL\n");
		return 2;
	}
	r = rombsr_hsm_open_login(argv[1], argv[2], argv[3], &hsm);
	if (r == 0)
		r = rombsr_hsm_find_key(hsm, argv[4], &key);
	if (r == 0 && (r = rombsr_hsm_session_get(hsm, &session)) == 0) {
		CK_OBJECT_HANDLE objects[] = {key.private_key, key.public_key, key.certificate};
		CK_FUNCTION_LIST *f = rombsr_hsm_functions(hsm);

		for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]) && r == 0; i++) {
			CK_RV rv = objects[i] == CK_INVALID_HANDLE ? CKR_OK : f->C_DestroyObject(session, objects[i]);

			if (rv != CKR_OK)
				r = rombsr_error(ROMBSR_EHSM, "C_DestroyObject: %s", rombsr_ckr_name(rv));
		}
		rombsr_hsm_session_put(hsm, session);
	}
	if (r < 0)
		fprintf(stderr, "hsm-delete-key: %s\n", rombsr_error_message(r));
	rombsr_hsm_close(hsm);
	return r < 0 ? 1 : 0;
}
