/* rombsr-sign, the sign node's program: its commands (one file each) and
 * what only they need. */
#ifndef ROMBSR_NODE_H
#define ROMBSR_NODE_H

#include "../cli/cli.h"

struct rombsr_hsm;
struct rombsr_buf;
struct rombsr_keyset_entry;

/* Opens an authority's token and logs in with its PIN (from --pin-fd,
 * --pin-file, the configured pin-file, or a prompt, in that order). */
int cli_open_authority(struct cli_context *ctx, enum rombsr_authority_id id, struct rombsr_hsm **out);
/* Who logs in: on a YubiHSM each a key of its own (seed 000's roles,
 * docs/yubihsm.md); on a PKCS#11 token the user for all three. */
enum cli_role {
	CLI_ROLE_SIGNING, /* pin-file */
	CLI_ROLE_ADMIN,   /* creates and deletes keys: so-pin-file */
	CLI_ROLE_BACKUP,  /* exports and imports them wrapped: <state>/pins/yubihsm-backup.pin */
};
int cli_open_authority_as(struct cli_context *ctx, enum rombsr_authority_id id, enum cli_role role,
			  struct rombsr_hsm **out);
/* A second role of a command (keygen's backup key on a YubiHSM): from the
 * role's own PIN file or its custodian, never --pin-file or --pin-fd,
 * which give the command's first role. */
int cli_open_second_role(struct cli_context *ctx, enum rombsr_authority_id id, enum cli_role role,
			 struct rombsr_hsm **out);
/* The authority's user PIN from the same places, into pin (wiped on free). */
int cli_read_pin(struct cli_context *ctx, const struct rombsr_authority_config *a, struct rombsr_buf *pin);

/* --key: a label of the key set or a PKCS#11 URI (RFC 7512) whose object=
 * is one and whose token part, if any, matches the key's authority's
 * configured token. Loads the configuration (and so the key set) first. */
int cli_key_name(struct cli_context *ctx, const char *text, const struct rombsr_keyset_entry **out);

/* keygen's part that hsm-rotate-keys shares: a certificate made by the
 * token for key and stored beside it. */
struct rombsr_hsm_key;
int keygen_certify(struct rombsr_hsm *signer, struct rombsr_hsm *hsm, struct rombsr_hsm_key *key,
		   const char *organization, unsigned days);

int cmd_hsm_provision(struct cli_context *ctx, int argc, char **argv);
int cmd_keygen(struct cli_context *ctx, int argc, char **argv);
int cmd_hsm_revoke(struct cli_context *ctx, int argc, char **argv);
int cmd_hsm_rotate_keys(struct cli_context *ctx, int argc, char **argv);
int cmd_keys(struct cli_context *ctx, int argc, char **argv);
int cmd_export_public(struct cli_context *ctx, int argc, char **argv);
int cmd_status(struct cli_context *ctx, int argc, char **argv);
int cmd_sign(struct cli_context *ctx, int argc, char **argv);
int cmd_serve(struct cli_context *ctx, int argc, char **argv);
int cmd_wrap_key(struct cli_context *ctx, int argc, char **argv);
int cmd_wrap_key_create(struct cli_context *ctx, int argc, char **argv);
int cmd_wrap_key_restore(struct cli_context *ctx, int argc, char **argv);
int cmd_backup(struct cli_context *ctx, int argc, char **argv);
int cmd_backup_export(struct cli_context *ctx, int argc, char **argv);
int cmd_backup_restore(struct cli_context *ctx, int argc, char **argv);

#endif
