/* rombsr hsm-provision: the embedded default's tokens. One SoftHSM2 token
 * per authority, each with its own random SO and user PIN in 0600 files,
 * all inside the state folder and its own softhsm2.conf. The tokens are made
 * in a scratch folder and moved in place only when all of them exist, so a
 * failure leaves nothing half-provisioned. */
#define _GNU_SOURCE
#include "node.h"
#include "yubihsm_provision.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/secret.h"
#include "../hsm/hsm.h"
#include "../hsm/provision.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_FORCE = 1, OPT_BACKEND, OPT_RESUME, OPT_CUSTODIAN };

static const struct cli_option options[] = {
	{"force", NULL, "destroy existing ROMbsr tokens and every key in them, then provision anew", OPT_FORCE},
	{"backend", "NAME", "softhsm2 (the default) or yubihsm: seed 000's roles on a YubiHSM 2 (docs/yubihsm.md)",
	 OPT_BACKEND},
	{"resume", NULL, "yubihsm: finish a provisioning that was interrupted", OPT_RESUME},
	{"custodian", "ROLE", "yubihsm: the admin or backup key's password is typed by its custodian on the "
			      "terminal (twice) and stored nowhere; repeatable", OPT_CUSTODIAN},
	{NULL, NULL, NULL, 0},
};

static bool folder_has_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool found = false;

	if (d == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL)
		found = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return found;
}

/* Creates the PIN file's folder; the file itself is written in two phases
 * (see install_pins) so that a failure never leaves old tokens with new
 * PINs. */
static int pin_folder(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	int r = 0;

	if (dir == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		r = rombsr_mkdir_p(dir, 0700);
	}
	free(dir);
	return r;
}

struct new_pins {
	struct rombsr_buf so_pin[ROMBSR_AUTHORITY_COUNT];
	struct rombsr_buf user_pin[ROMBSR_AUTHORITY_COUNT];
};

static void new_pins_free(struct new_pins *pins)
{
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		rombsr_buf_free(&pins->so_pin[i]);
		rombsr_buf_free(&pins->user_pin[i]);
	}
}

/* Every PIN goes to "<file>.new" first; only when all are written are they
 * renamed over the old ones. */
static int install_pins(const struct rombsr_config *cfg, struct new_pins *pins)
{
	const char *paths[2 * ROMBSR_AUTHORITY_COUNT];
	struct rombsr_buf *values[2 * ROMBSR_AUTHORITY_COUNT];
	char staged[2 * ROMBSR_AUTHORITY_COUNT][4096] = {{0}};
	int n = 0, r = 0;

	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		paths[n] = cfg->authority[i].so_pin_file;
		values[n++] = &pins->so_pin[i];
		paths[n] = cfg->authority[i].pin_file;
		values[n++] = &pins->user_pin[i];
	}
	for (int i = 0; i < n && r == 0; i++) {
		if ((size_t)snprintf(staged[i], sizeof(staged[i]), "%s.new", paths[i]) >= sizeof(staged[i]))
			r = rombsr_error(ROMBSR_EINVAL, "PIN file path too long: %s", paths[i]);
		if (r == 0)
			r = pin_folder(paths[i]);
		if (r == 0)
			r = rombsr_file_write_atomic(staged[i], values[i]->data, values[i]->len, 0600, false);
	}
	for (int i = 0; i < n && r == 0; i++)
		if (rename(staged[i], paths[i]) != 0)
			r = rombsr_error(ROMBSR_EIO, "cannot install PIN file %s", paths[i]);
	for (int i = 0; i < n; i++)
		if (staged[i][0] != '\0')
			unlink(staged[i]);
	return r;
}

struct provision_paths {
	char *scratch;       /* STATE/.provision-XXXXXX */
	char *scratch_conf;
	char *scratch_tokens;
	char *tokens;        /* STATE/tokens */
	char *old_tokens;
};

static void paths_free(struct provision_paths *p)
{
	if (p->scratch != NULL)
		rombsr_remove_tree(p->scratch);
	free(p->scratch);
	free(p->scratch_conf);
	free(p->scratch_tokens);
	free(p->tokens);
	free(p->old_tokens);
}

