/* The artifact routes' common part (server_routes.h): the multipart form,
 * the call's folder, the tools' environment and the capture rounds. Runs
 * in the call's HTTP thread; what is signed is decided on the main thread. */
#define _GNU_SOURCE
#include "route_internal.h"
#include "sign_log.h"
#include "tool_run.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct route_def *const routes[] = {&rombsr_route_modules, &rombsr_route_swupdate, &rombsr_route_uefi,
								  &rombsr_route_fitimage};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

const char *rombsr_route_path(const char *url)
{
	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(url, routes[i]->path) == 0)
			return routes[i]->path;
	return NULL;
}

/* Folders of calls a stopped node was running (a crash, a kill): nothing
 * in them is needed, what was signed is in the log or recovered from
 * <state>/sign/server/. */
static void remove_stale(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	char path[4096];

	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "route-", 6) == 0 &&
		    (rombsr_path_format(path, sizeof(path), "%s/%s", tmp, e->d_name) < 0 || rombsr_remove_tree(path) < 0))
			rombsr_error_clear();
	if (d != NULL)
		closedir(d);
}

int rombsr_route_env_init(const struct rombsr_config *cfg, struct rombsr_route_env *env)
{
	const char *engines = OpenSSL_version(OPENSSL_ENGINES_DIR), *q1, *q2;
	char self[4096];
	ssize_t n;
	int r = 0;

	memset(env, 0, sizeof(*env));
	env->cfg = cfg;
	/* 'ENGINESDIR: "/usr/lib/x86_64-linux-gnu/engines-3"' */
	q1 = engines != NULL ? strchr(engines, '"') : NULL;
	q2 = q1 != NULL ? strchr(q1 + 1, '"') : NULL;
	if (q2 == NULL)
		return rombsr_error(ROMBSR_EINTERNAL, "OpenSSL names no engines folder");
	r = rombsr_path_format(env->engines, sizeof(env->engines), "%.*s", (int)(q2 - q1 - 1), q1 + 1);
#ifdef __SANITIZE_ADDRESS__
	/* A sanitized build's capture module needs the ASan runtime in every
	 * tool (docs/server.md); a release build takes no such hook. */
	if (r == 0 && secure_getenv("ROMBSR_TOOL_LD_PRELOAD") != NULL)
		r = rombsr_path_format(env->tool_preload, sizeof(env->tool_preload), "%s", secure_getenv("ROMBSR_TOOL_LD_PRELOAD"));
	if (r == 0 && secure_getenv("ROMBSR_TOOL_ASAN_OPTIONS") != NULL)
		r = rombsr_path_format(env->tool_asan, sizeof(env->tool_asan), "%s", secure_getenv("ROMBSR_TOOL_ASAN_OPTIONS"));
#endif
	if (r == 0)
		r = rombsr_path_format(env->tmp, sizeof(env->tmp), "%s/sign/tmp", cfg->state_dir);
	if (r == 0)
		remove_stale(env->tmp);
	if (r < 0 || cfg->server_capture_module != NULL)
		return r < 0 ? r
			     : rombsr_path_format(env->module, sizeof(env->module), "%s", cfg->server_capture_module);
	/* Beside the running rombsr-sign, as the signer is found. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return rombsr_error(ROMBSR_EIO, "cannot find the running program: %s", strerror(errno));
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	return rombsr_path_format(env->module, sizeof(env->module), "%s/libmock_pkcs11.so", self);
}

static const char *route_key(const struct rombsr_config *cfg, const char *route)
{
	if (strcmp(route, "/sign/modules") == 0)
		return cfg->server_key_modules;
	if (strcmp(route, "/sign/swupdate") == 0)
		return cfg->server_key_swupdate;
	if (strcmp(route, "/sign/tegra/uefi") == 0)
		return cfg->server_key_uefi;
	if (strcmp(route, "/sign/fitimage") == 0)
		return cfg->server_key_fitimage;
	return NULL;
}

int rombsr_route_job_new(const struct rombsr_route_env *env, const char *route, struct rombsr_route_job **out,
			 const char **code)
{
	struct rombsr_route_job *j;
	const struct route_def *def = NULL;
	const char *key = route_key(env->cfg, route);
	int r;

	*out = NULL;
	*code = "no-key";
	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(routes[i]->path, route) == 0)
			def = routes[i];
	if (def == NULL || key == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "%s has no key on this sign node (server.key-%s, docs/server.md)", route,
				    strrchr(route, '/') + 1);
	*code = "no-bundle";
	if (env->cfg->server_bundle == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "server.bundle is not set: the artifact routes need the public bundle");
	*code = "internal";
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	j->def = def;
	j->env = env;
	j->key = key;
	for (size_t i = 0; def->files[i] != NULL; i++)
		j->fields[j->nfields++] = (struct route_field){.name = def->files[i], .file = true, .fd = -1};
	for (size_t i = 0; def->texts[i] != NULL; i++)
		j->fields[j->nfields++] = (struct route_field){.name = def->texts[i], .fd = -1};
	r = rombsr_mkdir_p(env->tmp, 0700);
	if (r == 0)
		r = rombsr_path_format(j->dir, sizeof(j->dir), "%s/route-XXXXXX", env->tmp);
	if (r == 0 && mkdtemp(j->dir) == NULL)
		r = rombsr_error(ROMBSR_EIO, "cannot make a folder in %s: %s", env->tmp, strerror(errno));
	if (r < 0) {
		j->dir[0] = '\0';
		rombsr_route_job_free(j);
		return r;
	}
	*out = j;
	return 0;
}

static struct route_field *field_find(struct rombsr_route_job *j, const char *name)
{
	for (size_t i = 0; i < j->nfields; i++)
		if (strcmp(j->fields[i].name, name) == 0)
			return &j->fields[i];
	return NULL;
}

static enum MHD_Result form_refuse(struct rombsr_route_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum MHD_Result form_refuse(struct rombsr_route_job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->form_error, sizeof(j->form_error), fmt, ap);
	va_end(ap);
	return MHD_NO;
}

enum MHD_Result rombsr_route_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
				   const char *content_type, const char *transfer_encoding, const char *data,
				   uint64_t off, size_t size)
{
	struct rombsr_route_job *j = cls;
	struct route_field *f = key != NULL ? field_find(j, key) : NULL;
	char path[4096];

	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	if (kind != MHD_POSTDATA_KIND || f == NULL)
		return form_refuse(j, "unknown field '%.64s'", key != NULL ? key : "");
	/* A field's data arrives in order (off counts it); a second field of
	 * the same name starts again at 0. */
	if (f->seen && off != f->len)
		return form_refuse(j, "field '%s' is given twice", f->name);
	f->len += f->file ? size : 0;
	if (!f->file) {
		f->seen = true;
		if (f->len + size > ROUTE_TEXT_MAX)
			return form_refuse(j, "field '%s' is longer than 256 bytes", f->name);
		memcpy(f->value + f->len, data, size);
		f->len += size;
		f->value[f->len] = '\0';
		return MHD_YES;
	}
	if (f->fd < 0) {
		if (route_file_path(j, f->name, path, sizeof(path)) < 0 ||
		    (f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
			rombsr_error_clear();
			return form_refuse(j, "cannot store field '%s'", f->name);
		}
		f->seen = true;
	}
	if (f->fd < 0 || rombsr_write_all(f->fd, data, size) < 0) {
		rombsr_error_clear();
		return form_refuse(j, "cannot store field '%s'", f->name);
	}
	return MHD_YES;
}

const char *rombsr_route_form_error(const struct rombsr_route_job *j)
{
	return j->form_error[0] != '\0' ? j->form_error : NULL;
}

const char *route_text(const struct rombsr_route_job *j, const char *name)
{
	for (size_t i = 0; i < j->nfields; i++)
		if (strcmp(j->fields[i].name, name) == 0 && j->fields[i].seen && !j->fields[i].file)
			return j->fields[i].value;
	return NULL;
}

int route_path(const struct rombsr_route_job *j, const char *rel, char *out, size_t size)
{
	return rombsr_path_format(out, size, "%s/%s", j->dir, rel);
}

int route_file_path(const struct rombsr_route_job *j, const char *name, char *out, size_t size)
{
	return rombsr_path_format(out, size, "%s/in.%s", j->dir, name);
}

int route_cert(const struct rombsr_route_job *j, char *out, size_t size)
{
	int r = rombsr_path_format(out, size, "%s/certs/%s.pem", j->env->cfg->server_bundle, j->key);

	if (r == 0 && access(out, R_OK) != 0)
		r = rombsr_error(ROMBSR_ECONFIG, "the bundle has no certificate for key '%s' (%s: %s)", j->key, out,
				 strerror(errno));
	return r;
}

int route_key_uri(const struct rombsr_route_job *j, char *out, size_t size)
{
	return rombsr_path_format(out, size, "pkcs11:token=rombsr-capture;object=%s;type=private", j->key);
}

int route_run(struct rombsr_route_job *j, const char *const *argv)
{
	return route_run_out(j, argv, NULL);
}

int route_run_out(struct rombsr_route_job *j, const char *const *argv, const char *out_rel)
{
	char err[4096], out[4096];
	int r = route_path(j, "stderr.txt", err, sizeof(err));

	if (r == 0 && out_rel != NULL)
		r = route_path(j, out_rel, out, sizeof(out));
	if (r == 0)
		r = rombsr_tool_run(argv, (const char *const *)j->envp, j->dir, out_rel != NULL ? out : NULL, err,
				    (unsigned)j->env->cfg->server_tool_timeout);
	j->tool_failed = r < 0;
	return r;
}

int route_run_env(struct rombsr_route_job *j, const char *const *argv, const char *const *extra)
{
	const char *envp[sizeof(j->envp) / sizeof(j->envp[0]) + 4] = {NULL};
	char err[4096];
	size_t n = 0;
	int r = route_path(j, "stderr.txt", err, sizeof(err));

	while (n < sizeof(j->envp) / sizeof(j->envp[0]) && j->envp[n] != NULL) {
		envp[n] = j->envp[n];
		n++;
	}
	for (size_t i = 0; extra[i] != NULL && i < 3; i++)
		envp[n++] = extra[i];
	if (r == 0)
		r = rombsr_tool_run(argv, envp, j->dir, NULL, err, (unsigned)j->env->cfg->server_tool_timeout);
	j->tool_failed = r < 0;
	return r;
}

int route_run_frozen(struct rombsr_route_job *j, const char *const *argv)
{
	const char *slash = strrchr(j->env->engines, '/');
	char *preload = NULL, *faketime = NULL;
	int r = 0;

	/* libfaketime beside OpenSSL's engines (/usr/lib/<triplet>/); not
	 * the faketime wrapper, which needs shared memory Landlock denies. */
	if (slash == NULL || asprintf(&preload, "LD_PRELOAD=%.*s/faketime/libfaketime.so.1",
				      (int)(slash - j->env->engines), j->env->engines) < 0)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0 && asprintf(&faketime, "FAKETIME=%s", j->frozen) < 0)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		r = route_run_env(j, argv, (const char *const[]){preload, faketime, NULL});
	free(preload);
	free(faketime);
	return r;
}

