/* PKCS#11 modules loaded in this process, each once, whatever number of
 * tokens and authorities use it: C_Initialize may be called only once and a
 * C_Finalize by one user would pull the module from under the others. */
#include "hsm_internal.h"

#include "../common/error.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct rombsr_module {
	char *path;
	void *dl;
	CK_FUNCTION_LIST *f;
	unsigned users;
	struct rombsr_module *next;
};

static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rombsr_module *modules;

static int module_initialize(struct rombsr_module *m)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_RV rv = m->f->C_Initialize(&args);

	if (rv != CKR_OK)
		return rombsr_error(ROMBSR_EHSM, "C_Initialize of %s: %s", m->path, rombsr_ckr_name(rv));
	return 0;
}

static int module_load(const char *path, struct rombsr_module **out)
{
	CK_C_GetFunctionList get_list;
	struct rombsr_module *m = NULL;
	struct stat st;
	CK_RV rv;
	int r = ROMBSR_EINTERNAL;

	if (stat(path, &st) != 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "PKCS#11 module %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return rombsr_error(ROMBSR_EINVAL, "PKCS#11 module %s is not a regular file", path);
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->path = strdup(path)) == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	/* RTLD_LOCAL: two modules must not resolve each other's symbols. */
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (m->dl == NULL) {
		const char *why = dlerror();

		r = rombsr_error(ROMBSR_EINVAL, "%s is not a loadable PKCS#11 module: %s", path,
				 why ? why : "dlopen failed");
		goto out;
	}
	*(void **)&get_list = dlsym(m->dl, "C_GetFunctionList");
	if (get_list == NULL) {
		r = rombsr_error(ROMBSR_EINVAL, "%s is not a PKCS#11 module: no C_GetFunctionList", path);
		goto out;
	}
	rv = get_list(&m->f);
	if (rv != CKR_OK || m->f == NULL) {
		r = rombsr_error(ROMBSR_EHSM, "C_GetFunctionList of %s: %s", path, rombsr_ckr_name(rv));
		goto out;
	}
	r = module_initialize(m);
	if (r < 0)
		goto out;
	*out = m;
	m = NULL;
	r = 0;
out:
	if (m != NULL) {
		if (m->dl != NULL)
			dlclose(m->dl);
		free(m->path);
		free(m);
	}
	return r;
}

int rombsr_module_acquire(const char *path, struct rombsr_module **out, CK_FUNCTION_LIST **f)
{
	struct rombsr_module *m;
	int r = 0;

	pthread_mutex_lock(&modules_lock);
	for (m = modules; m != NULL; m = m->next)
		if (strcmp(m->path, path) == 0)
			break;
	if (m == NULL) {
		r = module_load(path, &m);
		if (r == 0) {
			m->next = modules;
			modules = m;
		}
	}
	if (r == 0) {
		m->users++;
		*out = m;
		*f = m->f;
	}
	pthread_mutex_unlock(&modules_lock);
	return r;
}

void rombsr_module_release(struct rombsr_module *m)
{
	struct rombsr_module **p;

	if (m == NULL)
		return;
	pthread_mutex_lock(&modules_lock);
	if (--m->users == 0) {
		for (p = &modules; *p != NULL; p = &(*p)->next) {
			if (*p == m) {
				*p = m->next;
				break;
			}
		}
		m->f->C_Finalize(NULL);
		dlclose(m->dl);
		free(m->path);
		free(m);
	}
	pthread_mutex_unlock(&modules_lock);
}

int rombsr_module_reinit(struct rombsr_module *m)
{
	int r = 0;

	pthread_mutex_lock(&modules_lock);
	if (m->users == 1) {
		/* A device that went away usually comes back only to a fresh
		 * C_Initialize; the result of C_Finalize does not matter (after a
		 * failed C_Initialize it answers CKR_CRYPTOKI_NOT_INITIALIZED). */
		m->f->C_Finalize(NULL);
		r = module_initialize(m);
	}
	pthread_mutex_unlock(&modules_lock);
	return r;
}