static int make_scratch(const struct rombsr_config *cfg, struct provision_paths *p)
{
	int r = rombsr_mkdir_p(cfg->state_dir, 0700);

	if (r < 0)
		return r;
	if (asprintf(&p->scratch, "%s/.provision-XXXXXX", cfg->state_dir) < 0 ||
	    asprintf(&p->tokens, "%s/tokens", cfg->state_dir) < 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (mkdtemp(p->scratch) == NULL) {
		free(p->scratch);
		p->scratch = NULL;
		return rombsr_error(ROMBSR_EIO, "cannot create a scratch folder in %s", cfg->state_dir);
	}
	if (asprintf(&p->scratch_conf, "%s/softhsm2.conf", p->scratch) < 0 ||
	    asprintf(&p->scratch_tokens, "%s/tokens", p->scratch) < 0 ||
	    asprintf(&p->old_tokens, "%s/old-tokens", p->scratch) < 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_mkdir_p(p->scratch_tokens, 0700);
	if (r == 0)
		r = rombsr_softhsm_write_conf(p->scratch_conf, p->scratch_tokens);
	return r;
}

static int init_authority_token(const struct rombsr_authority_config *a, struct rombsr_buf *so_pin,
				struct rombsr_buf *user_pin)
{
	char label[33];
	int r;

	r = rombsr_hsm_uri_token_label(a->token_uri, label);
	if (r == 0)
		r = rombsr_secret_random_hex(32, so_pin);
	if (r == 0)
		r = rombsr_secret_random_hex(32, user_pin);
	if (r == 0)
		r = rombsr_hsm_init_token(a->module, label, (const char *)so_pin->data, (const char *)user_pin->data);
	if (r == 0)
		cli_info("created token '%s' for the %s authority", label, a->name);
	return r < 0 ? rombsr_error_wrap(r, "%s authority", a->name) : 0;
}

/* Every authority's token is checked before any is created: a bad second
 * URI must not leave a first token behind. */
static int check_labels(const struct rombsr_config *cfg)
{
	char labels[ROMBSR_AUTHORITY_COUNT][33];

	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		int r = rombsr_hsm_uri_token_label(cfg->authority[i].token_uri, labels[i]);

		if (r < 0)
			return rombsr_error_wrap(r, "%s authority", cfg->authority[i].name);
		for (int j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return rombsr_error(ROMBSR_ECONFIG,
						    "the %s and %s authorities name the same token '%s'; each "
						    "authority needs a token of its own",
						    cfg->authority[j].name, cfg->authority[i].name, labels[i]);
	}
	return 0;
}

int cmd_hsm_provision(struct cli_context *ctx, int argc, char **argv)
{
	struct provision_paths paths = {0};
	struct new_pins pins = {0};
	const struct rombsr_config *cfg;
	struct cli_parser p;
	const char *backend = "softhsm2";
	bool force = false, resume = false;
	unsigned custodians = 0;
	int r;

	cli_parser_init(&p, options, argc, argv);
	while ((r = cli_next(&p, "[--force] [--backend softhsm2|yubihsm [--resume] [--custodian admin|backup]]")) > 0) {
		force |= r == OPT_FORCE;
		resume |= r == OPT_RESUME;
		if (r == OPT_BACKEND)
			backend = p.value;
		if (r == OPT_CUSTODIAN && strcmp(p.value, "admin") == 0)
			custodians |= YUBIHSM_CUSTODIAN_ADMIN;
		else if (r == OPT_CUSTODIAN && strcmp(p.value, "backup") == 0)
			custodians |= YUBIHSM_CUSTODIAN_BACKUP;
		else if (r == OPT_CUSTODIAN)
			return rombsr_error(ROMBSR_EINVAL, "--custodian: '%s' is neither admin nor backup (the signing and "
							   "log keys serve the sign node unattended)", p.value);
	}
	if (r < 0)
		return r;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (strcmp(backend, "softhsm2") != 0 && strcmp(backend, "yubihsm") != 0)
		return rombsr_error(ROMBSR_EINVAL, "--backend: '%s' is neither softhsm2 nor yubihsm", backend);
	if ((resume || custodians != 0) && strcmp(backend, "yubihsm") != 0)
		return rombsr_error(ROMBSR_EINVAL, "--resume and --custodian are for --backend yubihsm");
	r = cli_config(ctx, &cfg);
	if (r < 0)
		return r;
	if ((strcmp(backend, "yubihsm") == 0) != (cfg->hsm_backend == ROMBSR_HSM_BACKEND_YUBIHSM))
		return rombsr_error(ROMBSR_ECONFIG, "--backend %s, but the configuration's hsm.backend is %s", backend,
				    cfg->hsm_backend == ROMBSR_HSM_BACKEND_YUBIHSM ? "yubihsm" : "pkcs11");
	if (cfg->hsm_backend == ROMBSR_HSM_BACKEND_YUBIHSM)
		return yubihsm_provision(ctx, cfg, resume, custodians);
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		if (!rombsr_softhsm_is_module(cfg->authority[i].module))
			return rombsr_error(ROMBSR_EUNSUPPORTED,
					    "the %s authority uses %s, not SoftHSM2: hsm-provision only creates the "
					    "embedded default; provision a hardware HSM with its vendor's ceremony",
					    cfg->authority[i].name, cfg->authority[i].module);
	r = check_labels(cfg);
	if (r < 0)
		return r;
	r = make_scratch(cfg, &paths);
	if (r < 0)
		goto out;
	if (folder_has_entries(paths.tokens) && !force) {
		r = rombsr_error(ROMBSR_EEXISTS,
				 "ROMbsr's tokens already exist in %s; re-provisioning destroys every key in "
				 "them: pass --force if that is what you want",
				 paths.tokens);
		goto out;
	}
	if (setenv("SOFTHSM2_CONF", paths.scratch_conf, 1) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot set SOFTHSM2_CONF");
		goto out;
	}
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++)
		r = init_authority_token(&cfg->authority[i], &pins.so_pin[i], &pins.user_pin[i]);
	if (r == 0)
		r = install_pins(cfg, &pins);
	if (r < 0)
		goto out;
	if (rombsr_path_exists(paths.tokens) && rename(paths.tokens, paths.old_tokens) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot move the old tokens out of %s", paths.tokens);
		goto out;
	}
	if (rename(paths.scratch_tokens, paths.tokens) != 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot move the new tokens to %s", paths.tokens);
		goto out;
	}
	r = rombsr_softhsm_write_conf(cfg->softhsm2_conf, paths.tokens);
	if (r == 0)
		r = rombsr_fsync_dir(cfg->state_dir);
	if (r == 0)
		cli_info("provisioned SoftHSM2 tokens in %s (configuration %s)", paths.tokens, cfg->softhsm2_conf);
out:
	new_pins_free(&pins);
	paths_free(&paths);
	return r;
}
