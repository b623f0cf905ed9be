/* rombsr rom-sign: signs a whole ROM by the rounds of a plan
 * (docs/rom-sign.md). For each round it runs the plan's steps against the
 * capture module with every signature known so far, so only new
 * operations are journaled; if there are any it submits them, waits for
 * the sign node's answer, applies it and runs the steps again, until a run
 * journals nothing: then every signature in the round's outputs is real.
 * What was submitted and applied is recorded in the state folder, so a
 * rerun goes on where the last one stopped, and an unchanged rerun asks the
 * HSM for nothing. The client never loads PKCS#11: the steps (the tools
 * that load the capture module), submit and apply are child processes. */
#define _GNU_SOURCE
#include "cli.h"
#include "rom_sign.h"

#include "../common/capture_format.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { OPT_PLAN = 1, OPT_STATE, OPT_BUNDLE, OPT_TIMEOUT };

static const struct cli_option options[] = {
	{"plan", "PLAN", "the ROM signing plan (rombsr.rom-plan version 1; required)", OPT_PLAN},
	{"state", "DIR", "rom-sign's folder: signatures, record of rounds, logs (required)", OPT_STATE},
	{"bundle", "DIR", "the public bundle (default: the plan's \"bundle\")", OPT_BUNDLE},
	{"timeout", "SECONDS", "how long to wait for each response (default 3600)", OPT_TIMEOUT},
	{NULL, NULL, NULL, 0},
};

#define USAGE "--plan PLAN --state DIR [--bundle DIR] [--timeout SECONDS]"
#define MAX_TIMEOUT (24ul * 3600)

struct rom_sign {
	struct cli_context *ctx;
	struct rom_plan plan;
	struct rom_state st;
	char *bundle;                 /* absolute */
	char dir[PATH_MAX];           /* the state folder, absolute */
	char sigs[PATH_MAX + 32];     /* DIR/signatures.json: every signature obtained */
	char self[PATH_MAX];          /* this program, for submit and apply */
	unsigned long timeout;
	size_t requests, operations;  /* this run */
	double t_steps, t_submit, t_wait, t_verify;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_args(int argc, char **argv, const char **plan, const char **state, const char **bundle,
		      unsigned long *timeout)
{
	struct cli_parser p;
	int id, r = 0;

	*timeout = 3600;
	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, USAGE)) > 0) {
		if (id == OPT_PLAN)
			*plan = p.value;
		else if (id == OPT_STATE)
			*state = p.value;
		else if (id == OPT_BUNDLE)
			*bundle = p.value;
		else
			r = cli_parse_uint(p.value, MAX_TIMEOUT, timeout, "--timeout");
	}
	if (r == 0 && id < 0)
		r = id;
	if (r == 0 && p.index != argc)
		r = rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (r == 0 && (*plan == NULL || *state == NULL))
		r = rombsr_error(ROMBSR_EINVAL, "--plan and --state are required");
	return r;
}

/* The last non-empty line of a file (a child's message), into out. */
static void last_line(const char *path, char *out, size_t size)
{
	struct rombsr_buf text;
	size_t end, start;

	out[0] = '\0';
	if (rombsr_file_read(path, 64u * 1024 * 1024, &text) < 0) {
		rombsr_error_clear();
		return;
	}
	end = text.len;
	while (end > 0 && (text.data[end - 1] == '\n' || text.data[end - 1] == '\r'))
		end--;
	start = end;
	while (start > 0 && text.data[start - 1] != '\n')
		start--;
	snprintf(out, size, "%.*s", (int)(end - start), (const char *)text.data + start);
	rombsr_buf_free(&text);
}

static int open_log(const char *path, bool append)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (append ? O_APPEND : O_TRUNC), 0644);

	return fd < 0 ? rombsr_error(ROMBSR_EIO, "cannot open %s: %s", path, strerror(errno)) : fd;
}

/* Runs steps in order, each step's output into the log; the first that
 * fails stops the run, named with its status and last line of output. */
