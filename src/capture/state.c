/* The module's state: the bundle's objects, the sessions, the signatures
 * given and the placeholders handed out, loaded by C_Initialize and freed
 * by C_Finalize. Everything here is called with cap_lock held. */
#include "capture_internal.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_SESSION_OBJECT 0x100000UL

struct cap_module_state cap_state;
pthread_mutex_t cap_lock = PTHREAD_MUTEX_INITIALIZER;

void cap_opctx_end(struct cap_opctx *c)
{
	EVP_MD_CTX_free(c->md);
	free(c->data);
	OPENSSL_cleanse(c, sizeof(*c));
}

static void session_free(struct cap_session *s)
{
	if (s == NULL)
		return;
	cap_opctx_end(&s->sign);
	cap_opctx_end(&s->verify);
	free(s->found);
	free(s);
}

struct cap_session *cap_session_find(CK_SESSION_HANDLE h)
{
	for (size_t i = 0; i < cap_state.nsessions; i++)
		if (cap_state.sessions[i]->handle == h)
			return cap_state.sessions[i];
	return NULL;
}

struct cap_object *cap_object_find(CK_OBJECT_HANDLE h)
{
	for (size_t i = 0; i < cap_state.nobjects; i++)
		if (cap_state.objects[i]->handle == h)
			return cap_state.objects[i]->is_private && !cap_state.logged_in ? NULL : cap_state.objects[i];
	return NULL;
}

int cap_object_add(struct cap_object *o)
{
	struct cap_object **grown = realloc(cap_state.objects, (cap_state.nobjects + 1) * sizeof(*cap_state.objects));

	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	cap_state.objects = grown;
	cap_state.objects[cap_state.nobjects++] = o;
	return 0;
}

void cap_object_remove_at(size_t i)
{
	CK_OBJECT_HANDLE h = cap_state.objects[i]->handle;

	/* Operations that use the key end with it. */
	for (size_t s = 0; s < cap_state.nsessions; s++) {
		if (cap_state.sessions[s]->sign.active && cap_state.sessions[s]->sign.key == h)
			cap_opctx_end(&cap_state.sessions[s]->sign);
		if (cap_state.sessions[s]->verify.active && cap_state.sessions[s]->verify.key == h)
			cap_opctx_end(&cap_state.sessions[s]->verify);
	}
	cap_object_free(cap_state.objects[i]);
	cap_state.objects[i] = cap_state.objects[--cap_state.nobjects];
}

void cap_session_close_at(size_t i)
{
	CK_SESSION_HANDLE h = cap_state.sessions[i]->handle;

	for (size_t o = 0; o < cap_state.nobjects;) {
		if (cap_state.objects[o]->owner == h)
			cap_object_remove_at(o);
		else
			o++;
	}
	session_free(cap_state.sessions[i]);
	cap_state.sessions[i] = cap_state.sessions[--cap_state.nsessions];
	/* Login state belongs to the application's sessions: it ends with
	 * the last one (PKCS#11 2.40 section 5.6). */
	if (cap_state.nsessions == 0)
		cap_state.logged_in = false;
}

void cap_state_free(void)
{
	while (cap_state.nsessions > 0)
		cap_session_close_at(cap_state.nsessions - 1);
	free(cap_state.sessions);
	for (size_t i = 0; i < cap_state.nobjects; i++)
		cap_object_free(cap_state.objects[i]);
	free(cap_state.objects);
	if (cap_state.sigs != NULL)
		OPENSSL_cleanse(cap_state.sigs, cap_state.nsigs * sizeof(*cap_state.sigs));
	free(cap_state.sigs);
	if (cap_state.issued != NULL)
		OPENSSL_cleanse(cap_state.issued, cap_state.nissued * sizeof(*cap_state.issued));
	free(cap_state.issued);
	rombsr_bundle_free(&cap_state.bundle);
	cap_config_free(&cap_state.cfg);
	memset(&cap_state, 0, sizeof(cap_state));
}

int cap_state_load(void)
{
	int r;

	r = cap_config_load(&cap_state.cfg);
	/* Bundle errors name the file already. */
	if (r == 0)
		r = rombsr_bundle_load(cap_state.cfg.bundle, &cap_state.bundle);
	if (r == 0 && cap_state.cfg.signatures != NULL)
		r = rombsr_cap_sigset_read(cap_state.cfg.signatures, &cap_state.sigs, &cap_state.nsigs);
	for (size_t i = 0; r == 0 && i < cap_state.nsigs; i++) {
		const struct rombsr_bundle_key *k = rombsr_bundle_find_spki(&cap_state.bundle, cap_state.sigs[i].op.spki_sha256);

		if (k == NULL)
			r = rombsr_error(ROMBSR_EINVAL, "%s: signatures[%zu] is for key '%s' (%.16s...), not in the bundle",
					 cap_state.cfg.signatures, i, cap_state.sigs[i].op.label, cap_state.sigs[i].op.spki_sha256);
	}
	cap_state.rsa_min_bits = 0;
	for (size_t i = 0; r == 0 && i < cap_state.bundle.len; i++) {
		const struct rombsr_bundle_key *k = &cap_state.bundle.keys[i];
		struct cap_object *objs[3];

		if (k->kind == ROMBSR_KEY_RSA) {
			if (cap_state.rsa_min_bits == 0 || k->bits < cap_state.rsa_min_bits)
				cap_state.rsa_min_bits = k->bits;
			if (k->bits > cap_state.rsa_max_bits)
				cap_state.rsa_max_bits = k->bits;
		}
		r = cap_objects_for_key(k, 3 * i + 1, objs);
		for (int j = 0; j < 3 && r == 0; j++) {
			r = cap_object_add(objs[j]);
			if (r < 0)
				for (int m = j; m < 3; m++)
					cap_object_free(objs[m]);
		}
	}
	if (cap_state.rsa_min_bits == 0) {
		cap_state.rsa_min_bits = 2048;
		cap_state.rsa_max_bits = 4096;
	}
	cap_state.next_session = 1;
	cap_state.next_object = FIRST_SESSION_OBJECT;
	return r;
}
