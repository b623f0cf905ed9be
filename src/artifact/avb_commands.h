/* The avb commands, one file each (cmd_avb_*.c), and what they share. */
#ifndef ROMBSR_ARTIFACT_AVB_COMMANDS_H
#define ROMBSR_ARTIFACT_AVB_COMMANDS_H

#include "artifact.h"

int cmd_avb_extract_public_key(struct cli_context *ctx, int argc, char **argv);
int cmd_avb_make_vbmeta(struct cli_context *ctx, int argc, char **argv);
int cmd_avb_add_hash_footer(struct cli_context *ctx, int argc, char **argv);
int cmd_avb_add_hashtree_footer(struct cli_context *ctx, int argc, char **argv);
int cmd_avb_info(struct cli_context *ctx, int argc, char **argv);
int cmd_avb_verify(struct cli_context *ctx, int argc, char **argv);

#endif
