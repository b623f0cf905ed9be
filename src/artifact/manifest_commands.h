/* The manifest commands, one file each (cmd_manifest_*.c). */
#ifndef ROMBSR_ARTIFACT_MANIFEST_COMMANDS_H
#define ROMBSR_ARTIFACT_MANIFEST_COMMANDS_H

#include "artifact.h"

int cmd_manifest_create(struct cli_context *ctx, int argc, char **argv);
int cmd_manifest_verify(struct cli_context *ctx, int argc, char **argv);

#endif
