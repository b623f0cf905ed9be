#define _GNU_SOURCE
#include "config.h"

#include "error.h"
#include "fsutil.h"
#include "keyset.h"

#include <git2.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const authority_names[ROMBSR_AUTHORITY_COUNT] = {
	[ROMBSR_AUTHORITY_RELEASE] = "release",
	[ROMBSR_AUTHORITY_MANIFEST] = "manifest",
	[ROMBSR_AUTHORITY_AUDIT] = "audit",
};

const char *rombsr_authority_name(enum rombsr_authority_id id)
{
	return id < ROMBSR_AUTHORITY_COUNT ? authority_names[id] : "?";
}

int rombsr_authority_from_name(const char *name, enum rombsr_authority_id *id)
{
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		if (strcmp(name, authority_names[i]) == 0) {
			*id = (enum rombsr_authority_id)i;
			return 0;
		}
	}
	return rombsr_error(ROMBSR_EINVAL, "unknown authority '%s' (known: release, manifest, audit)", name);
}

static int replace(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

static int replace_concat(char **slot, const char *a, const char *b, const char *c)
{
	char *s;

	if (asprintf(&s, "%s%s%s", a, b, c) < 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	free(*slot);
	*slot = s;
	return 0;
}

static int append(char **slot, const char *suffix)
{
	return replace_concat(slot, *slot, suffix, "");
}

/* OpenPGP fingerprints are compared as text everywhere: one spelling only. */
static int fingerprint_ok(const char *value, const char *file, const char *key)
{
	size_t n = strlen(value);

	if (n != 40 || strspn(value, "0123456789ABCDEF") != 40)
		return rombsr_error(ROMBSR_ECONFIG, "%s: %s: '%.48s' is not an OpenPGP fingerprint (40 upper-case hex)",
				    file, key, value);
	return 0;
}

/* The checkpoint origin line of the C2SP signed-note format. */
static int origin_ok(const char *value, const char *file, const char *key)
{
	size_t n = strlen(value);

	for (size_t i = 0; i < n; i++)
		if (value[i] <= ' ' || value[i] > '~' || value[i] == '+')
			n = 0;
	if (n == 0 || n > 255)
		return rombsr_error(ROMBSR_ECONFIG, "%s: %s: 1 to 255 printable characters, no space or '+'", file, key);
	return 0;
}

static int add_admin(struct rombsr_config *cfg, const char *value, const char *file)
{
	int r = fingerprint_ok(value, file, "queue.admin");

	if (r < 0)
		return r;
	if (cfg->queue_nadmins == ROMBSR_CONFIG_MAX_ADMINS)
		return rombsr_error(ROMBSR_ECONFIG, "%s: more than %d queue.admin keys", file, ROMBSR_CONFIG_MAX_ADMINS);
	memcpy(cfg->queue_admins[cfg->queue_nadmins++], value, 41);
	return 0;
}

struct entry_ctx {
	struct rombsr_config *cfg;
	const char *file;
	int r;
};

static int set_authority_key(struct rombsr_config *cfg, const char *rest, const char *value,
			     const char *file, const char *full)
{
	enum rombsr_authority_id id;
	const char *dot = strrchr(rest, '.');
	char name[64];
	struct rombsr_authority_config *a;

	if (dot == NULL || (size_t)(dot - rest) >= sizeof(name))
		return rombsr_error(ROMBSR_ECONFIG, "%s: unknown key '%s'", file, full);
	memcpy(name, rest, (size_t)(dot - rest));
	name[dot - rest] = '\0';
	if (rombsr_authority_from_name(name, &id) < 0)
		return rombsr_error(ROMBSR_ECONFIG, "%s: '%s': unknown authority '%s' (known: release, manifest, audit)",
				    file, full, name);
	a = &cfg->authority[id];
	if (strcmp(dot + 1, "module") == 0)
		return replace(&a->module, value);
	if (strcmp(dot + 1, "token") == 0)
		return replace(&a->token_uri, value);
	if (strcmp(dot + 1, "pin-file") == 0)
		return replace(&a->pin_file, value);
	if (strcmp(dot + 1, "so-pin-file") == 0)
		return replace(&a->so_pin_file, value);
	return rombsr_error(ROMBSR_ECONFIG, "%s: unknown key '%s'", file, full);
}

static int set_backend(struct rombsr_config *cfg, const char *value, const char *file)
{
	if (strcmp(value, "pkcs11") == 0)
		cfg->hsm_backend = ROMBSR_HSM_BACKEND_PKCS11;
	else if (strcmp(value, "yubihsm") == 0)
		cfg->hsm_backend = ROMBSR_HSM_BACKEND_YUBIHSM;
	else
		return rombsr_error(ROMBSR_ECONFIG, "%s: hsm.backend: '%s' is neither pkcs11 nor yubihsm", file, value);
	return 0;
}

/* A positive decimal count no larger than max. */
static int count_ok(const char *value, unsigned long long max, const char *file, const char *name, size_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(value, &end, 10);
	if (value[0] < '1' || value[0] > '9' || *end != '\0' || errno != 0 || n > max)
		return rombsr_error(ROMBSR_ECONFIG, "%s: %s: a count from 1 to %llu expected", file, name, max);
	*out = (size_t)n;
	return 0;
}

/* server.key-<route>: the key-set label an artifact route signs with
 * (docs/server.md); git config lower-cases the name. */
static int set_route_key(struct rombsr_config *cfg, const char *name, const char *value, const char *file)
{
	static const char *const routes[] = {"modules", "swupdate", "uefi", "fitimage"};
	char **slots[] = {&cfg->server_key_modules, &cfg->server_key_swupdate, &cfg->server_key_uefi,
			  &cfg->server_key_fitimage};
	size_t n = strlen(value);

	if (n > 64 || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != n)
		return rombsr_error(ROMBSR_ECONFIG, "%s: %s: '%s' is not a key label", file, name, value);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(name + 11, routes[i]) == 0)
			return replace(slots[i], value);
	return rombsr_error(ROMBSR_ECONFIG, "%s: unknown key '%s' (routes: modules, swupdate, uefi, fitimage)", file,
			    name);
}

static int apply_entry(const git_config_entry *entry, void *payload)
{
	struct entry_ctx *ctx = payload;
	const char *name = entry->name;
	const char *value = entry->value ? entry->value : "";

	if (value[0] == '\0') {
		ctx->r = rombsr_error(ROMBSR_ECONFIG, "%s: key '%s' has no value", ctx->file, name);
	} else if (strcmp(name, "core.state-dir") == 0) {
		ctx->r = replace(&ctx->cfg->state_dir, value);
	} else if (strcmp(name, "queue.url") == 0) {
		ctx->r = replace(&ctx->cfg->queue_url, value);
	} else if (strcmp(name, "queue.clone") == 0) {
		ctx->r = replace(&ctx->cfg->queue_clone, value);
	} else if (strcmp(name, "queue.admin") == 0) {
		ctx->r = add_admin(ctx->cfg, value, ctx->file);
	} else if (strcmp(name, "gpg.home") == 0) {
		ctx->r = replace(&ctx->cfg->gpg_home, value);
	} else if (strcmp(name, "gpg.key") == 0) {
		ctx->r = fingerprint_ok(value, ctx->file, name);
		if (ctx->r == 0)
			ctx->r = replace(&ctx->cfg->gpg_key, value);
	} else if (strcmp(name, "audit.origin") == 0) {
		ctx->r = origin_ok(value, ctx->file, name);
		if (ctx->r == 0)
			ctx->r = replace(&ctx->cfg->audit_origin, value);
	} else if (strcmp(name, "audit.vkey") == 0) {
		ctx->r = replace(&ctx->cfg->audit_vkey, value);
	} else if (strcmp(name, "audit.anomaly-hours") == 0) {
		ctx->r = replace(&ctx->cfg->anomaly_hours, value);
	} else if (strcmp(name, "audit.anomaly-volume-factor") == 0) {
		ctx->r = count_ok(value, 1000000, ctx->file, name, &ctx->cfg->anomaly_volume_factor);
	} else if (strcmp(name, "audit.anomaly-volume-min") == 0) {
		ctx->r = count_ok(value, 1000000000, ctx->file, name, &ctx->cfg->anomaly_volume_min);
	} else if (strcmp(name, "audit.anomaly-baseline-days") == 0) {
		ctx->r = count_ok(value, 3650, ctx->file, name, &ctx->cfg->anomaly_baseline_days);
	} else if (strcmp(name, "sign.max-waiting") == 0) {
		ctx->r = count_ok(value, ROMBSR_CONFIG_MAX_WAITING, ctx->file, name, &ctx->cfg->max_waiting);
	} else if (strcmp(name, "sign.metrics-listen") == 0) {
		ctx->r = replace(&ctx->cfg->metrics_listen, value);
	} else if (strcmp(name, "server.listen") == 0) {
		ctx->r = replace(&ctx->cfg->server_listen, value);
	} else if (strcmp(name, "server.certificate") == 0) {
		ctx->r = replace(&ctx->cfg->server_certificate, value);
	} else if (strcmp(name, "server.key") == 0) {
		ctx->r = replace(&ctx->cfg->server_key, value);
	} else if (strcmp(name, "server.client-ca") == 0) {
		ctx->r = replace(&ctx->cfg->server_client_ca, value);
	} else if (strcmp(name, "server.max-connections") == 0) {
		ctx->r = count_ok(value, ROMBSR_CONFIG_MAX_SERVER_CONNECTIONS, ctx->file, name,
				  &ctx->cfg->server_max_connections);
	} else if (strcmp(name, "server.timeout") == 0) {
		ctx->r = count_ok(value, ROMBSR_CONFIG_MAX_SERVER_TIMEOUT, ctx->file, name, &ctx->cfg->server_timeout);
	} else if (strcmp(name, "server.max-body") == 0) {
		ctx->r = count_ok(value, ROMBSR_CONFIG_MAX_SERVER_MAX_BODY, ctx->file, name, &ctx->cfg->server_max_body);
	} else if (strcmp(name, "server.bundle") == 0) {
		ctx->r = replace(&ctx->cfg->server_bundle, value);
	} else if (strcmp(name, "server.capture-module") == 0) {
		ctx->r = replace(&ctx->cfg->server_capture_module, value);
	} else if (strcmp(name, "server.tool-timeout") == 0) {
		ctx->r = count_ok(value, ROMBSR_CONFIG_MAX_SERVER_TOOL_TIMEOUT, ctx->file, name,
				  &ctx->cfg->server_tool_timeout);
	} else if (strncmp(name, "server.key-", 11) == 0) {
		ctx->r = set_route_key(ctx->cfg, name, value, ctx->file);
	} else if (strcmp(name, "sign.signer-sessions") == 0) {
		ctx->r = count_ok(value, ROMBSR_CONFIG_MAX_SIGNER_SESSIONS, ctx->file, name, &ctx->cfg->signer_sessions);
	} else if (strcmp(name, "sign.user") == 0) {
		ctx->r = replace(&ctx->cfg->worker_user, value);
	} else if (strcmp(name, "sign.signer-user") == 0) {
		ctx->r = replace(&ctx->cfg->signer_user, value);
	} else if (strcmp(name, "keyset.file") == 0) {
		ctx->r = replace(&ctx->cfg->keyset_file, value);
	} else if (strcmp(name, "hsm.softhsm2-conf") == 0) {
		ctx->r = replace(&ctx->cfg->softhsm2_conf, value);
	} else if (strcmp(name, "hsm.capacity") == 0) {
		ctx->r = count_ok(value, ROMBSR_CONFIG_MAX_CAPACITY, ctx->file, name, &ctx->cfg->hsm_capacity);
	} else if (strcmp(name, "hsm.unwrap-slots") == 0) {
		ctx->r = count_ok(value, ROMBSR_CONFIG_MAX_CAPACITY, ctx->file, name, &ctx->cfg->hsm_unwrap_slots);
	} else if (strcmp(name, "hsm.backend") == 0) {
		ctx->r = set_backend(ctx->cfg, value, ctx->file);
	} else if (strcmp(name, "hsm.connector") == 0) {
		ctx->r = replace(&ctx->cfg->hsm_connector, value);
	} else if (strcmp(name, "hsm.module") == 0) {
		ctx->r = 0; /* applied before the walk, see read_file() */
	} else if (strncmp(name, "authority.", 10) == 0) {
		ctx->r = set_authority_key(ctx->cfg, name + 10, value, ctx->file, name);
	} else {
		ctx->r = rombsr_error(ROMBSR_ECONFIG, "%s: unknown key '%s'", ctx->file, name);
	}
	return ctx->r < 0 ? GIT_EUSER : 0;
}

/* hsm.module applies to every authority unless one names its own, so it is
 * read first whatever its place in the file. */
static int read_file(struct rombsr_config *cfg, const char *path)
{
	struct entry_ctx ctx = {cfg, path, 0};
	git_config *gc = NULL;
	git_config_entry *module = NULL;
	int r;

	if (git_libgit2_init() < 0)
		return rombsr_error(ROMBSR_EINTERNAL, "libgit2 failed to start");
	if (!rombsr_path_exists(path)) {
		r = rombsr_error(ROMBSR_ENOTFOUND, "config file %s does not exist", path);
		goto out;
	}
	if (git_config_open_ondisk(&gc, path) < 0) {
		const git_error *e = git_error_last();

		r = rombsr_error(ROMBSR_ECONFIG, "%s", e ? e->message : "cannot parse config file");
		goto out;
	}
	if (git_config_get_entry(&module, gc, "hsm.module") == 0) {
		for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
			if ((r = replace(&cfg->authority[i].module, module->value)) < 0)
				goto out;
	}
	if (git_config_foreach(gc, apply_entry, &ctx) < 0 && ctx.r == 0) {
		const git_error *e = git_error_last();

		ctx.r = rombsr_error(ROMBSR_ECONFIG, "%s: %s", path, e ? e->message : "cannot read");
	}
	r = ctx.r;
out:
	git_config_entry_free(module);
	git_config_free(gc);
	git_libgit2_shutdown();
	return r;
}

/* At least one place must stay free for unwrapping, or a key kept on disk
 * could never sign. */
static int capacity_defaults(struct rombsr_config *cfg)
{
	const char *file = cfg->source ? cfg->source : "configuration";

	if (cfg->hsm_capacity == 0 && cfg->hsm_unwrap_slots != 0)
		return rombsr_error(ROMBSR_ECONFIG, "%s: hsm.unwrap-slots needs hsm.capacity", file);
	if (cfg->hsm_capacity != 0 && cfg->hsm_unwrap_slots == 0)
		cfg->hsm_unwrap_slots = cfg->hsm_capacity > ROMBSR_CONFIG_DEFAULT_UNWRAP_SLOTS
						? ROMBSR_CONFIG_DEFAULT_UNWRAP_SLOTS
						: 1;
	if (cfg->hsm_unwrap_slots > cfg->hsm_capacity)
		return rombsr_error(ROMBSR_ECONFIG, "%s: hsm.unwrap-slots (%zu) must not exceed hsm.capacity (%zu)", file,
				    cfg->hsm_unwrap_slots, cfg->hsm_capacity);
	return 0;
}

/* Values that depend on the state folder are filled in after the file is
 * read, so that core.state-dir moves them all. */
static int fill_defaults(struct rombsr_config *cfg)
{
	int r = 0;

	if (cfg->state_dir == NULL)
		r = replace(&cfg->state_dir, ROMBSR_DEFAULT_STATE_DIR);
	if (r == 0 && cfg->queue_clone == NULL)
		r = replace_concat(&cfg->queue_clone, cfg->state_dir, "/queue.git", "");
	if (r == 0 && cfg->softhsm2_conf == NULL)
		r = replace_concat(&cfg->softhsm2_conf, cfg->state_dir, "/softhsm2.conf", "");
	if (cfg->max_waiting == 0)
		cfg->max_waiting = ROMBSR_CONFIG_MAX_WAITING;
	if (cfg->signer_sessions == 0)
		cfg->signer_sessions = ROMBSR_CONFIG_DEFAULT_SIGNER_SESSIONS;
	if (cfg->server_max_connections == 0)
		cfg->server_max_connections = ROMBSR_CONFIG_DEFAULT_SERVER_CONNECTIONS;
	if (cfg->server_timeout == 0)
		cfg->server_timeout = ROMBSR_CONFIG_DEFAULT_SERVER_TIMEOUT;
	if (cfg->server_max_body == 0)
		cfg->server_max_body = ROMBSR_CONFIG_DEFAULT_SERVER_MAX_BODY;
	if (cfg->server_tool_timeout == 0)
		cfg->server_tool_timeout = ROMBSR_CONFIG_DEFAULT_SERVER_TOOL_TIMEOUT;
	/* One without the other would leave the worker able to read PINs. */
	if (r == 0 && (cfg->worker_user == NULL) != (cfg->signer_user == NULL))
		r = rombsr_error(ROMBSR_ECONFIG, "%s: sign.user and sign.signer-user are set together or not at all",
				 cfg->source ? cfg->source : "configuration");
	if (r == 0 && cfg->worker_user != NULL && strcmp(cfg->worker_user, cfg->signer_user) == 0)
		r = rombsr_error(ROMBSR_ECONFIG, "%s: sign.user and sign.signer-user must be two different users",
				 cfg->source ? cfg->source : "configuration");
	if (r == 0 && cfg->audit_origin == NULL)
		r = replace(&cfg->audit_origin, ROMBSR_DEFAULT_AUDIT_ORIGIN);
	r = r == 0 ? capacity_defaults(cfg) : r;
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++) {
		struct rombsr_authority_config *a = &cfg->authority[i];

		a->name = authority_names[i];
		if (a->module == NULL)
			r = replace(&a->module, ROMBSR_DEFAULT_MODULE);
		if (r == 0 && a->token_uri == NULL)
			r = replace_concat(&a->token_uri, "pkcs11:token=rombsr-", a->name, "");
		if (r == 0 && a->pin_file == NULL)
			r = replace_concat(&a->pin_file, cfg->state_dir, "/pins/", a->name) == 0 ? append(&a->pin_file, ".pin") : ROMBSR_ENOMEM;
		if (r == 0 && a->so_pin_file == NULL)
			r = replace_concat(&a->so_pin_file, cfg->state_dir, "/pins/", a->name) == 0 ? append(&a->so_pin_file, ".so-pin") : ROMBSR_ENOMEM;
		if (r == 0)
			r = replace_concat(&a->wrapped_dir, cfg->state_dir, "/wrapped/", a->name);
		a->backend = cfg->hsm_backend;
		if (r == 0 && a->backend == ROMBSR_HSM_BACKEND_YUBIHSM)
			r = replace(&a->connector, cfg->hsm_connector ? cfg->hsm_connector : ROMBSR_DEFAULT_CONNECTOR);
		if (r == 0)
			r = replace_concat(&a->log_pin_file, cfg->state_dir, "/pins/yubihsm-log.pin", "");
		if (r == 0)
			r = replace_concat(&a->log_spool, cfg->state_dir, "/signer/yubihsm-log.spool", "");
		if (r == 0)
			r = replace_concat(&a->backup_pin_file, cfg->state_dir, "/pins/yubihsm-backup.pin", "");
		if (r == 0)
			r = replace_concat(&a->loader_pin_file, cfg->state_dir, "/pins/yubihsm-loader.pin", "");
		a->capacity = cfg->hsm_capacity;
		a->unwrap_slots = cfg->hsm_unwrap_slots;
		a->sessions = cfg->signer_sessions;
	}
	return r;
}

