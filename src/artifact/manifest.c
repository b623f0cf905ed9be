/* rombsr-artifact manifest: release manifests (docs/formats/release-manifest.md). */
#include "artifact.h"
#include "manifest_commands.h"

static const struct cli_command commands[] = {
	{"create", cmd_manifest_create, "write a release manifest signed by the manifest authority's key"},
	{"verify", cmd_manifest_verify, "check a release manifest's signature and schema, and its artifacts"},
};

int artifact_manifest(struct cli_context *ctx, int argc, char **argv)
{
	return cli_run_group(ctx, commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
