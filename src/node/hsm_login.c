/* Provisioning commands of rombsr-sign (keygen, keys, export-public) open
 * an authority's token themselves: they are run by the operator who holds
 * the PIN, not by the sign node's worker. */
#include "node.h"
#include "keygen_store.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/secret.h"
#include "../hsm/hsm.h"
#include "../hsm/provision.h"

#include <stdio.h>
#include <unistd.h>

int cli_read_pin(struct cli_context *ctx, const struct rombsr_authority_config *a, struct rombsr_buf *pin)
{
	char prompt[96];

	if (ctx->pin_fd >= 0)
		return rombsr_secret_from_fd(ctx->pin_fd, pin);
	if (ctx->pin_file != NULL)
		return rombsr_secret_from_file(ctx->pin_file, pin);
	if (rombsr_path_exists(a->pin_file))
		return rombsr_secret_from_file(a->pin_file, pin);
	snprintf(prompt, sizeof(prompt), "PIN for the %s authority's token: ", a->name);
	return rombsr_secret_prompt(prompt, pin);
}

/* The administrator's or backup key's PIN on a YubiHSM: its file, or for
 * a custodian's key (hsm-provision --custodian) its password typed. */
static int role_pin(enum cli_role role, const struct rombsr_authority_config *a, struct rombsr_buf *pin)
{
	const char *path = role == CLI_ROLE_ADMIN ? a->so_pin_file : a->backup_pin_file;
	const unsigned id = role == CLI_ROLE_ADMIN ? 2 : 4;
	struct rombsr_buf password = {0};
	char prompt[96];
	int r;

	if (rombsr_path_exists(path))
		return rombsr_secret_from_file(path, pin);
	snprintf(prompt, sizeof(prompt), "Password of the YubiHSM's %s key (0x%04x): ",
		 role == CLI_ROLE_ADMIN ? "administrator" : "backup", id);
	r = rombsr_secret_prompt(prompt, &password);
	if (r == 0) {
		rombsr_buf_init(pin, ROMBSR_SECRET_MAX);
		rombsr_buf_printf(pin, "%04x%s", id, (const char *)password.data);
		r = rombsr_buf_check(pin, "PIN");
	}
	rombsr_buf_free(&password);
	return r;
}

int cli_open_authority(struct cli_context *ctx, enum rombsr_authority_id id, struct rombsr_hsm **out)
{
	return cli_open_authority_as(ctx, id, CLI_ROLE_SIGNING, out);
}

/* On a YubiHSM the signing key cannot create, delete or export (seed
 * 000): the commands that do log in with the administrator's or the backup
 * key (enum cli_role). A PKCS#11 token's user does all of it. */
int cli_open_authority_as(struct cli_context *ctx, enum rombsr_authority_id id, enum cli_role role,
			  struct rombsr_hsm **out)
{
	const struct rombsr_config *cfg;
	const struct rombsr_authority_config *a;
	struct rombsr_hsm *hsm = NULL;
	struct rombsr_buf pin = {0};
	int r;

	*out = NULL;
	r = cli_config(ctx, &cfg);
	if (r < 0)
		return r;
	a = &cfg->authority[id];
	r = rombsr_softhsm_prepare(cfg);
	if (r == 0)
		r = rombsr_hsm_open_for(a, &hsm);
	if (r == 0 && role != CLI_ROLE_SIGNING && a->backend == ROMBSR_HSM_BACKEND_YUBIHSM && ctx->pin_fd < 0 &&
	    ctx->pin_file == NULL)
		r = role_pin(role, a, &pin);
	else if (r == 0)
		r = cli_read_pin(ctx, a, &pin);
	if (r == 0)
		r = rombsr_hsm_login(hsm, (const char *)pin.data);
	rombsr_buf_free(&pin);
	/* What it spills of a YubiHSM's log is the signers' to read. */
	if (r == 0 && a->backend == ROMBSR_HSM_BACKEND_YUBIHSM) {
		uid_t uid;
		gid_t gid;

		r = keygen_store_owner(cfg, &uid, &gid);
		if (r == 0 && geteuid() == 0)
			rombsr_hsm_device_log_owner(hsm, uid, gid);
	}
	if (r < 0) {
		rombsr_hsm_close(hsm);
		return rombsr_error_wrap(r, "%s authority", a->name);
	}
	*out = hsm;
	return 0;
}

int cli_open_second_role(struct cli_context *ctx, enum rombsr_authority_id id, enum cli_role role,
			 struct rombsr_hsm **out)
{
	const char *pin_file = ctx->pin_file;
	int pin_fd = ctx->pin_fd, r;

	ctx->pin_file = NULL;
	ctx->pin_fd = -1;
	r = cli_open_authority_as(ctx, id, role, out);
	ctx->pin_file = pin_file;
	ctx->pin_fd = pin_fd;
	return r;
}