int rombsr_config_load(const char *path, struct rombsr_config *cfg)
{
	int r = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (path == NULL || path[0] == '\0')
		path = getenv("ROMBSR_CONFIG");
	if ((path == NULL || path[0] == '\0') && rombsr_path_exists(ROMBSR_DEFAULT_CONFIG))
		path = ROMBSR_DEFAULT_CONFIG;
	if (path != NULL && path[0] != '\0') {
		r = replace(&cfg->source, path);
		if (r == 0)
			r = read_file(cfg, path);
	}
	if (r == 0)
		r = fill_defaults(cfg);
	/* Every program that reads the configuration then works with the
	 * same keys: the worker, its signers and the commands of one node. */
	if (r == 0 && (r = rombsr_keyset_use_file(cfg->keyset_file)) < 0)
		r = rombsr_error_wrap(r, "%s: keyset.file", cfg->source ? cfg->source : "configuration");
	if (r < 0)
		rombsr_config_free(cfg);
	return r;
}

void rombsr_config_free(struct rombsr_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->source);
	free(cfg->state_dir);
	free(cfg->softhsm2_conf);
	free(cfg->hsm_connector);
	free(cfg->keyset_file);
	free(cfg->queue_url);
	free(cfg->queue_clone);
	free(cfg->gpg_home);
	free(cfg->gpg_key);
	free(cfg->audit_origin);
	free(cfg->audit_vkey);
	free(cfg->anomaly_hours);
	free(cfg->worker_user);
	free(cfg->metrics_listen);
	free(cfg->server_listen);
	free(cfg->server_certificate);
	free(cfg->server_key);
	free(cfg->server_client_ca);
	free(cfg->server_bundle);
	free(cfg->server_capture_module);
	free(cfg->server_key_modules);
	free(cfg->server_key_swupdate);
	free(cfg->server_key_uefi);
	free(cfg->server_key_fitimage);
	free(cfg->signer_user);
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		free(cfg->authority[i].module);
		free(cfg->authority[i].token_uri);
		free(cfg->authority[i].pin_file);
		free(cfg->authority[i].connector);
		free(cfg->authority[i].log_pin_file);
		free(cfg->authority[i].log_spool);
		free(cfg->authority[i].backup_pin_file);
		free(cfg->authority[i].loader_pin_file);
		free(cfg->authority[i].so_pin_file);
		free(cfg->authority[i].wrapped_dir);
	}
	memset(cfg, 0, sizeof(*cfg));
}
