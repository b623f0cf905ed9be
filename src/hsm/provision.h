#ifndef ROMBSR_HSM_PROVISION_H
#define ROMBSR_HSM_PROVISION_H

#include "../common/config.h"

/* Initializes a fresh token labelled label in the first uninitialized slot
 * of module_path, with its SO PIN, and sets the user PIN. ROMBSR_EEXISTS if
 * a token with that label is already there. */
int rombsr_hsm_init_token(const char *module_path, const char *label, const char *so_pin,
			  const char *user_pin);

/* True if module_path is SoftHSM2, whose tokens live in files that ROMbsr
 * keeps inside its state folder. */
int rombsr_softhsm_is_module(const char *module_path);

/* Writes a softhsm2.conf whose tokens live in tokendir. */
int rombsr_softhsm_write_conf(const char *conf_path, const char *tokendir);

/* Points SoftHSM2 at the project's own softhsm2.conf (never the system one)
 * when an authority uses it. Must run before the module is loaded. */
int rombsr_softhsm_prepare(const struct rombsr_config *cfg);

/* Before SoftHSM2 is loaded: writes back each token's token.object that an
 * interrupted login rewrite left empty, from the copy kept beside it, and
 * refreshes the copy of each complete one (softhsm_guard.c says why). */
int rombsr_softhsm_guard_tokens(const char *conf_path);

#endif