static int run_steps(struct rom_sign *rs, const char *what, const char *log_name, const struct rom_step *steps,
		     size_t n, const char *capture_config, double *spent)
{
	char log[PATH_MAX + 64], status_text[96], tail[512];
	char **env = NULL;
	int fd = -1, r, status;

	r = rombsr_path_format(log, sizeof(log), "%s/logs/%s.log", rs->dir, log_name);
	if (r == 0)
		r = rom_env_make(&rs->plan, capture_config, &env);
	if (r == 0 && (fd = open_log(log, false)) < 0)
		r = fd;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct rom_child c = {(const char *const *)steps[i].argv, env, steps[i].dir, fd, fd};
		double t0 = now_seconds(), dt;

		dprintf(fd, "== step %s (in %s)\n", steps[i].name, steps[i].dir);
		r = rom_run(&c, &status);
		dt = now_seconds() - t0;
		*spent += dt;
		if (r < 0) {
			r = rombsr_error_wrap(r, "%s, step '%s'", what, steps[i].name);
			break;
		}
		rom_describe_status(status, status_text, sizeof(status_text));
		/* The tool's own last words, before the log's closing line. */
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			last_line(log, tail, sizeof(tail));
			if (strncmp(tail, "== step ", 8) == 0)
				snprintf(tail, sizeof(tail), "no output");
		}
		dprintf(fd, "== step %s: %s, %.3f s\n", steps[i].name, status_text, dt);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			r = rombsr_error(ROMBSR_EINVAL, "%s, step '%s': %s %s (log %s: %s)", what, steps[i].name,
					 steps[i].argv[0], status_text, log, tail);
		}
	}
	if (fd >= 0)
		close(fd);
	rom_env_free(env);
	return r;
}

/* The module's configuration for a capture run: every signature obtained
 * so far answers its operation for real; the rest go to a new journal. */
static int capture_config(struct rom_sign *rs, char *path, size_t size, char *journal, size_t jsize)
{
	struct rombsr_buf text;
	int r;

	r = rombsr_path_format(path, size, "%s/work/capture.conf", rs->dir);
	if (r == 0)
		r = rombsr_path_format(journal, jsize, "%s/work/journal.jsonl", rs->dir);
	if (r < 0)
		return r;
	if (unlink(journal) != 0 && errno != ENOENT)
		return rombsr_error(ROMBSR_EIO, "cannot remove %s: %s", journal, strerror(errno));
	rombsr_buf_init(&text, 64 * 1024);
	rombsr_buf_printf(&text, "# written by rombsr rom-sign: capture against every signature obtained\n"
				 "mode = capture\nbundle = %s\njournal = %s\n", rs->bundle, journal);
	if (rombsr_path_exists(rs->sigs))
		rombsr_buf_printf(&text, "signatures = %s\n", rs->sigs);
	r = rombsr_buf_check(&text, "capture configuration");
	if (r == 0)
		r = rombsr_file_write_atomic(path, text.data, text.len, 0644, false);
	rombsr_buf_free(&text);
	return r;
}

static int journal_count(const char *journal, size_t *n)
{
	struct rombsr_cap_entry *entries = NULL;
	int r;

	*n = 0;
	if (!rombsr_path_exists(journal))
		return 0;
	r = rombsr_cap_journal_read(journal, &entries, n);
	rombsr_cap_journal_free(entries, *n);
	return r;
}

/* rombsr itself (submit, apply) as a child: args after the program and
 * --config; its stdout's last line into out, its one-line message (the
 * program's name taken off) into msg. */
