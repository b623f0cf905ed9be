/* rombsr apply: the build node's last step (docs/apply.md). Fetches the
 * queue, verifies its history after the head recorded by the last run (so
 * the response is known to come from a key with the sign role under the
 * trust file in force; history_check.h), checks that the
 * response answers this request and that every signature verifies against
 * the public bundle, writes the signature set and a replay configuration
 * for the capture module, and optionally reruns the build's signing step
 * in replay mode. Exit 0: applied; 3: a verification failed; 1: could not
 * apply (rejected, no response yet, bad input); with a command, its status. */
#define _GNU_SOURCE
#include "cli.h"
#include "history_check.h"

#include "../build/apply.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/incident.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { OPT_REQUEST = 1, OPT_BUNDLE, OPT_OUT, OPT_MERGE, OPT_REPLAY_CONFIG, OPT_TIMEOUT };

static const struct cli_option options[] = {
	{"request", "ID", "the request whose response to apply (required)", OPT_REQUEST},
	{"bundle", "DIR", "the public bundle the build captured with (required)", OPT_BUNDLE},
	{"out", "SIGSET", "write the signature set here (required)", OPT_OUT},
	{"merge", "SIGSET", "keep the signatures of an earlier round's set", OPT_MERGE},
	{"replay-config", "FILE", "write a capture module configuration in replay mode", OPT_REPLAY_CONFIG},
	{"timeout", "SECONDS", "wait this long for the response to appear (default: do not wait)", OPT_TIMEOUT},
	{NULL, NULL, NULL, 0},
};

#define USAGE                                                                                             \
	"--request ID --bundle DIR --out SIGSET [--merge SIGSET] [--replay-config FILE] [--timeout SECONDS] " \
	"[-- COMMAND ARGS...]"
#define POLL_NS 500000000L
#define MAX_TIMEOUT (24ul * 3600)

struct apply_args {
	const char *id, *bundle, *out, *merge, *replay_config;
	unsigned long timeout;
	char **command;   /* NULL-terminated (argv's own end), or NULL */
};

/* What the verified history says about this request. A request or response
 * added at or before the recorded head was seen by an earlier run, not this
 * one: its commit is found afterwards (old_request, old_response). */
struct sighting {
	const char *id;
	bool have_request, have_response, old_request, old_response;
	git_oid request_commit, response_commit;
	char response_signer[41];
};

static int parse_args(int argc, char **argv, struct apply_args *a)
{
	struct cli_parser p;
	int id = 0, before, r = 0;

	memset(a, 0, sizeof(*a));
	cli_parser_init(&p, options, argc, argv);
	for (;;) {
		before = p.index;
		if ((id = cli_next(&p, USAGE)) <= 0)
			break;
		switch (id) {
		case OPT_REQUEST:
			a->id = p.value;
			break;
		case OPT_BUNDLE:
			a->bundle = p.value;
			break;
		case OPT_OUT:
			a->out = p.value;
			break;
		case OPT_MERGE:
			a->merge = p.value;
			break;
		case OPT_REPLAY_CONFIG:
			a->replay_config = p.value;
			break;
		case OPT_TIMEOUT:
			r = cli_parse_uint(p.value, MAX_TIMEOUT, &a->timeout, "--timeout");
			break;
		}
		if (r < 0)
			return r;
	}
	if (id < 0)
		return id;
	/* Options end at "--"; whatever follows is the command, untouched. */
	if (p.index == before + 1 && strcmp(argv[before], "--") == 0) {
		if (p.index == argc)
			return rombsr_error(ROMBSR_EINVAL, "'--' must be followed by a command");
		a->command = argv + p.index;
	} else if (p.index != argc) {
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s' (a command goes after '--')", argv[p.index]);
	}
	if (a->id == NULL || a->bundle == NULL || a->out == NULL)
		return rombsr_error(ROMBSR_EINVAL, "--request, --bundle and --out are required");
	if (!rombsr_request_id_valid(a->id))
		return rombsr_error(ROMBSR_EINVAL, "--request: '%s' is not a request ID (" ROMBSR_REQUEST_ID_FORM ")", a->id);
	return 0;
}

