/* rombsr-sign hsm-provision --backend yubihsm: seed 000's sequence on a
 * YubiHSM 2 (docs/yubihsm.md, "Provisioning"). Logged in with the factory
 * key 1 ("password"), it puts the administrator (2), signing (3), backup
 * (4), audit-log (5) and loader (6) authentication keys, each with the
 * capabilities of its role and the delegated capabilities that bound what
 * it may create, turns force audit on, and deletes key 1 last.
 *
 * Each role's password is random and written, mode 0600, before its key is
 * put on the device: an interruption leaves either a file whose key is not
 * there yet, or both. --resume then carries on from the files (a key
 * already on the device is deleted and put again from its file, so the two
 * always agree); while key 1 exists, nothing is lost. */
#define _GNU_SOURCE
#include "node.h"
#include "yubihsm_provision.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/secret.h"
#include "../yubihsm/yh_client.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP YH_CAP
/* What a signing key may do: sign, and leave the device only wrapped. */
#define KEY_CAPS                                                                                                   \
	(CAP(YH_CAP_SIGN_PKCS) | CAP(YH_CAP_SIGN_PSS) | CAP(YH_CAP_SIGN_ECDSA) | CAP(YH_CAP_EXPORTABLE_UNDER_WRAP))
#define WRAP_KEY_CAPS (CAP(YH_CAP_EXPORT_WRAPPED) | CAP(YH_CAP_IMPORT_WRAPPED))
#define SIGNING_CAPS (CAP(YH_CAP_SIGN_PKCS) | CAP(YH_CAP_SIGN_PSS) | CAP(YH_CAP_SIGN_ECDSA) | CAP(YH_CAP_GET_OPAQUE))
/* The backup key takes keys out wrapped and puts them back (a restore
 * stores their certificates, and undoes a half-done one). */
#define BACKUP_CAPS                                                                                                \
	(CAP(YH_CAP_EXPORT_WRAPPED) | CAP(YH_CAP_IMPORT_WRAPPED) | CAP(YH_CAP_GET_OPAQUE) | CAP(YH_CAP_PUT_OPAQUE) | \
	 CAP(YH_CAP_DELETE_OPAQUE) | CAP(YH_CAP_DELETE_ASYMMETRIC_KEY))
#define AUDIT_CAPS (CAP(YH_CAP_GET_LOG_ENTRIES))
/* The signer's second key (hsm.capacity): it brings a key kept wrapped on
 * disk onto the device and deletes it again; it can neither sign nor
 * export, and what it imports keeps no more than a key's rights. */
#define LOADER_CAPS (CAP(YH_CAP_IMPORT_WRAPPED) | CAP(YH_CAP_DELETE_ASYMMETRIC_KEY))
#define ADMIN_CAPS                                                                                                 \
	(CAP(YH_CAP_GENERATE_ASYMMETRIC_KEY) | CAP(YH_CAP_PUT_OPAQUE) | CAP(YH_CAP_GET_OPAQUE) |                   \
	 CAP(YH_CAP_DELETE_OPAQUE) | CAP(YH_CAP_DELETE_ASYMMETRIC_KEY) | CAP(YH_CAP_PUT_AUTHENTICATION_KEY) |      \
	 CAP(YH_CAP_DELETE_AUTHENTICATION_KEY) | CAP(YH_CAP_CHANGE_AUTHENTICATION_KEY) |                           \
	 CAP(YH_CAP_GENERATE_WRAP_KEY) | CAP(YH_CAP_PUT_WRAP_KEY) | CAP(YH_CAP_DELETE_WRAP_KEY) |                  \
	 CAP(YH_CAP_SET_OPTION) | CAP(YH_CAP_GET_OPTION))
/* The administrator may hand out every right the other roles and the
 * objects it makes hold, and nothing else. */
#define ADMIN_DELEGATED (ADMIN_CAPS | KEY_CAPS | WRAP_KEY_CAPS | SIGNING_CAPS | BACKUP_CAPS | AUDIT_CAPS | LOADER_CAPS)

/* The signing and administrator keys serve every authority: their PIN
 * goes to each authority's pin-file (so-pin-file), paths[0] first. A
 * custodian's role (--custodian) has its password typed, stored nowhere. */
struct role {
	const char *name;
	uint16_t id;
	uint64_t capabilities, delegated;
	const char *paths[ROMBSR_AUTHORITY_COUNT];
	bool custodian;
};

#define CUSTODIAN_PASSWORD_MIN 12

