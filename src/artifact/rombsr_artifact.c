/* rombsr-artifact: see artifact.h. */
#include "artifact.h"

static const struct cli_command commands[] = {
	{"avb", artifact_avb, "Android Verified Boot: vbmeta images, hash and hashtree footers, verify"},
	{"manifest", artifact_manifest, "release manifests: create (signed by the manifest authority), verify"},
	{"ota", artifact_ota, "OTA packages: the whole-file signature (signapk -w), verify"},
};

int main(int argc, char **argv)
{
	return cli_run("rombsr", commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