static int on_commit(const git_oid *commit, const struct rombsr_commit_report *report, void *ctx)
{
	struct sighting *s = ctx;

	for (size_t i = 0; i < report->nchanges; i++) {
		const struct rombsr_commit_change *c = &report->changes[i];

		if (strcmp(c->id, s->id) != 0)
			continue;
		/* The verifier lets only a build node add a request and only a
		 * sign node add a response, once each. */
		if (c->kind == ROMBSR_PATH_REQUEST) {
			s->have_request = true;
			git_oid_cpy(&s->request_commit, commit);
		} else if (c->kind == ROMBSR_PATH_RESPONSE) {
			s->have_response = true;
			git_oid_cpy(&s->response_commit, commit);
			memcpy(s->response_signer, report->signer, sizeof(s->response_signer));
		}
	}
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The request and response already in the history an earlier run verified
 * (never deleted, so the head's tree tells). */
static int sight_recorded(struct rombsr_repo *repo, const git_oid *head, struct sighting *s)
{
	char path[128];
	bool exists = false;
	int r = 0;

	if (!s->have_request) {
		r = rombsr_queue_request_path(s->id, path, sizeof(path));
		if (r == 0)
			r = rombsr_repo_exists(repo, head, path, &exists);
		s->have_request = s->old_request = exists;
	}
	if (r == 0 && !s->have_response) {
		r = rombsr_queue_response_path(s->id, path, sizeof(path));
		if (r == 0)
			r = rombsr_repo_exists(repo, head, path, &exists);
		s->have_response = s->old_response = exists;
	}
	return r;
}

/* Fetches and verifies until the response is in the verified history (or
 * the wait is over). The clone is unlocked while sleeping, so the node's
 * other rombsr processes are not held up by a waiting build. */
static int find_response(struct queue_client *qc, const struct apply_args *a, struct history_check *hc,
			 struct sighting *s)
{
	double deadline = now_seconds() + (double)a->timeout;
	git_oid head, next;
	bool empty;
	int r = queue_client_fetch(qc, &head, &empty);

	if (r == 0)
		r = history_check_start(hc, qc, HISTORY_APPLY_RECORD, false, false, &head, on_commit, s);
	if (r == 0)
		r = sight_recorded(qc->repo, &head, s);
	while (r == 0 && s->have_request && !s->have_response && now_seconds() < deadline) {
		flock(qc->lock_fd, LOCK_UN);
		nanosleep(&(struct timespec){0, POLL_NS}, NULL);
		while (flock(qc->lock_fd, LOCK_EX) != 0)
			if (errno != EINTR) {
				r = rombsr_error(ROMBSR_EIO, "cannot lock the queue clone again: %s", strerror(errno));
				break;
			}
		if (r < 0)
			break;
		r = queue_client_fetch(qc, &next, &empty);
		/* The queue server away for a moment is no reason to give up
		 * before the deadline; at the deadline its error is the answer. */
		if (r == ROMBSR_EIO && now_seconds() < deadline) {
			r = 0;
			continue;
		}
		if (r == 0)
			r = history_check_extend(hc, &next);
	}
	if (r == 0)
		r = history_check_save(hc);
	if (r == 0 && !s->have_request)
		r = rombsr_error(ROMBSR_ENOTFOUND, "request %s is not in the queue", a->id);
	if (r == 0 && !s->have_response)
		r = a->timeout > 0
			    ? rombsr_error(ROMBSR_ENOTFOUND, "no response to request %s after %lu s", a->id, a->timeout)
			    : rombsr_error(ROMBSR_ENOTFOUND, "no response to request %s yet (--timeout SECONDS waits for it)",
					   a->id);
	return r;
}

/* A response an earlier run verified the commit of (a second apply of the
 * same request): that commit is found by walking back from the head to
 * where the file appears, and verified again for its signer. The records
 * vouch for the commits, not for which response answers what. */
static int find_recorded_response(struct history_check *hc, const git_oid *head, struct sighting *s)
{
	struct rombsr_commit_report report;
	char path[128];
	git_oid at, parent;
	unsigned nparents;
	bool before = false;
	int r = rombsr_queue_response_path(s->id, path, sizeof(path));

	git_oid_cpy(&at, head);
	for (;;) {
		if (r == 0)
			r = rombsr_repo_parents(hc->qc->repo, &at, &nparents, &parent);
		if (r == 0 && nparents == 1)
			r = rombsr_repo_exists(hc->qc->repo, &parent, path, &before);
		if (r < 0 || nparents == 0 || !before)
			break;
		git_oid_cpy(&at, &parent);
	}
	if (r == 0)
		r = rombsr_verify_commit(&hc->v, &at, &report);
	if (r == 0) {
		git_oid_cpy(&s->response_commit, &at);
		memcpy(s->response_signer, report.signer, sizeof(s->response_signer));
		rombsr_commit_report_free(&report);
	}
	return r;
}

/* The response and the request, each as the commit that added it holds it
 * (the caller frees both, also on failure). A response the sign node
 * committed that cannot be read as one is a failed verification, like one
 * that does not verify. */
static int read_documents(struct rombsr_repo *repo, struct sighting *s, struct rombsr_response *resp,
			  struct rombsr_request *req)
{
	for (int response = 1; response >= 0; response--) {
		const git_oid *commit = response ? &s->response_commit : &s->request_commit;
		struct rombsr_buf text;
		char path[128], hex[GIT_OID_HEXSZ + 1];
		int r = response ? rombsr_queue_response_path(s->id, path, sizeof(path))
				 : rombsr_queue_request_path(s->id, path, sizeof(path));

		rombsr_oid_hex(commit, hex);
		if (r == 0)
			r = rombsr_repo_read(repo, commit, path, response ? ROMBSR_RESPONSE_MAX_BYTES : ROMBSR_REQUEST_MAX_BYTES,
					     &text);
		if (r == 0) {
			r = response ? rombsr_response_parse((const char *)text.data, text.len, resp)
				     : rombsr_request_parse((const char *)text.data, text.len, req);
			rombsr_buf_free(&text);
			if (r < 0 && response)
				r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "malformed response");
		}
		/* A request from before the recorded head: the response names
		 * its commit, which must be the one that added it. */
		if (r == 0 && response && s->old_request) {
			r = history_request_commit_check(repo, &s->response_commit, resp->request_commit, s->id,
							 "response");
			if (r == 0)
				git_oid_fromstr(&s->request_commit, resp->request_commit);
		}
		if (r == 0 && !response && strcmp(req->id, s->id) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "it carries the ID %s", req->id);
		if (r < 0)
			return rombsr_error_wrap(r, "%s (commit %.12s)", path, hex);
	}
	return 0;
}

/* The revocation point (docs/formats/incident.md): a signature by a key an
 * admin revoked in a commit at or before the response's commit was
 * published after the revocation, and is refused. The queue's history is
 * linear and a revocation is never removed, so that is "the revocation is
 * in the response commit's tree". */
static int check_revocations(struct rombsr_repo *repo, const struct sighting *s, const struct rombsr_response *resp)
{
	char path[128], hex[GIT_OID_HEXSZ + 1];
	bool revoked = false;
	int r = 0;

	for (size_t i = 0; i < resp->nsigs && r == 0 && !revoked; i++) {
		r = rombsr_revocation_path(resp->sigs[i].op.spki_sha256, path, sizeof(path));
		if (r == 0)
			r = rombsr_repo_exists(repo, &s->response_commit, path, &revoked);
		if (r == 0 && revoked) {
			rombsr_oid_hex(&s->response_commit, hex);
			r = rombsr_error(ROMBSR_ESECURITY,
					 "response to request %s: signature %zu is by key '%s', revoked by an admin (%s) before "
					 "the response was committed (commit %.12s)",
					 s->id, i, resp->sigs[i].op.label, path, hex);
		}
	}
	return r;
}

/* Everything that needs the queue: the verified response, checked against
 * its request and the bundle. */
static int verified_signatures(struct cli_context *ctx, const struct apply_args *a, const struct rombsr_bundle *b,
			       struct rombsr_cap_signature **sigs, size_t *nsigs)
{
	struct queue_client qc;
	struct history_check hc;
	struct sighting s = {.id = a->id};
	struct rombsr_request req = {0};
	struct rombsr_response resp = {0};
	struct rombsr_apply_source src;
	char req_hex[GIT_OID_HEXSZ + 1];
	int r;

	memset(&hc, 0, sizeof(hc));
	r = queue_client_open(ctx, &qc);
	if (r == 0)
		r = find_response(&qc, a, &hc, &s);
	if (r == 0 && s.old_response)
		r = find_recorded_response(&hc, &hc.rec.head, &s);
	if (r == 0)
		r = read_documents(qc.repo, &s, &resp, &req);
	if (r == 0)
		r = check_revocations(qc.repo, &s, &resp);
	if (r == 0) {
		rombsr_oid_hex(&s.request_commit, req_hex);
		src = (struct rombsr_apply_source){&req, req_hex, &resp, s.response_signer};
		r = rombsr_apply_check(&src, b, sigs, nsigs);
		/* A rejection names the request itself. */
		if (r < 0 && r != ROMBSR_EPERM)
			rombsr_error_wrap(r, "response to request %s", a->id);
	}
	rombsr_request_free(&req);
	rombsr_response_free(&resp);
	history_check_free(&hc);
	queue_client_close(&qc);
	return r;
}

/* Runs the build's command with the capture module in replay mode; its
 * exit status (128 + signal if killed) in *status. Like system(), Ctrl-C
 * is left to the command while it runs. */
static int run_command(char **command, const char *config, int *status)
{
	struct sigaction ignore = {.sa_handler = SIG_IGN}, old_int, old_quit;
	posix_spawnattr_t attr;
	sigset_t defaults;
	pid_t pid;
	int e, wstatus = 0;

	if (setenv("ROMBSR_CAPTURE_CONFIG", config, 1) != 0)
		return rombsr_error(ROMBSR_ENOMEM, "cannot set ROMBSR_CAPTURE_CONFIG");
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGQUIT);
	if ((e = posix_spawnattr_init(&attr)) != 0)
		return rombsr_error(ROMBSR_ENOMEM, "cannot run %s: %s", command[0], strerror(e));
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	sigaction(SIGINT, &ignore, &old_int);
	sigaction(SIGQUIT, &ignore, &old_quit);
	fflush(NULL);
	e = posix_spawnp(&pid, command[0], NULL, &attr, command, environ);
	posix_spawnattr_destroy(&attr);
	while (e == 0 && waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR) {
			e = errno;
			break;
		}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (e != 0)
		return rombsr_error(ROMBSR_EIO, "cannot run %s: %s", command[0], strerror(e));
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : 1;
	return 0;
}

