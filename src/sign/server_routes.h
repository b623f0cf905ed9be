/* The signing server's artifact routes (docs/server.md, "Artifact
 * routes"): digsigserver's multipart calls. In the call's HTTP thread the
 * unmodified tool runs against the capture module in a folder of its own,
 * round after round; each round's captured operations go to the main
 * thread as one call (one request, decided, signed and logged as any),
 * until a run captures nothing new; the signed artifact is the answer.
 * The tool only ever sees the capture module and the public bundle. */
#ifndef ROMBSR_SIGN_SERVER_ROUTES_H
#define ROMBSR_SIGN_SERVER_ROUTES_H

#include "server.h"

#include "../common/buf.h"
#include "../common/config.h"

#include <microhttpd.h>
#include <stdint.h>

/* What the routes need of the configuration, resolved at bind time. */
struct rombsr_route_env {
	const struct rombsr_config *cfg;
	char module[4096];  /* the capture module */
	char tmp[4096];     /* <state>/sign/tmp */
	char engines[4096]; /* OpenSSL's engines folder (libengine-pkcs11-openssl) */
	/* Sanitized builds only: the ASan runtime the sanitized capture
	 * module needs in every tool (ROMBSR_TOOL_LD_PRELOAD and
	 * ROMBSR_TOOL_ASAN_OPTIONS of the server's environment), else "". */
	char tool_preload[1024], tool_asan[512];
};

struct rombsr_route_job;

/* Hands one round's call to the main thread and waits for its answer. */
typedef void (*rombsr_route_hand_over_fn)(void *cls, struct rombsr_server_call *call);

/* The route url names ("/sign/modules"), or NULL. */
const char *rombsr_route_path(const char *url);
/* Resolves the module and engine paths. */
int rombsr_route_env_init(const struct rombsr_config *cfg, struct rombsr_route_env *env);
/* A new call of route: its key and the bundle must be configured (else
 * *code is set: "no-key", "no-bundle") and its folder is made. */
int rombsr_route_job_new(const struct rombsr_route_env *env, const char *route, struct rombsr_route_job **out,
			 const char **code);
/* libmicrohttpd's post processor's iterator (cls: the job). */
enum MHD_Result rombsr_route_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
				   const char *content_type, const char *transfer_encoding, const char *data,
				   uint64_t off, size_t size);
/* Whether the form was refused while it arrived, and why. */
const char *rombsr_route_form_error(const struct rombsr_route_job *j);

struct rombsr_route_result {
	unsigned status;
	const char *code;           /* an error's code, else NULL */
	struct rombsr_buf body;     /* the artifact, or a JSON error */
	char filename[64];          /* Content-Disposition's, "" for JSON */
};

/* Runs the route for client who (the authenticated call); res is always
 * set (initialized here). */
void rombsr_route_job_run(struct rombsr_route_job *j, const struct rombsr_server_call *who,
			  rombsr_route_hand_over_fn hand_over, void *cls, struct rombsr_route_result *res);
/* Removes the job's folder. */
void rombsr_route_job_free(struct rombsr_route_job *j);

#endif