int route_answer_file(struct rombsr_route_job *j, const char *rel, const char *filename,
		      struct rombsr_route_result *res)
{
	char path[4096];
	int r = route_path(j, rel, path, sizeof(path));

	rombsr_buf_free(&res->body);
	if (r == 0)
		r = rombsr_file_read(path, 2 * j->env->cfg->server_max_body + (1u << 20), &res->body);
	if (r == 0)
		snprintf(res->filename, sizeof(res->filename), "%s", filename);
	return r;
}

/* The engine configuration (docs/bootchain-tools.md, "Common set-up") and
 * the tools' whole environment. */
static int tools_env(struct rombsr_route_job *j)
{
	char path[4096];
	FILE *f;
	int r = route_path(j, "openssl.cnf", path, sizeof(path)), n = 0;

	if (r < 0)
		return r;
	if ((f = fopen(path, "wx")) == NULL)
		return rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
	fprintf(f, "openssl_conf = openssl_init\n[openssl_init]\nengines = engine_section\n[engine_section]\n"
		   "pkcs11 = pkcs11_section\n[pkcs11_section]\nengine_id = pkcs11\ndynamic_path = %s/pkcs11.so\n"
		   "MODULE_PATH = %s\nPIN = any\ninit = 0\n",
		j->env->engines, j->env->module);
	if (fclose(f) != 0)
		return rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
	if (asprintf(&j->envp[n++], "OPENSSL_CONF=%s", path) < 0 ||
	    asprintf(&j->envp[n++], "ROMBSR_CAPTURE_CONFIG=%s/capture.conf", j->dir) < 0 ||
	    asprintf(&j->envp[n++], "HOME=%s", j->dir) < 0 || asprintf(&j->envp[n++], "TMPDIR=%s", j->dir) < 0 ||
	    (j->envp[n++] = strdup("PATH=/usr/bin:/bin")) == NULL || (j->envp[n++] = strdup("LC_ALL=C")) == NULL ||
	    (j->envp[n++] = strdup("TZ=UTC")) == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if ((j->env->tool_preload[0] != '\0' && asprintf(&j->envp[n++], "LD_PRELOAD=%s", j->env->tool_preload) < 0) ||
	    (j->env->tool_asan[0] != '\0' && asprintf(&j->envp[n++], "ASAN_OPTIONS=%s", j->env->tool_asan) < 0))
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return 0;
}

/* The capture configuration of a round: the set so far answers what it
 * knows, the rest is captured. */
static int capture_conf(struct rombsr_route_job *j)
{
	char path[4096], journal[4096], sigs[4096];
	struct rombsr_buf text;
	int r = route_path(j, "capture.conf", path, sizeof(path));

	if (r == 0)
		r = route_path(j, "journal.jsonl", journal, sizeof(journal));
	if (r == 0)
		r = route_path(j, "signatures.json", sigs, sizeof(sigs));
	if (r == 0 && unlink(journal) != 0 && errno != ENOENT)
		r = rombsr_error(ROMBSR_EIO, "%s: %s", journal, strerror(errno));
	if (r == 0 && j->nsigs > 0)
		r = rombsr_cap_sigset_write(sigs, j->sigs, j->nsigs);
	if (r < 0)
		return r;
	rombsr_buf_init(&text, 64u << 10);
	rombsr_buf_printf(&text, "mode = capture\nbundle = %s\njournal = %s\n", j->env->cfg->server_bundle, journal);
	if (j->nsigs > 0)
		rombsr_buf_printf(&text, "signatures = %s\n", sigs);
	r = rombsr_buf_check(&text, path);
	if (r == 0)
		r = rombsr_file_write_atomic(path, text.data, text.len, 0600, false);
	rombsr_buf_free(&text);
	return r;
}

static bool known(const struct rombsr_cap_op *op, const struct rombsr_cap_signature *sigs, size_t nsigs,
		  const struct rombsr_server_op *ops, size_t nops)
{
	for (size_t i = 0; i < nsigs; i++)
		if (rombsr_cap_op_same(op, &sigs[i].op))
			return true;
	for (size_t i = 0; i < nops; i++)
		if (rombsr_cap_op_same(op, &ops[i].op))
			return true;
	return false;
}

/* The round's journal: its distinct operations not signed yet, each with
 * the route's key (a tool steered to another key is refused). */
static int round_ops(struct rombsr_route_job *j, struct rombsr_server_op **ops, size_t *nops)
{
	struct rombsr_cap_entry *e = NULL;
	size_t n = 0;
	char path[4096];
	int r = route_path(j, "journal.jsonl", path, sizeof(path));

	*ops = NULL;
	*nops = 0;
	if (r < 0 || access(path, F_OK) != 0)
		return r;
	r = rombsr_cap_journal_read(path, &e, &n);
	if (r == 0 && n > 0 && (*ops = calloc(n, sizeof(**ops))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (strcmp(e[i].op.label, j->key) != 0)
			r = rombsr_error(ROMBSR_EINVAL, "the tool asked for key '%s'; %s signs with '%s' only", e[i].op.label,
					 j->def->path, j->key);
		else if (!known(&e[i].op, j->sigs, j->nsigs, *ops, *nops)) {
			(*ops)[*nops].op = e[i].op;
			snprintf((*ops)[*nops].program, sizeof((*ops)[*nops].program), "%s", e[i].program);
			(*nops)++;
		}
	}
	rombsr_cap_journal_free(e, n);
	return r;
}

/* One round's operations as one call to the main thread; its signatures
 * join the set. A refusal's JSON (with its audit index) is the answer. */
static int sign_round(struct rombsr_route_job *j, const struct rombsr_server_call *who, struct rombsr_server_op *ops,
		      size_t nops, rombsr_route_hand_over_fn hand_over, void *cls, struct rombsr_route_result *res)
{
	struct rombsr_server_call *call = calloc(1, sizeof(*call));
	struct rombsr_cap_signature *grown;
	const char *machine = route_text(j, "machine") != NULL ? route_text(j, "machine") : route_text(j, "distro");
	char path[4096];
	int r = call != NULL ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0) {
		call->route = j->def->path;
		call->client = who->client;
		memcpy(call->clients_commit, who->clients_commit, sizeof(call->clients_commit));
		snprintf(call->in.key, sizeof(call->in.key), "%s", j->key);
		snprintf(call->in.product, sizeof(call->in.product), "%s", machine != NULL ? machine : "");
		snprintf(call->in.artifact_name, sizeof(call->in.artifact_name), "%s", j->def->files[0]);
		r = route_file_path(j, j->def->files[0], path, sizeof(path));
	}
	if (r == 0)
		r = rombsr_file_sha256(path, call->in.artifact_sha256, &call->in.artifact_size);
	if (r == 0) {
		call->in.have_artifact = true;
		call->ops = ops;
		call->nops = nops;
		hand_over(cls, call);
		if (call->status != 200 || call->nsigs != nops) {
			res->status = call->status != 200 ? call->status : 500;
			res->code = "decision";
			rombsr_buf_free(&res->body);
			res->body = call->reply;
			memset(&call->reply, 0, sizeof(call->reply));
			r = ROMBSR_EPERM;
		}
	}
	if (r == 0 && (grown = realloc(j->sigs, (j->nsigs + nops) * sizeof(*grown))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0) {
		j->sigs = grown;
		memcpy(j->sigs + j->nsigs, call->sigs, nops * sizeof(*grown));
		j->nsigs += nops;
	}
	if (call != NULL) {
		rombsr_buf_free(&call->reply);
		free(call->sigs);
	}
	free(call);
	return r;
}

/* Capture, sign, capture again with the signatures, until a run captures
 * nothing new: that run's output is signed. */
static int rounds(struct rombsr_route_job *j, const struct rombsr_server_call *who, rombsr_route_hand_over_fn hand_over,
		  void *cls, struct rombsr_route_result *res)
{
	struct rombsr_server_op *ops = NULL;
	size_t nops = 0;
	int r = 0;

	for (j->rounds = 0; r == 0; j->rounds++) {
		r = capture_conf(j);
		if (r == 0)
			r = j->def->capture(j);
		if (r == 0)
			r = round_ops(j, &ops, &nops);
		if (r == 0 && nops == 0)
			break;
		if (r == 0 && j->rounds >= ROUTE_ROUNDS_MAX)
			r = rombsr_error(ROMBSR_EINVAL, "the tool still asks for new signatures after %d rounds",
					 ROUTE_ROUNDS_MAX);
		if (r == 0)
			r = sign_round(j, who, ops, nops, hand_over, cls, res);
		free(ops);
		ops = NULL;
	}
	free(ops);
	return r;
}

static void result_error(struct rombsr_route_result *res, unsigned status, const char *code, int r)
{
	res->status = status;
	res->code = code;
	res->filename[0] = '\0';
	rombsr_buf_free(&res->body);
	rombsr_server_error_body(&res->body, code, rombsr_error_message(r));
}

void rombsr_route_job_run(struct rombsr_route_job *j, const struct rombsr_server_call *who,
			  rombsr_route_hand_over_fn hand_over, void *cls, struct rombsr_route_result *res)
{
	const char *missing = NULL;
	int r = 0;

	memset(res, 0, sizeof(*res));
	rombsr_buf_init(&res->body, 1u << 20);
	for (size_t i = 0; i < j->nfields; i++) {
		if (j->fields[i].fd >= 0)
			close(j->fields[i].fd);
		j->fields[i].fd = -1;
		if (i == 0 && !j->fields[i].seen) /* the first file field; the others are optional */
			missing = j->fields[i].name;
	}
	if (missing != NULL) {
		result_error(res, 400, "bad-input", rombsr_error(ROMBSR_EINVAL, "the form has no file field '%s'", missing));
		goto out;
	}
	/* machine or distro is the request's build.product: never cut. */
	for (size_t i = 0; i < j->nfields; i++)
		if ((strcmp(j->fields[i].name, "machine") == 0 || strcmp(j->fields[i].name, "distro") == 0) &&
		    j->fields[i].len >= sizeof(((struct rombsr_server_sign_input *)0)->product))
			r = rombsr_error(ROMBSR_EINVAL, "%s: longer than 128 bytes", j->fields[i].name);
	if (r == 0)
		r = tools_env(j);
	if (r == 0)
		r = j->def->prepare(j);
	if (r == ROMBSR_EPERM) {
		result_error(res, 403, "no-key", r);
		goto out;
	}
	if (r < 0) {
		result_error(res, r == ROMBSR_EINVAL ? 400 : 500,
			     j->tool_failed ? "tool-failed" : r == ROMBSR_EINVAL ? "bad-input" : "internal", r);
		goto out;
	}
	if (r == 0)
		r = rounds(j, who, hand_over, cls, res);
	if (r == ROMBSR_EPERM && res->code != NULL && strcmp(res->code, "decision") == 0)
		goto out; /* the decision's own answer */
	if (r == 0)
		r = j->def->finish(j, res);
	if (r < 0) {
		result_error(res, r == ROMBSR_EINVAL ? 400 : 500,
			     j->tool_failed ? "tool-failed" : r == ROMBSR_EINVAL ? "bad-input" : "internal", r);
		goto out;
	}
	res->status = 200;
	res->code = NULL;
out:
	if (res->code != NULL)
		rombsr_sign_log(LOG_NOTICE,
				&(struct rombsr_sign_log_fields){.outcome = "refused", .reason = res->code,
								 .build_node = who->client.build_node},
				"rombsr serve: %s for %s: %s: %.*s", j->def->path, who->client.name, res->code,
				(int)(res->body.len > 0 ? res->body.len - 1 : 0), (const char *)res->body.data);
	rombsr_error_clear();
}

void rombsr_route_job_free(struct rombsr_route_job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->nfields; i++)
		if (j->fields[i].fd >= 0)
			close(j->fields[i].fd);
	if (j->dir[0] != '\0' && rombsr_remove_tree(j->dir) < 0)
		rombsr_error_clear();
	for (size_t i = 0; i < j->nfiles; i++)
		free(j->files[i]);
	free(j->files);
	for (size_t i = 0; i < sizeof(j->envp) / sizeof(j->envp[0]); i++)
		free(j->envp[i]);
	free(j->sigs);
	free(j);
}