/* Asked twice on the terminal; the two must agree. */
static int custodian_password(const struct role *role, struct rombsr_buf *password)
{
	struct rombsr_buf again = {0};
	char prompt[160];
	int r;

	snprintf(prompt, sizeof(prompt), "Password for the %s key (0x%04x), typed by its custodian and stored nowhere: ",
		 role->name, role->id);
	r = rombsr_secret_prompt(prompt, password);
	if (r == 0 && password->len < CUSTODIAN_PASSWORD_MIN)
		r = rombsr_error(ROMBSR_EINVAL, "the %s key's password must have %d characters or more", role->name,
				 CUSTODIAN_PASSWORD_MIN);
	if (r == 0)
		r = rombsr_secret_prompt("Again: ", &again);
	if (r == 0 && (again.len != password->len || CRYPTO_memcmp(again.data, password->data, again.len) != 0))
		r = rombsr_error(ROMBSR_EINVAL, "the two passwords for the %s key differ", role->name);
	rombsr_buf_free(&again);
	if (r < 0)
		rombsr_buf_free(password);
	return r;
}

static int write_pin(const char *path, uint16_t id, const struct rombsr_buf *password)
{
	char *text = NULL;
	int n = asprintf(&text, "%04x%s", id, (const char *)password->data), r;

	if (n < 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	const char *slash = strrchr(path, '/');
	char dir[4096];

	r = 0;
	if (slash != NULL && slash != path &&
	    (size_t)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) < sizeof(dir))
		r = rombsr_mkdir_p(dir, 0700);
	if (r == 0)
		r = rombsr_file_write_atomic(path, text, (size_t)n, 0600, true);
	OPENSSL_cleanse(text, (size_t)n);
	free(text);
	return r;
}

/* The role's password: from its file if a run before wrote one (the file
 * names this role's key), else a new random one, written first. */
static int role_password(const struct role *role, struct rombsr_buf *password)
{
	struct rombsr_buf pin = {0};
	const char *rest;
	uint16_t id;
	int r;

	if (role->custodian)
		return custodian_password(role, password);
	if (!rombsr_path_exists(role->paths[0])) {
		r = rombsr_secret_random_hex(32, password);
		for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && role->paths[i] != NULL && r == 0; i++)
			r = write_pin(role->paths[i], role->id, password);
		return r;
	}
	r = rombsr_secret_from_file(role->paths[0], &pin);
	if (r == 0)
		r = rombsr_yh_parse_pin((const char *)pin.data, &id, &rest);
	if (r == 0 && id != role->id)
		r = rombsr_error(ROMBSR_EINVAL, "%s names authentication key 0x%04x, not the %s key 0x%04x", role->paths[0],
				 id, role->name, role->id);
	if (r == 0) {
		rombsr_buf_init(password, ROMBSR_SECRET_MAX);
		rombsr_buf_append_str(password, rest);
		r = rombsr_buf_check(password, "password");
	}
	/* A run stopped between the first file and the others: the others
	 * are written now, or an authority would be left without its PIN. */
	for (int i = 1; i < ROMBSR_AUTHORITY_COUNT && role->paths[i] != NULL && r == 0; i++)
		if (!rombsr_path_exists(role->paths[i]))
			r = write_pin(role->paths[i], role->id, password);
	rombsr_buf_free(&pin);
	return r;
}

static int put_role(struct rombsr_yh_session *s, const struct role *role)
{
	struct rombsr_yh_new_object o = {
		.id = role->id,
		.label = role->name,
		.domains = 0x0001,
		.capabilities = role->capabilities,
		.algorithm = YH_ALGO_AES128_YUBICO_AUTHENTICATION,
		.delegated = role->delegated,
	};
	struct rombsr_yh_object_info info;
	struct rombsr_buf password = {0};
	int r = role_password(role, &password);

	if (r == 0 && rombsr_yh_object_info(s, role->id, YH_TYPE_AUTHENTICATION_KEY, &info) == 0)
		r = rombsr_yh_delete_object(s, role->id, YH_TYPE_AUTHENTICATION_KEY);
	if (r == 0)
		r = rombsr_yh_put_authentication_key(s, &o, (const char *)password.data, password.len);
	rombsr_buf_free(&password);
	if (r == 0 && role->custodian)
		cli_info("created the %s authentication key (0x%04x), its password its custodian's", role->name, role->id);
	else if (r == 0)
		cli_info("created the %s authentication key (0x%04x), its PIN in %s", role->name, role->id, role->paths[0]);
	return r < 0 ? rombsr_error_wrap(r, "%s key 0x%04x", role->name, role->id) : 0;
}