static int run_self(struct rom_sign *rs, const char *const *args, size_t nargs, int *status, char *out, size_t osize,
		    char *msg, size_t msize)
{
	const char **argv = calloc(nargs + 4, sizeof(*argv));
	char out_path[PATH_MAX + 32], err_path[PATH_MAX + 32];
	int ofd = -1, efd = -1, r;
	size_t k = 0;

	if (argv == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	argv[k++] = rs->self;
	if (rs->ctx->config_path != NULL) {
		argv[k++] = "--config";
		argv[k++] = rs->ctx->config_path;
	}
	for (size_t i = 0; i < nargs; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	r = rombsr_path_format(out_path, sizeof(out_path), "%s/work/child.out", rs->dir);
	if (r == 0)
		r = rombsr_path_format(err_path, sizeof(err_path), "%s/work/child.err", rs->dir);
	if (r == 0 && (ofd = open_log(out_path, false)) < 0)
		r = ofd;
	if (r == 0 && (efd = open_log(err_path, false)) < 0)
		r = efd;
	if (r == 0) {
		struct rom_child c = {argv, NULL, NULL, ofd, efd};

		r = rom_run(&c, status);
	}
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	free(argv);
	if (r == 0) {
		char line[1024];
		const char *colon;

		last_line(out_path, out, osize);
		last_line(err_path, line, sizeof(line));
		/* "rombsr apply: no response ..." -> "no response ..." */
		colon = strncmp(line, "rombsr ", 7) == 0 ? strstr(line, ": ") : NULL;
		snprintf(msg, msize, "%s", colon ? colon + 2 : line);
	}
	return r;
}

static int submit(struct rom_sign *rs, size_t index, const char *label, const char *journal, char id[33])
{
	const struct rom_round *rd = &rs->plan.rounds[index];
	const char **args = calloc(16 + 2 * rd->nartifacts, sizeof(*args));
	char round[24], msg[1024], out[256], status_text[96];
	char **arts = calloc(rd->nartifacts + 1, sizeof(*arts));
	size_t k = 0;
	int r = args && arts ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory"), status;
	double t0 = now_seconds();

	snprintf(round, sizeof(round), "%zu", index + 1);
	if (r == 0) {
		const char *fixed[] = {"submit", "--journal", journal, "--product", rs->plan.product, "--build-id",
				       rs->plan.build_id, "--source-commit", rs->plan.source_commit, "--build-type",
				       rs->plan.build_type, "--authority", rd->authority, "--round", round};

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			args[k++] = fixed[i];
	}
	for (size_t i = 0; r == 0 && i < rd->nartifacts; i++) {
		/* The name in the request is the path in the plan. */
		if (asprintf(&arts[i], "%s/%s=%s", rs->plan.dir, rd->artifacts[i], rd->artifacts[i]) < 0) {
			arts[i] = NULL;
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
			break;
		}
		args[k++] = "--artifact";
		args[k++] = arts[i];
	}
	if (r == 0)
		r = run_self(rs, args, k, &status, out, sizeof(out), msg, sizeof(msg));
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		rom_describe_status(status, status_text, sizeof(status_text));
		r = rombsr_error(ROMBSR_EINVAL, "%s: submit %s: %s", label, status_text, msg);
	}
	if (r == 0 && !rombsr_request_id_valid(out))
		r = rombsr_error(ROMBSR_EINTERNAL, "%s: submit printed no request ID ('%s')", label, out);
	if (r == 0)
		memcpy(id, out, 33);
	for (size_t i = 0; arts != NULL && i < rd->nartifacts; i++)
		free(arts[i]);
	free(arts);
	free(args);
	rs->t_submit += now_seconds() - t0;
	return r;
}

static size_t sigset_size(const char *path)
{
	struct rombsr_cap_signature *sigs = NULL;
	size_t n = 0;

	if (rombsr_cap_sigset_read(path, &sigs, &n) < 0) {
		rombsr_error_clear();
		n = 0;
	}
	free(sigs);
	return n;
}

/* Waits for the response to the round's pending request and applies it:
 * apply verifies the queue's history, the response and every signature,
 * and writes the union of the set so far and the new signatures; that
 * file then replaces DIR/signatures.json (a rename) before the state
 * records the request as applied. Killed in between, the next run applies
 * the same response again, which adds nothing. */
static int wait_apply(struct rom_sign *rs, const char *label, struct rom_round_state *st)
{
	char applied[PATH_MAX + 32], timeout[32], msg[1024], out[256], status_text[96];
	const char *args[12] = {"apply", "--request", st->pending, "--bundle", rs->bundle, "--out", applied,
				"--timeout", timeout};
	size_t k = 9;
	double t0 = now_seconds();
	int r, status, code;

	snprintf(timeout, sizeof(timeout), "%lu", rs->timeout);
	r = rombsr_path_format(applied, sizeof(applied), "%s/work/applied.json", rs->dir);
	if (r < 0)
		return r;
	if (rombsr_path_exists(rs->sigs)) {
		args[k++] = "--merge";
		args[k++] = rs->sigs;
	}
	cli_info("rom-sign: %s: waiting for the response to request %s (up to %lu s)", label, st->pending, rs->timeout);
	r = run_self(rs, args, k, &status, out, sizeof(out), msg, sizeof(msg));
	rs->t_wait += now_seconds() - t0;
	if (r < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (rename(applied, rs->sigs) != 0)
			return rombsr_error(ROMBSR_EIO, "cannot rename %s to %s: %s", applied, rs->sigs, strerror(errno));
		r = rombsr_fsync_dir(rs->dir);
		if (r == 0)
			r = rom_state_add_request(st, st->pending);
		if (r < 0)
			return r;
		cli_info("rom-sign: %s: applied request %s (%zu signatures obtained in all)", label, st->pending,
			 sigset_size(rs->sigs));
		st->pending[0] = '\0';
		return rom_state_save(&rs->st);
	}
	rom_describe_status(status, status_text, sizeof(status_text));
	if (strncmp(msg, "no response to request", 22) == 0)
		return rombsr_error(ROMBSR_EINVAL, "%s: no response to request %s within %lu s (run rom-sign again to "
						   "go on waiting for it)", label, st->pending, rs->timeout);
	code = WIFEXITED(status) && WEXITSTATUS(status) == 3 ? ROMBSR_ESECURITY : ROMBSR_EINVAL;
	if (strstr(msg, "was rejected by sign node") != NULL) {
		/* A rejection is final: the next run captures and asks again
		 * (once the plan, the policy or the approvals allow it). */
		st->pending[0] = '\0';
		r = rom_state_save(&rs->st);
		if (r < 0)
			return r;
		return rombsr_error(code, "%s: %s", label, msg);
	}
	return rombsr_error(code, "%s: apply of request %s %s: %s", label, st->pending, status_text, msg);
}

/* One round: capture runs and requests until a capture run journals
 * nothing new. */
static int run_round(struct rom_sign *rs, size_t index)
{
	const struct rom_round *rd = &rs->plan.rounds[index];
	char label[ROM_PLAN_NAME_MAX + 64], conf[PATH_MAX + 32], journal[PATH_MAX + 32];
	struct rom_round_state *st;
	unsigned asked = 0;
	size_t n;
	int r;

	snprintf(label, sizeof(label), "round %zu/%zu '%s'", index + 1, rs->plan.nrounds, rd->name);
	r = rom_state_round(&rs->st, rd->name, &st);
	if (r < 0)
		return r;
	/* Submitted by an earlier run and never applied: its answer first. */
	if (st->pending[0] != '\0') {
		cli_info("rom-sign: %s: request %s was submitted by an earlier run", label, st->pending);
		r = wait_apply(rs, label, st);
		if (r < 0)
			return r;
	}
	for (;;) {
		r = capture_config(rs, conf, sizeof(conf), journal, sizeof(journal));
		if (r == 0)
			r = run_steps(rs, label, rd->name, rd->steps, rd->nsteps, conf, &rs->t_steps);
		if (r == 0)
			r = journal_count(journal, &n);
		if (r < 0)
			return r;
		if (n == 0)
			break;
		/* A step whose operations change on every run (a random salt, a
		 * clock) would ask the HSM forever. */
		if (asked == rs->plan.max_requests)
			return rombsr_error(ROMBSR_EINVAL, "%s: still %zu new operations after %u requests: are its steps "
							   "deterministic? (plan max_requests_per_round)", label, n, asked);
		cli_info("rom-sign: %s: %zu operations captured", label, n);
		r = submit(rs, index, label, journal, st->pending);
		if (r == 0) {
			st->done = false;
			r = rom_state_save(&rs->st);
		}
		if (r < 0)
			return r;
		cli_info("rom-sign: %s: request %s submitted to the %s authority", label, st->pending, rd->authority);
		rs->requests++;
		rs->operations += n;
		asked++;
		r = wait_apply(rs, label, st);
		if (r < 0)
			return r;
	}
	cli_info("rom-sign: %s: done, every operation answered by a signature (%zu requests in all)", label,
		 st->nrequests);
	if (!st->done) {
		st->done = true;
		r = rom_state_save(&rs->st);
	}
	return r;
}

/* The state folder, its subfolders, and a lock: two rom-signs on one
 * folder would submit the same round twice. */
static int prepare_dir(struct rom_sign *rs, const char *dir, int *lock_fd)
{
	char path[PATH_MAX + 32];
	int r;

	r = rombsr_mkdir_p(dir, 0755);
	if (r == 0 && realpath(dir, rs->dir) == NULL)
		r = rombsr_error(ROMBSR_EIO, "cannot resolve %s: %s", dir, strerror(errno));
	if (r == 0)
		r = rombsr_path_format(path, sizeof(path), "%s/work", rs->dir);
	if (r == 0)
		r = rombsr_mkdir_p(path, 0755);
	if (r == 0)
		r = rombsr_path_format(path, sizeof(path), "%s/logs", rs->dir);
	if (r == 0)
		r = rombsr_mkdir_p(path, 0755);
	if (r == 0)
		r = rombsr_path_format(rs->sigs, sizeof(rs->sigs), "%s/signatures.json", rs->dir);
	if (r == 0)
		r = rombsr_path_format(path, sizeof(path), "%s/lock", rs->dir);
	if (r < 0)
		return r;
	*lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (*lock_fd < 0)
		return rombsr_error(ROMBSR_EIO, "cannot open %s: %s", path, strerror(errno));
	if (flock(*lock_fd, LOCK_EX | LOCK_NB) != 0)
		return rombsr_error(errno == EWOULDBLOCK ? ROMBSR_EEXISTS : ROMBSR_EIO,
				    "another rom-sign works in %s (lock %s)", rs->dir, path);
	return 0;
}

static int resolve_bundle(struct rom_sign *rs, const char *option)
{
	const char *given = option ? option : rs->plan.bundle;
	char real[PATH_MAX];

	if (given == NULL)
		return rombsr_error(ROMBSR_EINVAL, "no public bundle: give --bundle DIR or the plan's \"bundle\"");
	if (realpath(given, real) == NULL)
		return rombsr_error(ROMBSR_ENOTFOUND, "bundle %s: %s", given, strerror(errno));
	rs->bundle = strdup(real);
	return rs->bundle ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");
}

static int run_all(struct rom_sign *rs)
{
	double t0 = now_seconds(), t1;
	int r = 0;

	for (size_t i = 0; r == 0 && i < rs->plan.nrounds; i++)
		r = run_round(rs, i);
	if (r == 0 && rs->plan.nverify > 0) {
		t1 = now_seconds();
		cli_info("rom-sign: verifying: %zu steps", rs->plan.nverify);
		r = run_steps(rs, "verify", "verify", rs->plan.verify, rs->plan.nverify, NULL, &rs->t_verify);
		/* The ecosystem's verifiers refusing what was signed. */
		if (r < 0)
			r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "the signed ROM does not verify");
		rs->t_verify = now_seconds() - t1;
	}
	if (r == 0)
		printf("rom-sign: %zu rounds done, %zu requests this run (%zu operations); steps %.2f s, submit %.2f s, "
		       "waiting and apply %.2f s, verify %.2f s, total %.2f s\n",
		       rs->plan.nrounds, rs->requests, rs->operations, rs->t_steps, rs->t_submit, rs->t_wait,
		       rs->t_verify, now_seconds() - t0);
	return r;
}

