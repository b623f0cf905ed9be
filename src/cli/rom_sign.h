/* rombsr rom-sign (docs/rom-sign.md): the plan it follows, the record it
 * keeps in its state folder, and the child processes it runs. Shared by
 * cmd_rom_sign.c, rom_plan.c, rom_state.c and rom_spawn.c. */
#ifndef ROMBSR_CLI_ROM_SIGN_H
#define ROMBSR_CLI_ROM_SIGN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Limits of the plan, version 1 (documented in docs/rom-sign.md). */
#define ROM_PLAN_FILE_MAX (4u * 1024 * 1024)
#define ROM_PLAN_ROUNDS_MAX 16 /* a request's round number is at most 16 */
#define ROM_PLAN_STEPS_MAX 4096
#define ROM_PLAN_ARGV_MAX 256
#define ROM_PLAN_ARTIFACTS_MAX 256
#define ROM_PLAN_ENV_MAX 64
#define ROM_PLAN_STRING_MAX 4096
#define ROM_PLAN_NAME_MAX 64
#define ROM_PLAN_REQUESTS_DEFAULT 3
#define ROM_PLAN_REQUESTS_MAX 16

struct rom_step {
	const char *name;
	char *dir;            /* absolute (owned) */
	const char **argv;    /* NULL-terminated (owned array, strings in the plan's JSON) */
};

struct rom_round {
	const char *name;
	const char *authority;  /* "release" or "manifest" */
	const char **artifacts; /* relative to the plan's folder of work */
	size_t nartifacts;
	struct rom_step *steps;
	size_t nsteps;
};

struct rom_plan {
	json_t *root;           /* owns every string below that is const */
	const char *product, *build_id, *source_commit, *build_type;
	char *bundle;           /* absolute, or NULL if the plan names none */
	char *dir;              /* absolute: the base of every relative path */
	char **env;             /* "NAME=value", NULL-terminated (owned) */
	size_t nenv;
	unsigned max_requests;  /* per round */
	struct rom_round *rounds;
	size_t nrounds;
	struct rom_step *verify;
	size_t nverify;
};

/* Reads and checks the plan strictly: unknown fields, wrong types, missing
 * fields, duplicate names and bad values are refused with the field's
 * path. */
int rom_plan_load(const char *path, struct rom_plan *plan);
void rom_plan_free(struct rom_plan *plan);

/* The record of one round in the state folder. */
struct rom_round_state {
	char name[ROM_PLAN_NAME_MAX + 1];
	char **requests;     /* applied, in order (owned) */
	size_t nrequests;
	char pending[33];    /* submitted, not yet applied; "" if none */
	bool done;
};

struct rom_state {
	char *dir;           /* absolute */
	struct rom_round_state *rounds;
	size_t nrounds;
};

/* Loads DIR/state.json (an absent file is an empty state). */
int rom_state_load(const char *dir, struct rom_state *st);
/* The round named name, added if absent. */
int rom_state_round(struct rom_state *st, const char *name, struct rom_round_state **out);
int rom_state_add_request(struct rom_round_state *rs, const char *id);
/* Writes DIR/state.json atomically. */
int rom_state_save(const struct rom_state *st);
void rom_state_free(struct rom_state *st);

/* How a child ended, for messages: "exited with status 2", "killed by
 * signal 9 (Killed)". */
void rom_describe_status(int status, char *out, size_t size);

struct rom_child {
	const char *const *argv;  /* argv[0] is looked up in PATH unless it has a '/' */
	char *const *envp;        /* NULL: this process's environment */
	const char *dir;          /* NULL: the current folder */
	int out_fd, err_fd;       /* where its stdout and stderr go (-1: /dev/null) */
};

/* Runs a child with fork and execve (never a shell) and waits for it;
 * *status is its wait status. The child dies with rom-sign
 * (PR_SET_PDEATHSIG). Fails only if it could not be started. */
int rom_run(const struct rom_child *c, int *status);

/* The environment of a step: this process's, without any
 * ROMBSR_CAPTURE_CONFIG or plan variable, then the plan's variables and,
 * if capture_config is not NULL, ROMBSR_CAPTURE_CONFIG. Free with
 * rom_env_free. */
int rom_env_make(const struct rom_plan *plan, const char *capture_config, char ***out);
void rom_env_free(char **env);

#endif
