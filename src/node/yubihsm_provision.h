#ifndef ROMBSR_NODE_YUBIHSM_PROVISION_H
#define ROMBSR_NODE_YUBIHSM_PROVISION_H

#include "../common/config.h"

#include <stdbool.h>

struct cli_context;

/* hsm-provision --backend yubihsm (yubihsm_provision.c); custodians: the
 * roles whose passwords are typed on the terminal, not written. */
#define YUBIHSM_CUSTODIAN_ADMIN 1u
#define YUBIHSM_CUSTODIAN_BACKUP 2u
int yubihsm_provision(struct cli_context *ctx, const struct rombsr_config *cfg, bool resume, unsigned custodians);

#endif
