#define _GNU_SOURCE
#include "provision.h"

#include "hsm_internal.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot_scan {
	CK_SLOT_ID free_slot;
	bool have_free;
	CK_SLOT_ID labelled;
	bool have_labelled;
};

static int scan_slots(CK_FUNCTION_LIST *f, const char *label, struct slot_scan *scan)
{
	CK_SLOT_ID slots[64];
	CK_ULONG count = sizeof(slots) / sizeof(slots[0]);
	CK_RV rv;

	memset(scan, 0, sizeof(*scan));
	rv = f->C_GetSlotList(CK_TRUE, slots, &count);
	if (rv != CKR_OK)
		return rombsr_error(ROMBSR_EHSM, "C_GetSlotList: %s", rombsr_ckr_name(rv));
	for (CK_ULONG i = 0; i < count; i++) {
		CK_TOKEN_INFO info;
		char have[33];

		if (f->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		if (!(info.flags & CKF_TOKEN_INITIALIZED)) {
			if (!scan->have_free) {
				scan->free_slot = slots[i];
				scan->have_free = true;
			}
			continue;
		}
		rombsr_p11_string(info.label, sizeof(info.label), have);
		if (strcmp(have, label) == 0) {
			scan->labelled = slots[i];
			scan->have_labelled = true;
		}
	}
	return 0;
}

static int set_user_pin(CK_FUNCTION_LIST *f, CK_SLOT_ID slot, const char *label, const char *so_pin,
			const char *user_pin)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r = 0;

	rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return rombsr_error(ROMBSR_EHSM, "C_OpenSession (token '%s'): %s", label, rombsr_ckr_name(rv));
	rv = f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin));
	if (rv != CKR_OK) {
		r = rombsr_error(ROMBSR_EHSM, "C_Login as SO (token '%s'): %s", label, rombsr_ckr_name(rv));
		goto out;
	}
	rv = f->C_InitPIN(s, (CK_UTF8CHAR_PTR)user_pin, strlen(user_pin));
	if (rv != CKR_OK)
		r = rombsr_error(ROMBSR_EHSM, "C_InitPIN (token '%s'): %s", label, rombsr_ckr_name(rv));
	f->C_Logout(s);
out:
	f->C_CloseSession(s);
	return r;
}

int rombsr_hsm_init_token(const char *module_path, const char *label, const char *so_pin,
			  const char *user_pin)
{
	struct rombsr_module *m = NULL;
	CK_FUNCTION_LIST *f;
	struct slot_scan scan;
	unsigned char padded[32];
	CK_RV rv;
	int r;

	if (strlen(label) == 0 || strlen(label) > sizeof(padded))
		return rombsr_error(ROMBSR_EINVAL, "token label must be 1 to 32 characters");
	r = rombsr_module_acquire(module_path, &m, &f);
	if (r < 0)
		return r;
	r = scan_slots(f, label, &scan);
	if (r < 0)
		goto out;
	if (scan.have_labelled) {
		r = rombsr_error(ROMBSR_EEXISTS, "a token labelled '%s' already exists", label);
		goto out;
	}
	if (!scan.have_free) {
		r = rombsr_error(ROMBSR_ENOTFOUND, "no uninitialized slot to create token '%s' in", label);
		goto out;
	}
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, strlen(label));
	rv = f->C_InitToken(scan.free_slot, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin), padded);
	if (rv != CKR_OK) {
		r = rombsr_error(ROMBSR_EHSM, "C_InitToken (token '%s'): %s", label, rombsr_ckr_name(rv));
		goto out;
	}
	/* SoftHSM2 gives an initialized token a new slot ID: look it up again. */
	r = scan_slots(f, label, &scan);
	if (r == 0 && !scan.have_labelled)
		r = rombsr_error(ROMBSR_EHSM, "token '%s' not found after C_InitToken", label);
	if (r == 0)
		r = set_user_pin(f, scan.labelled, label, so_pin, user_pin);
out:
	rombsr_module_release(m);
	return r;
}

int rombsr_softhsm_is_module(const char *module_path)
{
	const char *base = strrchr(module_path, '/');

	base = base ? base + 1 : module_path;
	return strncmp(base, "libsofthsm2", 11) == 0;
}

static int uses_softhsm(const struct rombsr_config *cfg)
{
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		if (cfg->authority[i].backend == ROMBSR_HSM_BACKEND_PKCS11 &&
		    rombsr_softhsm_is_module(cfg->authority[i].module))
			return 1;
	return 0;
}

int rombsr_softhsm_write_conf(const char *conf_path, const char *tokendir)
{
	char *text = NULL;
	int r;

	if (asprintf(&text,
		     "# Written by rombsr hsm-provision: ROMbsr's own SoftHSM2 tokens.\n"
		     "directories.tokendir = %s\n"
		     "objectstore.backend = file\n"
		     "log.level = ERROR\n"
		     "slots.removable = false\n",
		     tokendir) < 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_file_write_atomic(conf_path, text, strlen(text), 0600, false);
	free(text);
	return r;
}

int rombsr_softhsm_prepare(const struct rombsr_config *cfg)
{
	if (!uses_softhsm(cfg))
		return 0;
	if (!rombsr_path_exists(cfg->softhsm2_conf))
		return rombsr_error(ROMBSR_ENOTFOUND,
				    "%s does not exist: run 'rombsr-sign hsm-provision' first (state folder %s)",
				    cfg->softhsm2_conf, cfg->state_dir);
	if (setenv("SOFTHSM2_CONF", cfg->softhsm2_conf, 1) != 0)
		return rombsr_error(ROMBSR_EIO, "cannot set SOFTHSM2_CONF");
	return rombsr_softhsm_guard_tokens(cfg->softhsm2_conf);
}
