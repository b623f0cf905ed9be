/* The ota commands, one file each (cmd_ota_*.c). */
#ifndef ROMBSR_ARTIFACT_OTA_COMMANDS_H
#define ROMBSR_ARTIFACT_OTA_COMMANDS_H

#include "artifact.h"

int cmd_ota_sign(struct cli_context *ctx, int argc, char **argv);
int cmd_ota_verify(struct cli_context *ctx, int argc, char **argv);

#endif
