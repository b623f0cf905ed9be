/* rombsr-artifact avb: Android Verified Boot (docs/avb.md). */
#include "artifact.h"
#include "avb_commands.h"

static const struct cli_command commands[] = {
	{"make-vbmeta", cmd_avb_make_vbmeta, "make a signed vbmeta image (the top of a chain, or a chained one)"},
	{"add-hash-footer", cmd_avb_add_hash_footer, "hash a partition image and append a signed vbmeta and footer"},
	{"add-hashtree-footer", cmd_avb_add_hashtree_footer,
	 "append a dm-verity hash tree, a signed vbmeta and a footer to a partition image"},
	{"info", cmd_avb_info, "show what a vbmeta image or a partition's footer holds"},
	{"verify", cmd_avb_verify, "verify a chain from the top vbmeta: signatures, keys, hashes, hash trees"},
	{"extract-public-key", cmd_avb_extract_public_key, "write the AVB public key blob of a key"},
};

int artifact_avb(struct cli_context *ctx, int argc, char **argv)
{
	return cli_run_group(ctx, commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
