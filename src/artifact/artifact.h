/* rombsr-artifact: the build side's tools that sign artifacts through a
 * PKCS#11 key (AVB images, OTA packages, release manifests). On a build
 * node the key is the capture module's, so these tools are captured and
 * replayed like apksigner; `rombsr avb|ota|manifest …` runs this program.
 * It links the formats and the build side's own PKCS#11 client, never the
 * queue, the sign node or its HSM layer. */
#ifndef ROMBSR_ARTIFACT_H
#define ROMBSR_ARTIFACT_H

#include "../cli/cli.h"
#include "../p11client/p11_key.h"

enum { ARTIFACT_OPT_KEY = 900, ARTIFACT_OPT_MODULE };

/* The options of every command that signs. */
#define ARTIFACT_KEY_OPTIONS                                                                   \
	{"key", "URI", "the signing key: an RFC 7512 PKCS#11 URI (pkcs11:token=T;object=LABEL, "  \
		       "module-path= and pin-source=file:/path allowed)", ARTIFACT_OPT_KEY},     \
	{"module", "PATH", "the PKCS#11 module, overriding the URI's module-path", ARTIFACT_OPT_MODULE}, \
	CLI_PIN_OPTIONS

struct artifact_key_args {
	const char *uri;
	const char *module;
};

/* Takes one of ARTIFACT_KEY_OPTIONS: 1 if id was one of them, 0 if not, or
 * an error. */
int artifact_take_key_option(struct cli_context *ctx, struct artifact_key_args *args, int id, const char *value);
/* Opens the key the options name; ROMBSR_EINVAL if --key was not given. */
int artifact_open_key(const struct cli_context *ctx, const struct artifact_key_args *args,
		      struct rombsr_p11_key **out);

/* A PEM public key or certificate's key. */
int artifact_key_from_pem(const char *path, EVP_PKEY **out);

/* The command groups, each a table of commands (one file a command). */
int artifact_avb(struct cli_context *ctx, int argc, char **argv);
int artifact_manifest(struct cli_context *ctx, int argc, char **argv);
int artifact_ota(struct cli_context *ctx, int argc, char **argv);

#endif
