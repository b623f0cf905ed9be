/* Shared by the artifact routes (server_routes.c) and each route's own
 * file (route_modules.c, ...). */
#ifndef ROMBSR_SIGN_ROUTE_INTERNAL_H
#define ROMBSR_SIGN_ROUTE_INTERNAL_H

#include "server_routes.h"

#include "../common/capture_format.h"

#include <stdbool.h>

#define ROUTE_FIELDS_MAX 8
#define ROUTE_TEXT_MAX 256
#define ROUTE_FILES_MAX 4096
#define ROUTE_ROUNDS_MAX 4

struct route_field {
	const char *name;
	bool file, seen;
	int fd;                         /* a file field's, while it arrives */
	char value[ROUTE_TEXT_MAX + 1]; /* a text field's */
	size_t len;
};

struct route_def {
	const char *path;                      /* "/sign/modules" */
	const char *files[ROUTE_FIELDS_MAX];   /* file fields, NULL-terminated */
	const char *texts[ROUTE_FIELDS_MAX];   /* text fields */
	/* Checks the fields and lays out the input in j->dir. */
	int (*prepare)(struct rombsr_route_job *j);
	/* One run of the tools against the capture module (j->env_tool). */
	int (*capture)(struct rombsr_route_job *j);
	/* After the last round: the answer's body and file name. */
	int (*finish)(struct rombsr_route_job *j, struct rombsr_route_result *res);
};

struct rombsr_route_job {
	const struct route_def *def;
	const struct rombsr_route_env *env;
	const char *key;                      /* the route's key label */
	char dir[4096];                       /* the call's folder */
	struct route_field fields[2 * ROUTE_FIELDS_MAX];
	size_t nfields;
	char form_error[256];
	uint64_t received;
	/* Route-specific: files of the input, relative to dir. */
	char **files;
	size_t nfiles;
	char hash[16];                        /* "sha512" */
	/* The signatures so far (the capture module's signature set). */
	struct rombsr_cap_signature *sigs;
	size_t nsigs;
	unsigned rounds;
	bool tool_failed;                     /* the last failure was a tool's */
	char *envp[12];                       /* the tools' environment */
	char frozen[32];                      /* faketime's frozen clock, UTC */
};

extern const struct route_def rombsr_route_modules, rombsr_route_swupdate, rombsr_route_uefi, rombsr_route_fitimage;

/* A field's value (NULL: not sent) and a file field's path in dir. */
const char *route_text(const struct rombsr_route_job *j, const char *name);
int route_file_path(const struct rombsr_route_job *j, const char *name, char *out, size_t size);
/* "<dir>/<rel>" into out. */
int route_path(const struct rombsr_route_job *j, const char *rel, char *out, size_t size);
/* The bundle's certificate of the route's key. */
int route_cert(const struct rombsr_route_job *j, char *out, size_t size);
/* Runs a tool in j->dir with the tools' environment; stderr in
 * <dir>/stderr.txt. */
int route_run(struct rombsr_route_job *j, const char *const *argv);
/* The same with stdout in <dir>/<out_rel>. */
int route_run_out(struct rombsr_route_job *j, const char *const *argv, const char *out_rel);
/* The same with up to 3 more variables (extra, NULL-terminated), or
 * under a clock frozen at j->frozen (libfaketime). */
int route_run_env(struct rombsr_route_job *j, const char *const *argv, const char *const *extra);
int route_run_frozen(struct rombsr_route_job *j, const char *const *argv);
/* "pkcs11:token=rombsr-capture;object=<key>;type=private" */
int route_key_uri(const struct rombsr_route_job *j, char *out, size_t size);
/* Reads a whole output file into res->body. */
int route_answer_file(struct rombsr_route_job *j, const char *rel, const char *filename,
		      struct rombsr_route_result *res);

#endif