static int run_in_replay(const struct apply_args *a, int *status)
{
	char dir[] = "/tmp/rombsr-apply.XXXXXX", config[64];
	int r;

	if (a->replay_config != NULL)
		return run_command(a->command, a->replay_config, status);
	/* Private folder: the configuration decides what the module
	 * answers, so nobody else may swap it. */
	if (mkdtemp(dir) == NULL)
		return rombsr_error(ROMBSR_EIO, "cannot make a temporary folder in /tmp: %s", strerror(errno));
	r = rombsr_path_format(config, sizeof(config), "%s/replay.conf", dir);
	if (r == 0)
		r = rombsr_apply_replay_config(config, a->bundle, a->out);
	if (r == 0)
		r = run_command(a->command, config, status);
	unlink(config);
	rmdir(dir);
	return r;
}

int cmd_apply(struct cli_context *ctx, int argc, char **argv)
{
	struct apply_args a;
	struct rombsr_bundle bundle = {0};
	struct rombsr_cap_signature *set = NULL, *fresh = NULL;
	size_t nset = 0, nfresh = 0, nmerged;
	int r, status = 0;

	r = parse_args(argc, argv, &a);
	/* Local inputs first: a broken bundle or earlier set fails before any
	 * network traffic or waiting. */
	if (r == 0)
		r = rombsr_bundle_load(a.bundle, &bundle);
	if (r == 0 && a.merge != NULL) {
		r = rombsr_cap_sigset_read(a.merge, &set, &nset);
		if (r == 0)
			r = rombsr_apply_check_set(a.merge, set, nset, &bundle);
	}
	nmerged = nset;
	if (r == 0)
		r = verified_signatures(ctx, &a, &bundle, &fresh, &nfresh);
	if (r == 0)
		r = rombsr_apply_merge(&set, &nset, fresh, nfresh);
	if (r == 0)
		r = rombsr_cap_sigset_write(a.out, set, nset);
	if (r == 0 && a.replay_config != NULL)
		r = rombsr_apply_replay_config(a.replay_config, a.bundle, a.out);
	if (r == 0)
		printf("applied request %s: %zu signatures verified, %zu in %s (%zu from earlier rounds)\n", a.id, nfresh,
		       nset, a.out, nmerged);
	free(set);
	free(fresh);
	rombsr_bundle_free(&bundle);
	if (r == 0 && a.command != NULL)
		r = run_in_replay(&a, &status);
	if (r == 0 && status != 0) {
		fprintf(stderr, "rombsr %s: %s exited with status %d\n", ctx->command, a.command[0], status);
		rombsr_config_free(&ctx->cfg);
		exit(status);
	}
	return r;
}