int cmd_rom_sign(struct cli_context *ctx, int argc, char **argv)
{
	const char *plan = NULL, *state = NULL, *bundle = NULL;
	struct rom_sign rs;
	int lock_fd = -1, r;
	ssize_t n;

	memset(&rs, 0, sizeof(rs));
	rs.ctx = ctx;
	r = parse_args(argc, argv, &plan, &state, &bundle, &rs.timeout);
	if (r < 0)
		return r;
	n = readlink("/proc/self/exe", rs.self, sizeof(rs.self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(rs.self) - 1)
		return rombsr_error(ROMBSR_EIO, "cannot find this program (/proc/self/exe)");
	rs.self[n] = '\0';
	r = rom_plan_load(plan, &rs.plan);
	if (r == 0)
		r = resolve_bundle(&rs, bundle);
	if (r == 0)
		r = prepare_dir(&rs, state, &lock_fd);
	if (r == 0)
		r = rom_state_load(rs.dir, &rs.st);
	if (r == 0) {
		cli_info("rom-sign: plan %s: %zu rounds, product %s, build %s; state in %s", plan, rs.plan.nrounds,
			 rs.plan.product, rs.plan.build_id, rs.dir);
		r = run_all(&rs);
	}
	rom_state_free(&rs.st);
	rom_plan_free(&rs.plan);
	free(rs.bundle);
	if (lock_fd >= 0)
		close(lock_fd);
	return r;
}