static int check_not_provisioned(struct rombsr_yh_connector *c, bool resume, struct rombsr_yh_session **factory)
{
	int r = rombsr_yh_session_open(c, YH_FACTORY_AUTH_KEY, YH_FACTORY_PASSWORD, strlen(YH_FACTORY_PASSWORD),
				       factory);

	if (r == ROMBSR_EAUTH || (r < 0 && rombsr_yh_last_device_error() == YH_ERR_OBJECT_NOT_FOUND))
		return rombsr_error(ROMBSR_EPERM, "the YubiHSM's authentication key 1 is not the factory default (%s): %s",
				    r == ROMBSR_EAUTH ? "its password is not \"password\"" : "it is gone",
				    resume ? "provisioning had finished; nothing to resume"
					   : "this device was provisioned before; refusing to touch it (reset it, "
					     "or pass --resume to finish an interrupted provisioning)");
	return r;
}

/* Without --resume, a trace of an earlier run (a role's PIN file or key)
 * is refused: finishing someone's interrupted ceremony is a decision. */
static int check_fresh(struct rombsr_yh_session *s, const struct role *roles, size_t n)
{
	struct rombsr_yh_object_info info;

	for (size_t i = 0; i < n; i++) {
		if (!roles[i].custodian && rombsr_path_exists(roles[i].paths[0]))
			return rombsr_error(ROMBSR_EEXISTS, "%s exists: an earlier provisioning was interrupted; pass "
							    "--resume to finish it", roles[i].paths[0]);
		if (rombsr_yh_object_info(s, roles[i].id, YH_TYPE_AUTHENTICATION_KEY, &info) == 0)
			return rombsr_error(ROMBSR_EEXISTS, "the device holds authentication key 0x%04x already: an "
							    "earlier provisioning was interrupted; pass --resume to finish it",
					    roles[i].id);
	}
	return 0;
}

int yubihsm_provision(struct cli_context *ctx, const struct rombsr_config *cfg, bool resume, unsigned custodians)
{
	const struct rombsr_authority_config *a = cfg->authority;
	struct role roles[] = {
		{"rombsr-admin", 2, ADMIN_CAPS, ADMIN_DELEGATED, {a[0].so_pin_file, a[1].so_pin_file, a[2].so_pin_file},
		 (custodians & YUBIHSM_CUSTODIAN_ADMIN) != 0},
		{"rombsr-signing", 3, SIGNING_CAPS, 0, {a[0].pin_file, a[1].pin_file, a[2].pin_file}, false},
		{"rombsr-backup", 4, BACKUP_CAPS, KEY_CAPS, {a[0].backup_pin_file, NULL, NULL},
		 (custodians & YUBIHSM_CUSTODIAN_BACKUP) != 0},
		{"rombsr-audit-log", 5, AUDIT_CAPS, 0, {a[0].log_pin_file, NULL, NULL}, false},
		{"rombsr-loader", 6, LOADER_CAPS, KEY_CAPS, {a[0].loader_pin_file, NULL, NULL}, false},
	};
	const uint8_t force_audit = 1;
	struct rombsr_yh_connector *c = NULL;
	struct rombsr_yh_session *factory = NULL;
	int r;

	(void)ctx;
	r = rombsr_yh_connector_open(a->connector, &c);
	if (r == 0)
		r = check_not_provisioned(c, resume, &factory);
	if (r == 0 && !resume)
		r = check_fresh(factory, roles, sizeof(roles) / sizeof(roles[0]));
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]) && r == 0; i++)
		r = put_role(factory, &roles[i]);
	/* Calyx's lesson (seed 001): a signature the device did not log must
	 * not be possible. */
	if (r == 0)
		r = rombsr_yh_set_option(factory, YH_OPTION_FORCE_AUDIT, &force_audit, 1);
	if (r == 0)
		r = rombsr_yh_delete_object(factory, YH_FACTORY_AUTH_KEY, YH_TYPE_AUTHENTICATION_KEY);
	if (r == 0)
		cli_info("force audit is on; deleted the factory authentication key 1");
	/* Key 1 deleted itself: closing its session is refused, and only
	 * wipes it here. */
	rombsr_yh_session_close(factory);
	rombsr_yh_connector_close(c);
	return r;
}
